import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { auth, cohortFlagSetup, createTestDatabase, startApp, type TestApp } from './helpers.js';
import { SseReader, waitFor } from './real-processes.js';

/**
 * Membership deltas (protocol 2): a members write to a cohort too large for a whole-cohort patch
 * goes out as `members`; streams of protocol 1 get what they understand (a whole ruleset).
 */

const MEMBERS = 200_000;
const member = (i: number) => `customer-${String(i).padStart(7, '0')}@example.com`;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let t: TestApp;
let serverKey: string;
let clientKey: string;
const readers: SseReader[] = [];

const open = async (key: string, query: string, lastEventId?: number) => {
  const reader = await SseReader.open(t.url, key, lastEventId, query);
  readers.push(reader);
  await waitFor('the first event', () => reader.events.length > 0 || (lastEventId !== undefined && reader.status === 200));
  return reader;
};
const members = (body: Record<string, unknown>) => request(t.url).post('/api/v1/cohorts/beta/members').set(auth()).send(body).expect(200);
const wholeCohort = async (app: TestApp) => {
  const ruleset = (await request(app.url).get('/sdk/v1/ruleset').set(auth(serverKey)).expect(200)).body;
  // `listed`: the keys as sent, a repeated one counted twice.
  return { included: new Set(ruleset.cohorts.beta.included), excluded: new Set(ruleset.cohorts.beta.excluded), listed: ruleset.cohorts.beta.included.length, revision: ruleset.revision };
};

beforeAll(async () => {
  db = await createTestDatabase();
  // Heartbeats every 100 ms land while a ~8 MB ruleset is still leaving: they must not cut the
  // stream (they did on a loaded machine, even at the 15 s default).
  t = await startApp({ DATABASE_URL: db.url, AVIARY_STREAM_HEARTBEAT_MS: '100' });
  ({ serverKey, clientKey } = await cohortFlagSetup(t.url, Array.from({ length: MEMBERS }, (_, i) => member(i)), { clientVisible: true }));
}, 120_000);

// A protocol 1 server key's stream is sent the whole ruleset (~8 MB) at every write: each test's
// streams end with it.
const closeReaders = () => {
  for (const reader of readers.splice(0)) reader.close();
};
afterEach(closeReaders);

afterAll(async () => {
  closeReaders();
  await t?.close();
  await db?.drop();
});

