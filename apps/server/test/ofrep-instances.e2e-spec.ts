import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { ADMIN_TOKEN, createTestDatabase } from './helpers.js';
import { assertOfrep } from './ofrep/schema.js';
import { ServerProcess } from '@aviary/test-support';
import { adminCall, PrivateRedis, serverBuild, sleep, SseReader, waitFor } from './real-processes.js';

/**
 * OFREP's refetch events across instances (ADR-0008, docs/ofrep.md "Event stream"): two real
 * server processes on one Postgres and one Redis, the stream held on B, the changes committed on A.
 * B's revision check is far slower than the bound, so only the bus can deliver.
 */

describe('OFREP event stream on instance B, changes on instance A', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let redis: PrivateRedis;
  let a: ServerProcess;
  let b: ServerProcess;
  let clientKey: string;

  const call = (url: string, method: string, path: string, body?: unknown) => adminCall(url, ADMIN_TOKEN, method, path, body);
  const bulk = async (url: string, query = '') => {
    const res = await fetch(`${url}/ofrep/v1/evaluate/flags${query}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-API-Key': clientKey },
      body: JSON.stringify({ context: { targetingKey: 'user-1' } }),
    });
    return { status: res.status, body: (await res.json()) as { flags: Array<{ key: string; value?: unknown; reason: string }>; eventStreams: Array<{ endpoint: { requestUri: string } }> } };
  };

  beforeAll(async () => {
    const entry = join(serverBuild(), 'apps/server/src/main.js');
    [db, redis] = await Promise.all([createTestDatabase(), PrivateRedis.create()]);
    const env = { DATABASE_URL: db.url, REDIS_URL: redis.url, AVIARY_ADMIN_TOKEN: ADMIN_TOKEN, AVIARY_REVISION_CHECK_MS: '30000', LOG_LEVEL: 'log' };
    // One after the other: the first runs the migrations.
    a = await ServerProcess.start({ name: 'a', entry, env });
    b = await ServerProcess.start({ name: 'b', entry, env });
    expect((await call(a.url, 'POST', '/api/v1/flags', { key: 'banner', clientVisible: true })).status).toBe(201);
    expect((await call(a.url, 'PUT', '/api/v1/environments/production/flags/banner', { enabled: true })).status).toBe(200);
    expect((await call(a.url, 'POST', '/api/v1/flags', { key: 'internal' })).status).toBe(201);
    clientKey = (await call(a.url, 'POST', '/api/v1/api-keys', { name: 'web', kind: 'client', environment: 'production' })).body.secret as string;
  }, 300_000);

  afterAll(async () => {
    await Promise.all([a?.kill(), b?.kill()]);
    await redis?.destroy();
    await db?.drop();
  });

  it('a kill on A sends refetchEvaluation on B; a change to a server-only flag sends none; the refetch at that etag sees the kill', async () => {
    onTestFailed(() => console.log(`A:\n${a.output.slice(-20).join('\n')}\nB:\n${b.output.slice(-20).join('\n')}`));
    const first = await bulk(b.url);
    expect(first.status).toBe(200);
    assertOfrep('bulkEvaluationSuccess', first.body);
    expect(first.body.flags).toEqual([expect.objectContaining({ key: 'banner', value: true, reason: 'STATIC' })]);
    const requestUri = first.body.eventStreams[0]!.endpoint.requestUri;
    const [path, query] = requestUri.split('?');
    // The URL the bulk answer names (the web provider's EventSource sends it alone: test/ofrep-web).
    const stream = await SseReader.open(b.url, clientKey, undefined, query, path);
    expect(stream.status).toBe(200);
    await sleep(200);
    expect(stream.events).toEqual([]);

    const hidden = await call(a.url, 'PUT', '/api/v1/environments/production/flags/internal', { enabled: true });
    expect(hidden.status).toBe(200);
    const killedAt = Date.now();
    const kill = await call(a.url, 'POST', '/api/v1/environments/production/flags/banner/kill', { reason: 'incident' });
    expect(kill.status).toBe(200);
    const revision = kill.body.revision as number;
    await waitFor('the refetch event on B', () => stream.events.length > 0, 5000, 5);
    const ms = Date.now() - killedAt;
    console.log(`OFREP: kill on A → refetchEvaluation on B's stream in ${ms} ms`);
    expect(ms).toBeLessThan(2000);
    await sleep(200);
    // Only the kill: the server-only flag's change (one revision earlier) cannot affect a client key.
    expect(stream.events).toEqual([{ id: revision, event: 'message', data: JSON.stringify({ type: 'refetchEvaluation', etag: String(revision) }) }]);
    expect(JSON.parse(stream.events[0]!.data)).toMatchObject({ type: 'refetchEvaluation' });

    const refetched = await bulk(b.url, `?flagConfigEtag=${revision}`);
    expect(refetched.body.flags).toEqual([expect.objectContaining({ key: 'banner', value: false, reason: 'DISABLED' })]);
    stream.close();
  });

  it('a stream resumed with an older Last-Event-ID is told to refetch at once', async () => {
    const env = (await call(a.url, 'GET', '/api/v1/environments/production')).body.revision as number;
    const stream = await SseReader.open(b.url, clientKey, env - 1, undefined, '/sdk/v1/ofrep-stream');
    await waitFor('the catch-up refetch event', () => stream.events.length > 0, 3000, 5);
    expect(stream.events[0]).toMatchObject({ id: env, event: 'message' });
    stream.close();
  });
});
