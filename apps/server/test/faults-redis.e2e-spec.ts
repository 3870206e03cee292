import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { ADMIN_TOKEN, createTestDatabase } from './helpers.js';
import { ServerProcess } from '@aviary/test-support';
import { adminCall, metricValue, PrivateRedis, serverBuild, SseReader, waitFor } from './real-processes.js';

/**
 * Redis restarted between two real server instances: writes keep succeeding, changes still reach
 * the other instance through the revision check, and the fan-out resumes when Redis is back.
 */

const REVISION_CHECK_MS = 3000;
let redis: PrivateRedis;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let a: ServerProcess;
let b: ServerProcess;
let sdkKey: string;
let percentage = 0;

/** A write on A, and how long until B's stream carries it. */
async function propagation(stream: SseReader): Promise<number> {
  const started = Date.now();
  const res = await adminCall(a.url, ADMIN_TOKEN, 'PUT', '/api/v1/environments/production/flags/fanout/rollout', { percentage: ++percentage % 100 });
  expect(res.status).toBe(200);
  const revision = res.body.revision as number;
  await waitFor(`revision ${revision} on B`, () => stream.revision >= revision, REVISION_CHECK_MS * 3, 10);
  return Date.now() - started;
}

beforeAll(async () => {
  const entry = join(serverBuild(), 'apps/server/src/main.js');
  [redis, db] = await Promise.all([PrivateRedis.create(), createTestDatabase()]);
  const env = { DATABASE_URL: db.url, REDIS_URL: redis.url, AVIARY_ADMIN_TOKEN: ADMIN_TOKEN, AVIARY_REVISION_CHECK_MS: String(REVISION_CHECK_MS), LOG_LEVEL: 'warn' };
  a = await ServerProcess.start({ name: 'a', entry, env });
  b = await ServerProcess.start({ name: 'b', entry, env });
  expect((await adminCall(a.url, ADMIN_TOKEN, 'POST', '/api/v1/flags', { key: 'fanout' })).status).toBe(201);
  sdkKey = (await adminCall(a.url, ADMIN_TOKEN, 'POST', '/api/v1/api-keys', { name: 'sdk', kind: 'server', environment: 'production' })).body.secret as string;
}, 120_000);

afterAll(async () => {
  await Promise.all([a?.kill(), b?.kill()]);
  await redis?.destroy();
  await db?.drop();
});

describe('Redis restarted', () => {
  it('falls back to the revision check while Redis is down and resumes the fan-out when it returns', async () => {
    onTestFailed(() => console.log(`A:\n${a.output.slice(-30).join('\n')}\nB:\n${b.output.slice(-30).join('\n')}`));
    const stream = await SseReader.open(b.url, sdkKey);
    await waitFor('the first ruleset on B', () => stream.revision > 0);

    // With Redis: well under the revision check interval.
    const before = [await propagation(stream), await propagation(stream), await propagation(stream)];
    expect(Math.max(...before)).toBeLessThan(1000);

    await redis.stop();
    // Degraded, not unready: a balancer keeps the instances while updates go through the revision check.
    await waitFor('A to report Redis down', async () => {
      const res = await fetch(`${a.url}/readyz`);
      return res.status === 200 && /redis is unreachable/.test(String(((await res.json()) as { degraded?: string }).degraded));
    });
    // Writes keep working; the change reaches B through the revision check.
    const during = [await propagation(stream), await propagation(stream)];
    expect(Math.max(...during)).toBeLessThan(REVISION_CHECK_MS * 2 + 1000);
    const down = await (await fetch(`${b.url}/metrics`)).text();
    expect(metricValue(down, 'aviary_redis_up')).toBe(0);

    await redis.start();
    const healthy = async (url: string) => {
      const res = await fetch(`${url}/readyz`);
      return res.status === 200 && ((await res.json()) as { degraded?: string }).degraded === undefined;
    };
    await waitFor('both healthy again', async () => (await healthy(a.url)) && (await healthy(b.url)), 20_000);
    // A fresh subscription may take a moment after readiness: then the fan-out is fast again.
    await propagation(stream);
    const after = [await propagation(stream), await propagation(stream), await propagation(stream)];
    expect(Math.max(...after)).toBeLessThan(1000);

    const revision = (await adminCall(a.url, ADMIN_TOKEN, 'GET', '/api/v1/environments/production')).body.revision as number;
    expect(stream.revision).toBe(revision);
    expect(stream.ended).toBe(false);
    const up = await (await fetch(`${b.url}/metrics`)).text();
    expect(metricValue(up, 'aviary_redis_up')).toBe(1);
    expect(metricValue(up, 'aviary_redis_errors_total')).toBeGreaterThan(0);
    stream.close();
  });
});
