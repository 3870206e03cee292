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

// Clients stream from B; B restarts (gracefully, then by a crash) while writes go on through A.
// Each client must resume from Last-Event-ID with the missed patches only: no `ruleset` event
// after its first connection, no whole-ruleset poll, and every revision seen exactly once.
// Three clients stream through a recording `fetch` (the wire is checked); one streams over the
// SDK's default node:http transport (its events are checked).
let db: TestDatabase;
let redis: TestRedis;
let a: ServerProcess;
let b: ServerProcess;
let admin: Admin;

interface Watched {
  name: string;
  client: AviaryClient;
  changes: ChangeEvent[];
  /** Whether the stream goes through `recordingFetch` (else `wire` and `polls` stay empty). */
  recorded: boolean;
  /** The revision of the first ruleset. */
  first: number;
  wire: StreamConnection[];
  polls: number[];
  log: ReturnType<typeof memoryLogger>;
}
const clients: Watched[] = [];
const user = { key: 'user-7', plan: 'pro' };

beforeAll(async () => {
  db = await createDatabase();
  redis = await startRedis();
  const env = { AVIARY_REVISION_CHECK_MS: '60000' };
  a = await startServer({ name: 'A', databaseUrl: db.url, redisUrl: redis.url, env });
  b = await startServer({ name: 'B', databaseUrl: db.url, redisUrl: redis.url, env });
  admin = new Admin(a.url);
  const sdkKey = await admin.createKey('server');
  await admin.createFlag('pro-search');
  await admin.configure('pro-search', { enabled: true, rules: [{ id: 'pro', conditions: [{ attribute: 'plan', operator: 'in', values: ['pro'] }] }] });
  for (let i = 0; i < 4; i++) {
    const recorded = i < 3;
    const wire: StreamConnection[] = [];
    const polls: number[] = [];
    const log = memoryLogger();
    // Short reconnect delays keep the test fast; polling keeps its defaults (it starts after three
    // failed connections, and its first poll fails while B is down, the next is 30 s away).
    const client = createClient({
      url: b.url,
      sdkKey,
      logger: log,
      sendMetrics: false,
      ...(recorded ? { fetch: recordingFetch(wire, polls) } : {}),
      initialReconnectDelayMs: 100,
      maxReconnectDelayMs: 400,
    });
    const watched: Watched = { name: recorded ? `B${i}` : `B${i} (node:http)`, client, changes: [], recorded, first: 0, wire, polls, log };
    // The revision of the first ruleset as it arrived: B may still be catching up on the writes
    // above, so a change can follow at once, before ready() is awaited below.
    client.on('ready', (e) => (watched.first = e.revision));
    client.on('change', (e) => watched.changes.push(e));
    clients.push(watched);
  }
  await Promise.all(clients.map((w) => w.client.ready()));
}, 60_000);

afterAll(async () => {
  await Promise.all(clients.map((w) => w.client.close()));
  await Promise.all([a?.kill(), b?.kill()]);
  await redis?.stop();
  await db?.drop();
});

const atRevision = (revision: number) => () => clients.every((w) => w.client.revision === revision && w.client.status === 'streaming');

/** Writes that exercise every kind of event: changes, a kill, a revive, a rollout. */
async function writeSome(tag: string): Promise<number> {
  await admin.configure('pro-search', {
    enabled: true,
    rules: [{ id: 'pro', conditions: [{ attribute: 'plan', operator: 'in', values: ['pro', tag] }] }],
    reason: `e2e ${tag}`,
  });
  await admin.kill('pro-search');
  await admin.createFlag(`flag-${tag}`);
  await admin.revive('pro-search');
  return admin.rollout('pro-search', 50);
}

