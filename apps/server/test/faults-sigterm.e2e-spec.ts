import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { ADMIN_TOKEN, createTestDatabase } from './helpers.js';
import { ServerProcess } from '@aviary/test-support';
import {
  adminCall,
  metricValue,
  nodeSdkEntry,
  PrivateRedis,
  RoundRobinProxy,
  serverBuild,
  sleep,
  waitFor,
} from './real-processes.js';

/**
 * One of two instances gets SIGTERM under load. Node SDK clients (@aviary/node, loaded from its
 * build: the server itself never imports it) and admin writers reach the instances through a
 * round-robin balancer that, like HAProxy, sends a refused connection to the other instance.
 * The terminated instance drains and exits 0; every client ends on the latest revision.
 */

interface SdkClient {
  ready(): Promise<void>;
  readonly revision: number | undefined;
  close(): Promise<void>;
}
type CreateClient = (options: Record<string, unknown>) => SdkClient;

const CLIENTS = 20;
const WRITERS = 8;
const silent = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };

let redis: PrivateRedis;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let a: ServerProcess;
let b: ServerProcess;
let proxy: RoundRobinProxy;
let sdkKey: string;
let createClient: CreateClient;
const clients: SdkClient[] = [];

beforeAll(async () => {
  const entry = join(serverBuild(), 'apps/server/src/main.js');
  ({ createClient } = (await import(pathToFileURL(nodeSdkEntry()).href)) as { createClient: CreateClient });
  [redis, db] = await Promise.all([PrivateRedis.create(), createTestDatabase()]);
  const env = { DATABASE_URL: db.url, REDIS_URL: redis.url, AVIARY_ADMIN_TOKEN: ADMIN_TOKEN, LOG_LEVEL: 'log', AVIARY_SHUTDOWN_TIMEOUT_MS: '8000' };
  a = await ServerProcess.start({ name: 'a', entry, env });
  b = await ServerProcess.start({ name: 'b', entry, env });
  proxy = await RoundRobinProxy.create([a.url, b.url]);
  for (let i = 0; i < WRITERS; i++) expect((await adminCall(proxy.url, ADMIN_TOKEN, 'POST', '/api/v1/flags', { key: `w${i}` })).status).toBe(201);
  sdkKey = (await adminCall(proxy.url, ADMIN_TOKEN, 'POST', '/api/v1/api-keys', { name: 'sdk', kind: 'server', environment: 'production' })).body.secret as string;
}, 120_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await proxy?.close();
  await Promise.all([a?.kill(), b?.kill()]);
  await redis?.destroy();
  await db?.drop();
});

describe('SIGTERM to one of two instances under load', () => {
  it('drains and exits 0 while every SDK client ends on the latest revision', async () => {
    onTestFailed(() => console.log(`A:\n${a.output.slice(-25).join('\n')}\nB:\n${b.output.slice(-15).join('\n')}`));
    for (let i = 0; i < CLIENTS; i++) {
      clients.push(createClient({ url: proxy.url, sdkKey, initialReconnectDelayMs: 100, maxReconnectDelayMs: 1000, sendMetrics: false, logger: silent }));
    }
    await Promise.all(clients.map((c) => c.ready()));
    const streamsOn = async (server: ServerProcess) => metricValue(await (await fetch(`${server.url}/metrics`)).text(), 'aviary_streams_open');
    await waitFor('every client streaming', async () => (await streamsOn(a)) + (await streamsOn(b)) === CLIENTS);
    const onA = await streamsOn(a);
    expect(onA).toBeGreaterThan(0);

    const statuses = new Map<number, number>();
    let networkErrors = 0;
    let running = true;
    const writers = Array.from({ length: WRITERS }, async (_, w) => {
      for (let n = 1; running; n++) {
        try {
          const res = await adminCall(proxy.url, ADMIN_TOKEN, 'PUT', `/api/v1/environments/production/flags/w${w}/rollout`, { percentage: n % 100 });
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        } catch {
          // A request racing the listener's close on an idle connection: a client (or HAProxy's
          // retry-on conn-failure) sends it again. Requests the server has read always finish.
          networkErrors++;
        }
      }
    });

    await sleep(1500);
    const exit = await a.stop('SIGTERM');
    await sleep(1500);
    running = false;
    await Promise.all(writers);

    expect(exit.code).toBe(0);
    expect(exit.ms).toBeLessThan(8000);
    const drainLog = a.logs().find((l) => String(l.msg).startsWith('draining'));
    expect(drainLog).toBeDefined();
    expect(a.logs().some((l) => l.msg === 'shut down')).toBe(true);

    // Writes: answered 200 throughout (in-flight ones on A finished), never a 5xx.
    expect([...statuses.keys()]).toEqual([200]);
    expect(statuses.get(200)).toBeGreaterThan(WRITERS * 5);
    expect(networkErrors).toBeLessThanOrEqual(3);

    const revision = (await adminCall(b.url, ADMIN_TOKEN, 'GET', '/api/v1/environments/production')).body.revision as number;
    await waitFor(`every client at revision ${revision}`, () => clients.every((c) => c.revision === revision), 10_000);
    expect(await streamsOn(b)).toBe(CLIENTS);
    expect(b.running).toBe(true);
    console.log(
      `SIGTERM: A (${onA} of ${CLIENTS} streams) exited ${exit.code} after ${exit.ms} ms; ${statuses.get(200)} writes answered 200, ` +
        `${networkErrors} requests cut by the listener's close; all ${CLIENTS} clients at revision ${revision}`,
    );
  });
});
