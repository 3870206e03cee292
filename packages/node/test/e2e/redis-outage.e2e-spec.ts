import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type AviaryClient, type ChangeEvent } from '../../src/index.js';
import {
  Admin,
  startServer,
  createDatabase,
  memoryLogger,
  now,
  recordingFetch,
  startRedis,
  waitFor,
  type StreamConnection,
  type TestDatabase,
  type TestRedis,
  type ServerProcess,
} from './support/harness.js';

// A Redis of this test's own, stopped and started again. Writes go through A; the clients stream
// from B, so everything they hear crossed from A to B over Redis or through B's revision check.
let db: TestDatabase;
let redis: TestRedis;
let a: ServerProcess;
let b: ServerProcess;
let admin: Admin;
let sdkKey: string;
let client: AviaryClient;
const changes: Array<ChangeEvent & { at: number }> = [];
const wire: StreamConnection[] = [];

const FAST_CHECK_MS = 300;
const SLOW_CHECK_MS = 60_000;

beforeAll(async () => {
  db = await createDatabase();
  redis = await startRedis();
  a = await startServer({ name: 'A', databaseUrl: db.url, redisUrl: redis.url, env: { AVIARY_REVISION_CHECK_MS: String(FAST_CHECK_MS) } });
  b = await startServer({ name: 'B', databaseUrl: db.url, redisUrl: redis.url, env: { AVIARY_REVISION_CHECK_MS: String(FAST_CHECK_MS) } });
  admin = new Admin(a.url);
  sdkKey = await admin.createKey('server');
  await admin.createFlag('search-v2');
  await admin.configure('search-v2', { enabled: true, rules: [{ id: 'all', conditions: [], rollout: { percentage: 100 } }] });
  client = createClient({ url: b.url, sdkKey, logger: memoryLogger(), sendMetrics: false, fetch: recordingFetch(wire), initialReconnectDelayMs: 100, maxReconnectDelayMs: 400 });
  client.on('change', (e) => changes.push({ ...e, at: now() }));
  await client.ready();
}, 60_000);

afterAll(async () => {
  await client?.close();
  await Promise.all([a?.kill(), b?.kill()]);
  await redis?.stop();
  await db?.drop();
});

const user = { key: 'user-1' };

describe('Redis outage', () => {
  it('with Redis up, a write through A reaches B\'s client', async () => {
    const revision = await admin.rollout('search-v2', 0);
    await waitFor('the change', () => client.revision === revision, 2_000);
    expect(client.isEnabled('search-v2', user)).toBe(false);
  });

  it('with Redis stopped, updates still converge through the revision check', async () => {
    const logFrom = b.output.length;
    await redis.stop();
    await b.waitForLog(/redis (publisher|subscriber): .*revision check/, 5_000, logFrom);

    const started = now();
    const first = await admin.rollout('search-v2', 100);
    const kill = await admin.kill('search-v2');
    await waitFor('the client to converge without Redis', () => client.revision === kill, 5 * FAST_CHECK_MS + 3_000);
    const tookMs = now() - started;
    console.log(`without Redis: converged in ${tookMs.toFixed(0)} ms (revision check every ${FAST_CHECK_MS} ms)`);
    expect(client.evaluate('search-v2', user)).toMatchObject({ enabled: false, reason: 'DISABLED' });
    // Both revisions arrived, each as its own event on the same stream: nothing was lost.
    expect(changes.filter((c) => c.revision >= first).map((c) => c.revision)).toEqual([first, kill]);
    expect(client.status).toBe('streaming');
  });

  it('when Redis returns, streaming fan-out resumes: a later change arrives far sooner than the revision check', async () => {
    // B restarts with a one-minute revision check (still without Redis), so from here only the
    // fan-out can bring a change to it within the test's bounds.
    const t0 = now();
    await b.stop();
    const t1 = now();
    const logFrom = b.output.length;
    await b.start({ AVIARY_REVISION_CHECK_MS: String(SLOW_CHECK_MS) });
    await waitFor('the client back on B', () => client.status === 'streaming', 5_000);
    await b.waitForLog(/redis (publisher|subscriber): .*revision check/, 5_000, logFrom);
    const t2 = now();

    const aFrom = a.output.length;
    await redis.start();
    await Promise.all([a.waitForLog(/redis is back/, 10_000, aFrom), b.waitForLog(/redis is back/, 10_000, logFrom)]);
    console.log(`B stop ${(t1 - t0).toFixed(0)} ms, start ${(t2 - t1).toFixed(0)} ms, redis back on both ${(now() - t2).toFixed(0)} ms`);
    // A's publishing connection lost Redis at the same moment as its subscriber and retries on the
    // same schedule; give it a moment to be ready too.
    await new Promise((resolve) => setTimeout(resolve, 500));

    const sent = now();
    const revision = await admin.revive('search-v2');
    await waitFor('the revive to reach B\'s client', () => client.revision === revision, 2_000);
    const tookMs = now() - sent;
    console.log(`after Redis returned: a change reached B's client ${tookMs.toFixed(1)} ms after the write was sent (revision check every ${SLOW_CHECK_MS} ms)`);
    expect(tookMs).toBeLessThan(1_000);
    expect(client.isEnabled('search-v2', user)).toBe(true);
  }, 40_000);

  it('the client saw every revision once and never needed a whole ruleset after its first', async () => {
    const last = await admin.revision();
    const events = wire.filter((c) => c.status === 200).flatMap((c) => c.events);
    expect(events.filter((e) => e.event === 'ruleset')).toHaveLength(1);
    const first = changes[0]!.revision;
    expect(changes.map((c) => c.revision)).toEqual(Array.from({ length: last - first + 1 }, (_, i) => first + i));
  });
});