async function restartB(signal: NodeJS.Signals): Promise<{ before: number; after: number }> {
  const before = await admin.revision();
  await waitFor(`clients at ${before}`, atRevision(before), 3_000);
  const connectionsBefore = clients.map((w) => w.wire.length);
  const stopping = now();
  await b.stop(signal);
  const stoppedMs = now() - stopping;
  // A graceful stop ends the open streams first, so it does not wait for the clients to leave.
  expect(stoppedMs, `${signal} stop of B`).toBeLessThan(5_000);
  // B is down: writes go on through A, and the clients keep serving their last ruleset.
  const after = await writeSome(signal.toLowerCase());
  expect(after).toBeGreaterThan(before + 3);
  for (const w of clients) {
    expect(w.client.revision, w.name).toBe(before);
    expect(w.client.isEnabled('pro-search', user), w.name).toBe(true);
  }
  const starting = now();
  await b.start();
  const startedMs = now() - starting;
  await waitFor(`clients to resume to ${after} from B`, atRevision(after), 5_000);
  console.log(`${signal}: B stopped in ${stoppedMs.toFixed(0)} ms, restarted in ${startedMs.toFixed(0)} ms, clients resumed ${(now() - starting - startedMs).toFixed(0)} ms after it answered`);
  for (const [i, w] of clients.entries()) {
    if (!w.recorded) continue;
    const resumed = w.wire.slice(connectionsBefore[i]).filter((c) => c.status === 200);
    expect(resumed.length, `${w.name}: a new stream connection`).toBeGreaterThan(0);
    const last = resumed.at(-1)!;
    expect(last.lastEventId, `${w.name}: resumed from its revision`).toBe(String(before));
    expect(last.events.map((e) => Number(e.id)), `${w.name}: exactly the missed revisions`).toEqual(
      Array.from({ length: after - before }, (_, k) => before + 1 + k),
    );
  }
  return { before, after };
}

describe('a server instance restarting mid-stream', () => {
  it('streams live changes before the restart', async () => {
    const revision = await writeSome('warmup');
    await waitFor('clients at the new revision', atRevision(revision), 3_000);
    expect(clients.every((w) => w.client.evaluate('pro-search', user).reason === 'RULE_MATCH' || w.client.evaluate('pro-search', user).reason === 'NO_MATCH')).toBe(true);
  });

  it('after a graceful restart (SIGTERM) clients resume from Last-Event-ID with only the missed patches', async () => {
    await restartB('SIGTERM');
  }, 30_000);

  it('after a crash (SIGKILL) clients resume from Last-Event-ID with only the missed patches', async () => {
    await restartB('SIGKILL');
  }, 30_000);

  it('keeps streaming on the resumed connection', async () => {
    const revision = await admin.kill('pro-search');
    await waitFor('clients to hear the kill', atRevision(revision), 2_000);
    for (const w of clients) expect(w.client.evaluate('pro-search', user)).toMatchObject({ enabled: false, reason: 'DISABLED' });
  });

  it('never needed a whole ruleset after the first one, and saw every revision once', async () => {
    const last = await admin.revision();
    for (const w of clients) {
      // One change event per revision, in order, and no reload: a reconnect without Last-Event-ID
      // or a whole-ruleset poll would show as one change for several revisions.
      const dense = Array.from({ length: last - w.first }, (_, k) => w.first + 1 + k);
      expect(w.changes.map((c) => c.revision), `${w.name}: change events`).toEqual(dense);
      expect(w.log.lines.filter((l) => /missed revisions|reloading/.test(l)), `${w.name}: gaps`).toEqual([]);
      if (!w.recorded) continue;
      const connections = w.wire.filter((c) => c.status === 200);
      expect(connections.length, `${w.name}: connections`).toBeGreaterThanOrEqual(3);
      // The first connection brings the whole ruleset, and only that one.
      expect(connections[0]!.lastEventId).toBeUndefined();
      expect(connections[0]!.events[0]!.event).toBe('ruleset');
      const rulesets = connections.flatMap((c) => c.events).filter((e) => e.event === 'ruleset');
      expect(rulesets, `${w.name}: ruleset events`).toHaveLength(1);
      for (const c of connections.slice(1)) expect(c.lastEventId, `${w.name}: every reconnect resumes`).toMatch(/^\d+$/);
      // No poll brought a whole ruleset either.
      expect(w.polls.filter((s) => s === 200), `${w.name}: whole-ruleset polls`).toEqual([]);
      // Dense: the wire carried each revision once.
      expect(Number(connections[0]!.events[0]!.id)).toBe(w.first);
      expect(connections.flatMap((c) => c.events).slice(1).map((e) => Number(e.id)), `${w.name}: wire revisions`).toEqual(dense);
    }
  });
});
