import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, createTestDatabase, startApp, type TestApp } from './helpers.js';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let t: TestApp;
let serverKey: string;
let clientKey: string;
let devServerKey: string;

const api = () => request(t.url);
const series = async (flag: string, env = 'production') =>
  (await api().get(`/api/v1/environments/${env}/flags/${flag}/metrics`).set(auth()).expect(200)).body;

beforeAll(async () => {
  db = await createTestDatabase();
  t = await startApp({ DATABASE_URL: db.url });
  const make = async (body: object) => (await api().post('/api/v1/api-keys').set(auth()).send(body).expect(201)).body.secret as string;
  serverKey = await make({ name: 'svc', kind: 'server', environment: 'production' });
  devServerKey = await make({ name: 'svc-dev', kind: 'server', environment: 'development' });
  clientKey = await make({ name: 'web', kind: 'client', environment: 'production' });
  await api().post('/api/v1/flags').set(auth()).send({ key: 'checkout', clientVisible: true }).expect(201);
  await api().post('/api/v1/flags').set(auth()).send({ key: 'internal' }).expect(201);
});

afterAll(async () => {
  await t?.close();
  await db?.drop();
});

const report = (over: object = {}) => ({
  start: Date.now() - 1000,
  end: Date.now(),
  exposures: [
    { flag: 'checkout', enabled: true, variant: 'blue', count: 10 },
    { flag: 'checkout', enabled: false, variant: null, count: 90 },
  ],
  events: [
    { event: 'request', flag: 'checkout', enabled: true, variant: 'blue', count: 10, sum: 0 },
    { event: 'error', flag: 'checkout', enabled: true, variant: 'blue', count: 2, sum: 0 },
    { event: 'request', flag: 'checkout', enabled: false, variant: null, count: 90, sum: 0 },
  ],
  ...over,
});

