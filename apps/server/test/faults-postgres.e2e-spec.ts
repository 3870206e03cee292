import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { ADMIN_TOKEN } from './helpers.js';
import { ServerProcess } from '@aviary/test-support';
import { adminCall, metricValue, PrivatePostgres, serverBuild, sleep, SseReader, waitFor } from './real-processes.js';

/**
 * Postgres restarted under traffic, with the built server as a real process on its own Postgres
 * cluster: SDK reads keep being served from memory, admin writes answer 503 with a clear message,
 * and everything recovers without restarting the server.
 */

let pg: PrivatePostgres;
let server: ServerProcess;
let sdkKey: string;

beforeAll(async () => {
  const entry = join(serverBuild(), 'apps/server/src/main.js');
  pg = await PrivatePostgres.create();
  server = await ServerProcess.start({ name: 'server', entry, env: {
    DATABASE_URL: pg.url,
    AVIARY_ADMIN_TOKEN: ADMIN_TOKEN,
    AVIARY_REVISION_CHECK_MS: '500',
    AVIARY_DB_POOL_SIZE: '4',
    LOG_LEVEL: 'warn',
  } });
  expect((await adminCall(server.url, ADMIN_TOKEN, 'POST', '/api/v1/flags', { key: 'outage' })).status).toBe(201);
  const key = await adminCall(server.url, ADMIN_TOKEN, 'POST', '/api/v1/api-keys', { name: 'sdk', kind: 'server', environment: 'production' });
  sdkKey = key.body.secret as string;
}, 120_000);

afterAll(async () => {
  await server?.kill();
  await pg?.destroy();
});

describe('Postgres restarted under traffic', () => {
  it('serves SDKs from memory, answers admin writes 503, and recovers without a server restart', async () => {
    onTestFailed(() => console.log(server.output.slice(-40).join('\n')));
    const stream = await SseReader.open(server.url, sdkKey);
    const sdk: number[] = [];
    const writes: Array<{ status: number; message?: string; retryAfter?: string | null; at: number }> = [];
    let percentage = 0;
    let running = true;
    const sdkLoop = (async () => {
      while (running) {
        const res = await fetch(`${server.url}/sdk/v1/ruleset`, { headers: { Authorization: `Bearer ${sdkKey}` } });
        await res.arrayBuffer();
        sdk.push(res.status);
        await sleep(20);
      }
    })();
    const writeLoop = (async () => {
      while (running) {
        const res = await adminCall(server.url, ADMIN_TOKEN, 'PUT', '/api/v1/environments/production/flags/outage/rollout', { percentage: ++percentage % 100 });
        writes.push({ status: res.status, message: res.body.message as string | undefined, retryAfter: res.headers.get('retry-after'), at: Date.now() });
        await sleep(50);
      }
    })();

    await sleep(1000);
    const before = stream.revision;
    expect(before).toBeGreaterThan(1);

    await pg.stop('fast');
    const outageStarted = Date.now();
    const atStop = stream.revision;
    await sleep(800);
    const ready = await fetch(`${server.url}/readyz`);
    const readyBody = (await ready.json()) as { message: string; errors: Record<string, { status: string }> };
    expect(ready.status).toBe(503);
    expect(readyBody.message).toMatch(/postgres is unreachable/);
    expect(readyBody.errors.postgres!.status).toBe('down');
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    await sleep(1500);
    const duringOutage = stream.revision;
    await pg.start();
    const outageEnded = Date.now();

    // Writes succeed again, with no restart of the server.
    await waitFor('a write after the restart', () => writes.some((w) => w.at > outageEnded && w.status === 200), 20_000);
    await sleep(700);
    running = false;
    await Promise.all([sdkLoop, writeLoop]);

    // SDK reads never failed.
    expect(sdk.length).toBeGreaterThan(20);
    expect(sdk.filter((s) => s !== 200)).toEqual([]);
    // Writes: 200 before and after, 503 with a clear message during the outage, nothing else.
    const failed = writes.filter((w) => w.status !== 200);
    expect(failed.length).toBeGreaterThan(0);
    for (const w of failed) {
      expect(w.status).toBe(503);
      expect(w.message).toMatch(/database is unreachable/);
      expect(w.retryAfter).toBe('5');
      expect(w.at).toBeGreaterThanOrEqual(outageStarted);
    }
    // The stream stayed open through the outage and carries the writes made after it.
    expect(stream.ended).toBe(false);
    // Nothing commits while Postgres is down (one write may have been in flight when it stopped).
    expect(duringOutage - atStop).toBeLessThanOrEqual(1);
    const env = await adminCall(server.url, ADMIN_TOKEN, 'GET', '/api/v1/environments/production');
    const revision = env.body.revision as number;
    await waitFor('the stream to reach the last revision', () => stream.revision === revision, 5000);
    const ruleset = (await (await fetch(`${server.url}/sdk/v1/ruleset`, { headers: { Authorization: `Bearer ${sdkKey}` } })).json()) as { revision: number };
    expect(ruleset.revision).toBe(revision);

    await waitFor('readiness', async () => (await fetch(`${server.url}/readyz`)).status === 200, 10_000);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metricValue(metrics, 'aviary_postgres_errors_total')).toBeGreaterThan(0);
    expect(server.running).toBe(true);
    stream.close();
  });
});