describe('a members write to a large cohort', () => {
  it('reaches protocol 2 as a delta of a few bytes, protocol 1 as the whole ruleset, client keys cut to their user', async () => {
    const v2 = await open(serverKey, 'protocol=2');
    const v1 = await open(serverKey, '');
    const newcomer = await open(clientKey, 'protocol=2&key=newcomer@example.com');
    const stranger = await open(clientKey, 'protocol=2&key=stranger@example.com');
    const oldBrowser = await open(clientKey, 'key=newcomer@example.com');
    const bytes = [v2, v1, newcomer, stranger].map((r) => r.wireBytes);

    const written = await members({ add: ['newcomer@example.com'], remove: [member(3)] });
    const all = [v2, v1, newcomer, stranger, oldBrowser];
    await waitFor('the delta everywhere', () => all.every((r) => r.events.length === 2));
    const revision = v2.revision;
    // The answer names the revision of every environment (cohorts are shared by all of them).
    expect(written.body.revisions).toEqual({ development: expect.any(Number), production: revision });
    expect(all.map((r) => [r.events[1].event, r.events[1].id])).toEqual([
      ['change', revision],
      ['ruleset', revision],
      ['change', revision],
      ['change', revision],
      ['ruleset', revision],
    ]);
    expect(JSON.parse(v2.events[1].data)).toEqual({ revision, members: { beta: { include: ['newcomer@example.com'], remove: [member(3)] } } });
    expect(v2.wireBytes - bytes[0]).toBeLessThan(2_000);
    // A protocol 1 server key pays the whole ruleset, as it did before deltas existed.
    expect(v1.wireBytes - bytes[1]).toBeGreaterThan(MEMBERS * 30);
    expect(JSON.parse(newcomer.events[1].data)).toEqual({ revision, members: { beta: { include: ['newcomer@example.com'] } } });
    expect(JSON.parse(stranger.events[1].data)).toEqual({ revision, members: { beta: {} } });
    expect(stranger.events[1].data).not.toContain('customer-');
    expect(JSON.parse(oldBrowser.events[1].data).cohorts.beta).toMatchObject({ included: ['newcomer@example.com'], excluded: [] });

    // The server's own ruleset took the delta: evaluation, and the ruleset it serves.
    const evaluated = await request(t.url).post('/api/v1/environments/production/evaluate').set(auth()).send({ context: { key: 'newcomer@example.com' } }).expect(200);
    expect(JSON.stringify(evaluated.body)).toContain('"enabled":true');
    const served = await wholeCohort(t);
    expect(served.included.size).toBe(MEMBERS);
    expect([served.included.has('newcomer@example.com'), served.included.has(member(3))]).toEqual([true, false]);
  });

  it('moves a key between the lists and matches what a fresh load from Postgres holds', async () => {
    const v2 = await open(serverKey, 'protocol=2');
    await members({ exclude: [member(4), 'outsider@example.com'] });
    await waitFor('the delta', () => v2.events.length === 2);
    expect(JSON.parse(v2.events[1].data).members).toEqual({ beta: { exclude: [member(4), 'outsider@example.com'] } });
    await members({ add: [member(4)] });
    // Keys in neither list: the held cohort is appended to (`appended`), none looked up.
    await members({ add: ['new-1@example.com', 'new-2@example.com'] });
    await waitFor('the next deltas', () => v2.events.length === 4);
    const live = await wholeCohort(t);
    const fresh = await startApp({ DATABASE_URL: db.url });
    try {
      const loaded = await wholeCohort(fresh);
      expect(loaded.revision).toBe(live.revision);
      expect(loaded.included).toEqual(live.included);
      expect(loaded.excluded).toEqual(live.excluded);
      expect([...live.excluded]).toEqual(['outsider@example.com']);
      expect(live.included.has('new-2@example.com')).toBe(true);
      expect(live.listed).toBe(live.included.size);
    } finally {
      await fresh.close();
    }
  });

  it('replays deltas exactly on a resume; protocol 1 gets the whole ruleset instead', async () => {
    const held = (await open(serverKey, 'protocol=2')).revision;
    await members({ add: ['late-1@example.com'] });
    await members({ remove: ['late-1@example.com'] });
    await waitFor('both revisions live', async () => (await wholeCohort(t)).revision === held + 2);
    const v2 = await open(serverKey, 'protocol=2', held);
    await waitFor('the replay', () => v2.events.length === 2);
    expect(v2.events.map((e) => [e.event, e.id, JSON.parse(e.data).members])).toEqual([
      ['change', held + 1, { beta: { include: ['late-1@example.com'] } }],
      ['change', held + 2, { beta: { remove: ['late-1@example.com'] } }],
    ]);
    const v1 = await open(serverKey, '', held);
    await waitFor('the ruleset', () => v1.events.length === 1);
    expect([v1.events[0].event, v1.events[0].id]).toEqual(['ruleset', held + 2]);
  });

  it('a delta larger than a patch may carry reloads every stream (the server patches what it holds); small cohorts still go whole', async () => {
    const { included } = await wholeCohort(t);
    const v2 = await open(serverKey, 'protocol=2');
    await members({ remove: Array.from({ length: 10_001 }, (_, i) => member(100_000 + i)) });
    await waitFor('the reload', () => v2.events.length === 2);
    expect(v2.events[1].event).toBe('ruleset');
    // The writing instance patched the cohort it held instead of reading it back: the same members.
    const live = await wholeCohort(t);
    expect(live.included.size).toBe(included.size - 10_001);
    const fresh = await startApp({ DATABASE_URL: db.url });
    try {
      const loaded = await wholeCohort(fresh);
      expect([loaded.revision, loaded.included, loaded.excluded]).toEqual([live.revision, live.included, live.excluded]);
    } finally {
      await fresh.close();
    }
    await request(t.url).post('/api/v1/cohorts').set(auth()).send({ key: 'staff' }).expect(201);
    await request(t.url).post('/api/v1/cohorts/staff/members').set(auth()).send({ add: ['ana'] }).expect(200);
    await waitFor('the small cohort', () => v2.events.length === 4);
    expect(JSON.parse(v2.events[3].data).cohorts.staff).toMatchObject({ included: ['ana'] });
  });

  it('answers 400 naming `protocol` when it is not a version', async () => {
    for (const bad of ['abc', '0', '-1', '2.5']) {
      const res = await request(t.url).get(`/sdk/v1/stream?protocol=${bad}`).set(auth(serverKey)).expect(400);
      expect(JSON.stringify(res.body)).toContain('protocol');
    }
    // A newer protocol than this server speaks gets the newest it does.
    const future = await open(serverKey, 'protocol=9');
    await members({ add: ['future@example.com'] });
    await waitFor('the delta', () => future.events.length === 2);
    expect(future.events[1].event).toBe('change');
  });
});
