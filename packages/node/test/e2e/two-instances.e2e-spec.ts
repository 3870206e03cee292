import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type AviaryClient, type ChangeEvent, type KillEvent } from '../../src/index.js';
import { Admin, startServer, createDatabase, memoryLogger, now, startRedis, waitFor, type TestDatabase, type TestRedis, type ServerProcess } from './support/harness.js';

// Two instances on one Postgres and one Redis. The revision check is set to a minute, so within a
// test only the Redis fan-out can carry a write from one instance to the other.
let db: TestDatabase;
let redis: TestRedis;
let a: ServerProcess;
let b: ServerProcess;
let admin: Admin;
let sdkKey: string;

interface Watched {
  name: string;
  client: AviaryClient;
  changes: Array<ChangeEvent & { at: number }>;
  kills: Array<KillEvent & { at: number }>;
}
const clients: Watched[] = [];

function watch(name: string, url: string): Watched {
  const client = createClient({ url, sdkKey, logger: memoryLogger(), sendMetrics: false, initialReconnectDelayMs: 100, maxReconnectDelayMs: 500 });
  const watched: Watched = { name, client, changes: [], kills: [] };
  client.on('change', (e) => watched.changes.push({ ...e, at: now() }));
  client.on('kill', (e) => watched.kills.push({ ...e, at: now() }));
  clients.push(watched);
  return watched;
}

beforeAll(async () => {
  db = await createDatabase();
  redis = await startRedis();
  const env = { AVIARY_REVISION_CHECK_MS: '60000' };
  // One after the other: the first start installs the (already migrated) database.
  a = await startServer({ name: 'A', databaseUrl: db.url, redisUrl: redis.url, env });
  b = await startServer({ name: 'B', databaseUrl: db.url, redisUrl: redis.url, env });
  admin = new Admin(a.url);
  sdkKey = await admin.createKey('server');
  await admin.createFlag('new-checkout', { variants: [{ key: 'blue', weight: 1 }, { key: 'green', weight: 1 }] });
  for (let i = 0; i < 3; i++) watch(`A${i}`, a.url);
  for (let i = 0; i < 3; i++) watch(`B${i}`, b.url);
  await Promise.all(clients.map((w) => w.client.ready()));
}, 60_000);

afterAll(async () => {
  await Promise.all(clients.map((w) => w.client.close()));
  await Promise.all([a?.kill(), b?.kill()]);
  await redis?.stop();
  await db?.drop();
});

describe('two server instances sharing Postgres and Redis', () => {
  it('serves every client from its own instance, streaming, at the same revision', async () => {
    const revision = await admin.revision();
    for (const w of clients) {
      expect(w.client.initialized, w.name).toBe(true);
      expect(w.client.status, w.name).toBe('streaming');
    }
    await waitFor('every client at the current revision', () => clients.every((w) => w.client.revision === revision), 3_000);
    expect(clients.every((w) => w.client.isEnabled('new-checkout', { key: 'u1' }, true) === false)).toBe(true);
  });

  it('a write through A reaches a client of B: change event and evaluated result', async () => {
    const [b0] = clients.filter((w) => w.name.startsWith('B'));
    const nl = { key: 'user-42', country: 'NL' };
    const de = { key: 'user-43', country: 'DE' };
    expect(b0!.client.evaluate('new-checkout', nl)).toMatchObject({ enabled: false, reason: 'DISABLED' });

    const revision = await admin.configure('new-checkout', {
      enabled: true,
      rules: [{ id: 'nl', conditions: [{ attribute: 'country', operator: 'in', values: ['NL'] }], variant: 'green' }],
      reason: 'e2e: NL only',
    });

    const change = await waitFor('B0 to receive the change', () => b0!.changes.find((c) => c.revision === revision), 2_000);
    expect(change.flags).toEqual(['new-checkout']);
    expect(b0!.client.revision).toBe(revision);
    expect(b0!.client.evaluate('new-checkout', nl)).toMatchObject({ enabled: true, reason: 'RULE_MATCH', ruleId: 'nl', variant: 'green' });
    expect(b0!.client.isEnabled('new-checkout', de)).toBe(false);
    expect(b0!.client.variant('new-checkout', nl)).toBe('green');
  });

  it('a write through B reaches a client of A', async () => {
    const [a0] = clients.filter((w) => w.name.startsWith('A'));
    const revision = (await new Admin(b.url).request<{ revision: number }>('PUT', '/environments/production/flags/new-checkout/rollout', { percentage: 0 })).revision;
    await waitFor('A0 to receive the rollout change', () => a0!.changes.find((c) => c.revision === revision), 2_000);
    expect(a0!.client.isEnabled('new-checkout', { key: 'user-42', country: 'NL' })).toBe(false);
    expect(a0!.client.evaluate('new-checkout', { key: 'user-42', country: 'NL' }).reason).toBe('NO_MATCH');
    await admin.rollout('new-checkout', 100);
  });

  it('a kill through A reaches every client of both instances, fast', async () => {
    const nl = { key: 'user-42', country: 'NL' };
    await waitFor('every client to serve the flag on', () => clients.every((w) => w.client.isEnabled('new-checkout', nl)), 2_000);
    const sent = now();
    const revision = await admin.kill('new-checkout');
    const answered = now();

    await waitFor('every client to receive the kill', () => clients.every((w) => w.kills.some((k) => k.revision === revision)), 3_000);
    const latencies = clients.map((w) => {
      const kill = w.kills.find((k) => k.revision === revision)!;
      expect(kill.flags, w.name).toEqual(['new-checkout']);
      expect(w.client.evaluate('new-checkout', nl), w.name).toMatchObject({ enabled: false, reason: 'DISABLED' });
      // The kill comes before the change event of the same revision.
      const change = w.changes.find((c) => c.revision === revision);
      expect(change && change.at >= kill.at, w.name).toBe(true);
      return { client: w.name, fromResponseMs: +(kill.at - answered).toFixed(1), fromRequestMs: +(kill.at - sent).toFixed(1) };
    });
    console.log(`kill latency (admin API round trip ${(answered - sent).toFixed(1)} ms):\n${latencies.map((l) => `  ${l.client}: ${l.fromResponseMs} ms after the response (${l.fromRequestMs} ms after the request)`).join('\n')}`);
    // Nothing but the Redis fan-out can bring it to B this fast (the revision check runs every minute).
    for (const l of latencies) expect(l.fromRequestMs, l.client).toBeLessThan(1_000);
  });

  it('revisions seen by each client are dense: one change event per revision, none missed', async () => {
    const last = await admin.revision();
    await waitFor('every client at the last revision', () => clients.every((w) => w.client.revision === last), 2_000);
    for (const w of clients) {
      const seen = w.changes.map((c) => c.revision);
      const first = seen[0]!;
      expect(seen, w.name).toEqual(Array.from({ length: last - first + 1 }, (_, i) => first + i));
    }
  });
});
