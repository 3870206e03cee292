import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type AviaryClient, type ChangeEvent, type KillEvent } from '../../src/index.js';
import {
  Admin,
  startServer,
  backupDatabase,
  createDatabase,
  memoryLogger,
  recordingFetch,
  restoreDatabase,
  waitFor,
  type StreamConnection,
  type TestDatabase,
  type ServerProcess,
} from './support/harness.js';

// The database is restored from a backup older than what the SDKs hold. Revisions never go
// backwards, so without a reset the clients would ignore every update (kills included) until the
// restored history caught up with them. Each client must instead take the restored ruleset, marked
// as a reset, and go on from there: once after a restore with the server stopped (a streaming and
// a polling client), once after a restore under the running server.
let db: TestDatabase;
let backups: TestDatabase[] = [];
let server: ServerProcess;
let admin: Admin;
let sdkKey: string;

interface Watched {
  name: string;
  client: AviaryClient;
  changes: ChangeEvent[];
  kills: KillEvent[];
  wire: StreamConnection[];
  log: ReturnType<typeof memoryLogger>;
}
let streaming: Watched;
let polling: Watched;
const user = { key: 'user-1' };

function watch(name: string, sdkKey: string, polls: boolean): Watched {
  const wire: StreamConnection[] = [];
  const log = memoryLogger();
  const client = createClient({
    url: server.url,
    sdkKey,
    logger: log,
    sendMetrics: false,
    fetch: recordingFetch(wire),
    initialReconnectDelayMs: 100,
    maxReconnectDelayMs: 400,
    ...(polls ? { streaming: false, pollIntervalMs: 100 } : {}),
  });
  const watched: Watched = { name, client, changes: [], kills: [], wire, log };
  client.on('change', (e) => watched.changes.push(e));
  client.on('kill', (e) => watched.kills.push(e));
  return watched;
}

const both = () => [streaming, polling];
const at = (revision: number) => () => both().every((w) => w.client.revision === revision);

beforeAll(async () => {
  db = await createDatabase();
  server = await startServer({ name: 'A', databaseUrl: db.url, env: { AVIARY_REVISION_CHECK_MS: '300' } });
  admin = new Admin(server.url);
  sdkKey = await admin.createKey('server');
  await admin.createFlag('checkout');
  await admin.configure('checkout', { enabled: true, rules: [] });
  streaming = watch('streaming', sdkKey, false);
  polling = watch('polling', sdkKey, true);
  await Promise.all(both().map((w) => w.client.ready()));
}, 60_000);

afterAll(async () => {
  await Promise.all(both().map((w) => w?.client.close()));
  await server?.kill();
  await db?.drop();
  await Promise.all(backups.map((b) => b.drop()));
});

/** Takes two backups of the database as it is now (the server is stopped meanwhile): a graceful
 *  stop with open streams, two clones and a start, so its tests get a minute, not 15 s. */
async function takeBackups(): Promise<number> {
  const revision = await admin.revision();
  await waitFor(`clients at ${revision}`, at(revision), 5_000);
  await server.stop();
  backups = [await backupDatabase(db), await backupDatabase(db)];
  await server.start();
  return revision;
}

