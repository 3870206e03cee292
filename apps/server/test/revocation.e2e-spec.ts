import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { ADMIN_TOKEN, createTestDatabase } from './helpers.js';
import { ServerProcess } from '@aviary/test-support';
import { adminCall, PrivateRedis, serverBuild, sleep, SseReader, waitFor } from './real-processes.js';

/**
 * Revoking a key ends its open streams on every instance (docs/security.md "Revocation"): two
 * real server processes on one database; streams of a server key and a client key open on B, both
 * keys revoked on A, changes made on A after. With Redis the revocation message ends them within a
 * second; without it (each instance has its own in-process bus, so the message never reaches B)
 * B's credential check does, within its AVIARY_REVISION_CHECK_MS. Either way no change made after
 * the revocation reaches them, and B refuses the keys from then on.
 */

const CHANGES_AFTER = 24;

describe.each([
  // A revision check far longer than the bound: only the message can meet it.
  { variant: 'with Redis: the revocation message', redis: true, revisionCheckMs: 20_000, boundMs: 1000 },
  // The bound documented in docs/security.md: the check interval, plus its query.
  { variant: 'without Redis: the credential check', redis: false, revisionCheckMs: 1000, boundMs: 1000 + 500 },
])('revoking keys on instance A, $variant', ({ redis: withRedis, revisionCheckMs, boundMs }) => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let redis: PrivateRedis | undefined;
  let a: ServerProcess;
  let b: ServerProcess;
  let percentage = 0;

  const write = async () => {
    const res = await adminCall(a.url, ADMIN_TOKEN, 'PUT', '/api/v1/environments/production/flags/revocable/rollout', { percentage: ++percentage % 100 });
    expect(res.status).toBe(200);
    return res.body.revision as number;
  };
  const createKey = async (kind: 'server' | 'client') => {
    const res = await adminCall(a.url, ADMIN_TOKEN, 'POST', '/api/v1/api-keys', { name: `${kind} sdk`, kind, environment: 'production' });
    expect(res.status).toBe(201);
    return { id: res.body.id as string, secret: res.body.secret as string };
  };
  const rulesetStatus = async (url: string, secret: string, query = '') =>
    (await fetch(`${url}/sdk/v1/ruleset${query}`, { headers: { Authorization: `Bearer ${secret}` } })).status;

  beforeAll(async () => {
    const entry = join(serverBuild(), 'apps/server/src/main.js');
    [db, redis] = await Promise.all([createTestDatabase(), withRedis ? PrivateRedis.create() : undefined]);
    const env = {
      DATABASE_URL: db.url,
      REDIS_URL: redis?.url,
      AVIARY_ADMIN_TOKEN: ADMIN_TOKEN,
      AVIARY_REVISION_CHECK_MS: String(revisionCheckMs),
      LOG_LEVEL: 'log',
    };
    a = await ServerProcess.start({ name: 'a', entry, env });
    b = await ServerProcess.start({ name: 'b', entry, env });
    expect((await adminCall(a.url, ADMIN_TOKEN, 'POST', '/api/v1/flags', { key: 'revocable', clientVisible: true })).status).toBe(201);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([a?.kill(), b?.kill()]);
    await redis?.destroy();
    await db?.drop();
  });

  it(`ends the streams of both keys on instance B within ${boundMs} ms, and nothing made after the revocation reaches them`, async () => {
    onTestFailed(() => console.log(`A:\n${a.output.slice(-30).join('\n')}\nB:\n${b.output.slice(-30).join('\n')}`));
    const serverKey = await createKey('server');
    const clientKey = await createKey('client');
    const streams = {
      server: await SseReader.open(b.url, serverKey.secret),
      client: await SseReader.open(b.url, clientKey.secret, undefined, 'key=user-1'),
    };
    // Both streams are live on B: a change made on A reaches them.
    const before = await write();
    await waitFor('both streams on B to carry a change made on A', () => streams.server.revision >= before && streams.client.revision >= before, revisionCheckMs * 3);
    // B has the keys in its cache now.
    expect(await rulesetStatus(b.url, serverKey.secret)).toBe(200);
    expect(await rulesetStatus(b.url, clientKey.secret, '?key=user-1')).toBe(200);

    // From when each DELETE was sent: the revocation commits, and is published, before it answers.
    const revokedAt: Record<'server' | 'client', number> = { server: 0, client: 0 };
    for (const [kind, key] of [['server', serverKey], ['client', clientKey]] as const) {
      revokedAt[kind] = Date.now();
      const res = await adminCall(a.url, ADMIN_TOKEN, 'DELETE', `/api/v1/api-keys/${key.id}`);
      expect(res.status).toBe(204);
    }
    const atRevocation = (await adminCall(a.url, ADMIN_TOKEN, 'GET', '/api/v1/environments/production')).body.revision as number;

    // Changes keep coming after the revocation, while B is watched.
    const writes = (async () => {
      const revisions: number[] = [];
      for (let i = 0; i < CHANGES_AFTER; i++) {
        revisions.push(await write());
        await sleep(50);
      }
      return revisions;
    })();
    // New requests with the keys on B: refused once B has heard (its cache holds both keys).
    const refusedAt = waitFor('B to refuse both keys', async () => {
      const statuses = await Promise.all([rulesetStatus(b.url, serverKey.secret), rulesetStatus(b.url, clientKey.secret, '?key=user-1')]);
      return statuses.every((s) => s === 401) ? Date.now() : undefined;
    }, boundMs + 5000, 20);
    await waitFor('both streams on B to end', () => streams.server.ended && streams.client.ended, boundMs + 5000, 5);
    const refused = await refusedAt;
    const after = await writes;

    const endedIn = { server: streams.server.endedAt! - revokedAt.server, client: streams.client.endedAt! - revokedAt.client };
    console.log(`streams ended ${endedIn.server} ms (server key) and ${endedIn.client} ms (client key) after the revocation; B refused both keys after ${refused - revokedAt.client} ms`);
    expect(endedIn.server).toBeLessThan(boundMs);
    expect(endedIn.client).toBeLessThan(boundMs);
    expect(refused - revokedAt.client).toBeLessThan(boundMs + 500);

    // The changes made after the revocation happened, and none reached either stream.
    expect(after).toHaveLength(CHANGES_AFTER);
    expect(Math.min(...after)).toBeGreaterThan(atRevocation);
    for (const stream of [streams.server, streams.client]) {
      expect(stream.events.filter((e) => e.id !== undefined && e.id > atRevocation)).toEqual([]);
    }
    // B stays reachable for other keys, and a reconnect with a revoked key is refused.
    const again = await SseReader.open(b.url, serverKey.secret);
    expect(again.status).toBe(401);
    again.close();
    const other = await createKey('server');
    expect(await rulesetStatus(b.url, other.secret)).toBe(200);
  });
});