describe('POST /sdk/v1/metrics', () => {
  it('202 for a server key; a second report adds to the same bucket; arms and events come back as series', async () => {
    const end = Date.now();
    await api().post('/sdk/v1/metrics').set(auth(serverKey)).send(report({ end })).expect(202);
    await api().post('/sdk/v1/metrics').set(auth(serverKey)).send(report({ end })).expect(202);
    const body = await series('checkout');
    expect(body).toMatchObject({ environment: 'production', flag: 'checkout', bucketSeconds: 10 });
    expect(body.arms).toHaveLength(2);
    const [exposed, control] = body.arms;
    expect(exposed).toMatchObject({ enabled: true, variant: 'blue', totals: { exposures: 20, events: { request: { count: 20, sum: 0 }, error: { count: 4, sum: 0 } } } });
    expect(control).toMatchObject({ enabled: false, variant: null, totals: { exposures: 180, events: { request: { count: 180, sum: 0 } } } });
    expect(exposed.points).toHaveLength(1);
    expect(exposed.points[0].time).toBe(new Date(Math.floor(end / 10_000) * 10_000).toISOString());
    // The key's environment is the metric's environment.
    expect((await series('checkout', 'development')).arms).toEqual([]);
  });

  it('sums duplicate rows of one report and keeps sums of tracked values', async () => {
    await api()
      .post('/sdk/v1/metrics')
      .set(auth(devServerKey))
      .send({
        start: 0,
        end: Date.now(),
        events: [
          { event: 'purchase', flag: 'checkout', enabled: true, variant: null, count: 1, sum: 12.5 },
          { event: 'purchase', flag: 'checkout', enabled: true, count: 2, sum: 30 },
        ],
      })
      .expect(202);
    const body = await series('checkout', 'development');
    expect(body.arms[0].totals.events.purchase).toEqual({ count: 3, sum: 42.5 });
  });

  it('client keys: as a bearer or as ?clientKey=, only for client-visible flags', async () => {
    const body = report({ exposures: [{ flag: 'checkout', enabled: true, variant: 'green', count: 5 }, { flag: 'internal', enabled: true, variant: null, count: 5 }], events: [] });
    await api().post('/sdk/v1/metrics').set(auth(clientKey)).send(body).expect(202);
    await api().post(`/sdk/v1/metrics?clientKey=${clientKey}`).send(body).expect(202);
    const green = (await series('checkout')).arms.find((a: { variant: string }) => a.variant === 'green');
    expect(green.totals.exposures).toBe(10);
    expect((await series('internal')).arms).toEqual([]);
  });

  it('a client key (public) may add at most 100,000 per row: 400 naming the rows, nothing stored; a server key may add more', async () => {
    await api().post('/api/v1/flags').set(auth()).send({ key: 'big-counts', clientVisible: true }).expect(201);
    const body = report({
      exposures: [{ flag: 'big-counts', enabled: true, variant: null, count: 100_001 }],
      events: [
        { event: 'request', flag: 'big-counts', enabled: true, variant: null, count: 100_000 },
        { event: 'error', flag: 'big-counts', enabled: true, variant: null, count: 1e9 },
      ],
    });
    const refused = await api().post('/sdk/v1/metrics').set(auth(clientKey)).send(body).expect(400);
    expect(refused.body.message).toBe(
      'exposures[0].count: must not be greater than 100000 with a client key; events[1].count: must not be greater than 100000 with a client key',
    );
    expect((await series('big-counts')).arms).toEqual([]);
    await api().post('/sdk/v1/metrics').set(auth(serverKey)).send(body).expect(202);
    const plain = (await series('big-counts')).arms.find((a: { variant: string | null; enabled: boolean }) => a.enabled && a.variant === null);
    expect(plain.totals.events.error.count).toBe(1e9);
  });

  it('rows of unknown flags are dropped, the rest is kept', async () => {
    await api()
      .post('/sdk/v1/metrics')
      .set(auth(serverKey))
      .send(report({ exposures: [{ flag: 'nope', enabled: true, count: 1 }, { flag: 'internal', enabled: false, count: 7 }], events: [] }))
      .expect(202);
    expect((await series('internal')).arms[0].totals.exposures).toBe(7);
  });

  it('401 without a key, 403 for admin keys, ?clientKey= only takes client keys and only where client keys may call', async () => {
    await api().post('/sdk/v1/metrics').send(report()).expect(401);
    await api().post('/sdk/v1/metrics').set(auth()).send(report()).expect(403);
    const serverInUrl = await api().post(`/sdk/v1/metrics?clientKey=${serverKey}`).send(report()).expect(401);
    expect(serverInUrl.body.message).toMatch(/client key/);
    await api().get(`/api/v1/flags?clientKey=${clientKey}`).expect(401);
    await api().get(`/api/v1/environments/production/flags/checkout/metrics?clientKey=${clientKey}`).expect(401);
  });

  it('400 with field paths: negative counts, bad types, oversized lists, unknown fields', async () => {
    const bad = await api()
      .post('/sdk/v1/metrics')
      .set(auth(serverKey))
      .send({
        start: 'x',
        end: Date.now(),
        exposures: [{ flag: 'checkout', enabled: 'yes', count: -1 }],
        events: [{ event: '', flag: 'bad key!', enabled: true, count: 1.5, sum: 'x' }],
        extra: 1,
      })
      .expect(400);
    expect([...new Set(bad.body.errors.map((e: { path: string }) => e.path))].sort()).toEqual(
      ['start', 'exposures[0].enabled', 'exposures[0].count', 'events[0].flag', 'events[0].count', 'events[0].event', 'events[0].sum', 'extra'].sort(),
    );
    const big = Array.from({ length: 10_001 }, () => ({ flag: 'checkout', enabled: true, count: 1 }));
    const tooMany = await api().post('/sdk/v1/metrics').set(auth(serverKey)).send({ start: 0, end: 1, exposures: big }).expect(400);
    expect(tooMany.body.errors[0].path).toBe('exposures');
  });
});

describe('GET /api/v1/environments/:env/flags/:key/metrics', () => {
  it('filters by since/until (ISO or epoch ms), validates them, 404 for unknown flags', async () => {
    const old = Date.now() - 5 * 60_000;
    await api().post('/sdk/v1/metrics').set(auth(devServerKey)).send({ start: old - 1000, end: old, exposures: [{ flag: 'internal', enabled: true, count: 3 }] }).expect(202);
    const all = await api().get(`/api/v1/environments/development/flags/internal/metrics?since=${old - 60_000}`).set(auth()).expect(200);
    expect(all.body.arms[0].totals.exposures).toBe(3);
    const later = await api()
      .get(`/api/v1/environments/development/flags/internal/metrics?since=${new Date(old + 60_000).toISOString()}`)
      .set(auth())
      .expect(200);
    expect(later.body.arms).toEqual([]);
    const bad = await api().get('/api/v1/environments/development/flags/internal/metrics?since=yesterday&until=1').set(auth()).expect(400);
    expect(bad.body.errors.map((e: { path: string }) => e.path)).toEqual(['since']);
    const reversed = await api().get('/api/v1/environments/development/flags/internal/metrics?since=2000&until=1000').set(auth()).expect(400);
    expect(reversed.body.errors[0].path).toBe('since');
    await api().get('/api/v1/environments/development/flags/nope/metrics').set(auth()).expect(404);
    await api().get('/api/v1/environments/nope/flags/internal/metrics').set(auth()).expect(404);
  });
});