describe('a database restored from an older backup', () => {
  let backedUp: number;
  let latest: number;

  it('before: the clients follow the writes made after the backup', async () => {
    backedUp = await takeBackups();
    await admin.kill('checkout');
    await admin.createFlag('later');
    latest = await admin.configure('later', { enabled: true, rules: [] });
    expect(latest).toBeGreaterThan(backedUp);
    await waitFor(`clients at ${latest}`, at(latest), 5_000);
    for (const w of both()) expect(w.client.isEnabled('checkout', user), w.name).toBe(false);
  }, 60_000);

  it('restored with the server stopped: both clients are reset to the restored ruleset when they reconnect or poll', async () => {
    await server.stop();
    await restoreDatabase(db, backups[0]!);
    const connections = streaming.wire.length;
    await server.start();
    await waitFor(`clients reset to ${backedUp}`, at(backedUp), 10_000);
    for (const w of both()) {
      // The restored state: checkout is on again, and the flag made after the backup is gone.
      expect(w.client.isEnabled('checkout', user), w.name).toBe(true);
      expect(w.client.evaluate('later', user).reason, w.name).toBe('FLAG_NOT_FOUND');
      expect(w.changes.at(-1), w.name).toEqual({ revision: backedUp, flags: ['checkout', 'later'], cohorts: [] });
      expect(w.log.lines.filter((l) => l.includes('no longer has revision')), w.name).toEqual([
        `warn: the server no longer has revision ${latest} (its database was restored from an older backup?); taking its ruleset at revision ${backedUp}`,
      ]);
    }
    // On the wire: the stream resumed from the newer revision and got the ruleset marked as a reset.
    const resumed = streaming.wire.slice(connections).filter((c) => c.status === 200).at(-1)!;
    expect(resumed.lastEventId).toBe(String(latest));
    expect(resumed.events[0]).toMatchObject({ event: 'ruleset', id: String(backedUp) });
    expect(JSON.parse(resumed.events[0]!.data)).toMatchObject({ reset: true, revision: backedUp });
  }, 60_000);

  it('after the reset, updates flow again from the restored revision: a kill reaches both clients', async () => {
    const killed = await admin.kill('checkout');
    expect(killed).toBe(backedUp + 1);
    await waitFor(`clients at ${killed}`, at(killed), 5_000);
    for (const w of both()) {
      expect(w.client.isEnabled('checkout', user), w.name).toBe(false);
      expect(w.kills.at(-1), w.name).toEqual({ revision: killed, flags: ['checkout'] });
    }
  });

  it('restored under the running server: its revision check notices, and it resets its streams and pollers', async () => {
    await admin.revive('checkout');
    latest = await admin.rollout('checkout', 50);
    await waitFor(`clients at ${latest}`, at(latest), 5_000);
    const logFrom = server.output.length;
    await restoreDatabase(db, backups[1]!);
    await server.waitForLog(/Postgres is at revision \d+, behind this instance's \d+; the database was rewound/, 10_000, logFrom);
    await waitFor(`clients reset to ${backedUp}`, at(backedUp), 10_000);
    for (const w of both()) {
      expect(w.client.isEnabled('checkout', user), w.name).toBe(true);
      expect(w.client.evaluate('later', user).reason, w.name).toBe('FLAG_NOT_FOUND');
    }
    // And the restored server takes writes again, streamed to both.
    const killed = await admin.kill('checkout');
    await waitFor(`clients at ${killed}`, at(killed), 10_000);
    for (const w of both()) expect(w.client.isEnabled('checkout', user), w.name).toBe(false);
  });

  it('GET /sdk/v1/ruleset: a revision above Postgres\'s gets the ruleset marked as a reset, for client keys too', async () => {
    const current = await admin.revision();
    const clientKey = await admin.createKey('client');
    for (const key of [sdkKey, clientKey]) {
      const get = (revision: number) =>
        fetch(`${server.url}/sdk/v1/ruleset?key=user-1`, { headers: { authorization: `Bearer ${key}`, 'if-none-match': `"${revision}"` } });
      const ahead = await get(current + 50);
      expect(ahead.status).toBe(200);
      expect(ahead.headers.get('etag')).toBe(`"${current}"`);
      expect(await ahead.json()).toMatchObject({ reset: true, revision: current, flags: {} });
      expect((await get(current)).status).toBe(304);
      const behind = await get(current - 1);
      expect(behind.status).toBe(200);
      expect(await behind.json()).not.toHaveProperty('reset');
    }
  });

  it('revisions went backwards exactly twice, at the two resets, and nowhere else', async () => {
    for (const w of both()) {
      const revisions = w.changes.map((c) => c.revision);
      const backwards = revisions.filter((r, i) => i > 0 && r < revisions[i - 1]!);
      expect(backwards, w.name).toEqual([backedUp, backedUp]);
    }
  });
});
