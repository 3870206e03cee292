import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, cohortFlagSetup, createTestDatabase, startApp, type TestApp } from './helpers.js';
import { SseReader, waitFor } from './real-processes.js';

/** `GET /sdk/v1/stream` compressed: a server key's stream in gzip members when the request accepts gzip. */

const MEMBERS = 20_000;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let t: TestApp;
let serverKey: string;
let clientKey: string;
const readers: SseReader[] = [];

const open = async (key: string, options: { gzip: boolean; lastEventId?: number; query?: string }) => {
  const reader = await SseReader.open(t.url, key, options.lastEventId, options.query, undefined, options.gzip);
  readers.push(reader);
  return reader;
};

beforeAll(async () => {
  db = await createTestDatabase();
  t = await startApp({ DATABASE_URL: db.url });
  ({ serverKey, clientKey } = await cohortFlagSetup(
    t.url,
    Array.from({ length: MEMBERS }, (_, i) => `customer-${String(i).padStart(6, '0')}@example.com`),
  ));
}, 60_000);

afterAll(async () => {
  for (const reader of readers) reader.close();
  await t?.close();
  await db?.drop();
});

describe('a compressed stream', () => {
  it('sends a server key the ruleset of GET /sdk/v1/ruleset in a fraction of its bytes, then changes', async () => {
    const plain = await open(serverKey, { gzip: false });
    const gzip = await open(serverKey, { gzip: true });
    await waitFor('both rulesets', () => plain.events.length > 0 && gzip.events.length > 0);
    expect(plain.encoding).toBe('identity');
    expect(gzip.encoding).toBe('gzip');
    const ruleset = (await request(t.url).get('/sdk/v1/ruleset').set(auth(serverKey)).expect(200)).text;
    expect(gzip.events[0]).toEqual({ id: plain.revision, event: 'ruleset', data: ruleset });
    expect(plain.events[0]).toEqual(gzip.events[0]);
    expect(JSON.parse(ruleset).cohorts.beta.included).toHaveLength(MEMBERS);
    // Member keys of one shape compress well: a quarter is generous.
    expect(gzip.wireBytes).toBeLessThan(plain.wireBytes / 4);

    const before = gzip.wireBytes;
    await request(t.url).post('/api/v1/environments/production/flags/beta-feature/kill').set(auth()).send({ reason: 'compression test' }).expect(200);
    await waitFor('the kill on both', () => plain.events.length === 2 && gzip.events.length === 2);
    expect(gzip.events[1]).toEqual(plain.events[1]);
    expect(gzip.events[1]).toMatchObject({ event: 'kill', id: plain.revision });
    expect(gzip.wireBytes - before).toBeLessThan(1_000);
  });

  it('resumes from Last-Event-ID with the missed changes, compressed', async () => {
    const first = await open(serverKey, { gzip: true });
    await waitFor('the ruleset', () => first.events.length > 0);
    const held = first.revision;
    first.close();
    await request(t.url).post('/api/v1/environments/production/flags/beta-feature/revive').set(auth()).send({ reason: 'compression test' }).expect(200);
    const resumed = await open(serverKey, { gzip: true, lastEventId: held });
    await waitFor('the missed change', () => resumed.events.length > 0);
    expect(resumed.encoding).toBe('gzip');
    expect(resumed.events.map((e) => [e.event, e.id])).toEqual([['change', held + 1]]);
    expect(resumed.wireBytes).toBeLessThan(1_000);
  });

  it("follows Accept-Encoding's q-values on GET /sdk/v1/ruleset: gzip;q=0 refuses gzip, * accepts it", async () => {
    const encodingFor = async (acceptEncoding: string) =>
      (await request(t.url).get('/sdk/v1/ruleset').set('Authorization', `Bearer ${serverKey}`).set('Accept-Encoding', acceptEncoding).expect(200)).headers['content-encoding'];
    expect(await encodingFor('gzip')).toBe('gzip');
    expect(await encodingFor('br;q=1, gzip;q=0.8')).toBe('gzip');
    expect(await encodingFor('*')).toBe('gzip');
    expect(await encodingFor('gzip;q=0')).toBeUndefined();
    expect(await encodingFor('gzip;q=0, *')).toBeUndefined();
    expect(await encodingFor('identity, gzip;q=0.5')).toBeUndefined();
    expect(await encodingFor('br')).toBeUndefined();
  });

  it('is not used for client keys: their frames are cut per user', async () => {
    const client = await open(clientKey, { gzip: true, query: 'key=customer-000007@example.com' });
    await waitFor('the client ruleset', () => client.events.length > 0);
    expect(client.encoding).toBe('identity');
    expect(JSON.parse(client.events[0].data).cohorts.beta.included).toEqual(['customer-000007@example.com']);
  });
});
