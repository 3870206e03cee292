import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ShutdownState } from '../src/health/shutdown-state.js';
import { APP_LOGGER } from '../src/observability/observability.module.js';
import { auth, createTestDatabase, startApp, type TestApp } from './helpers.js';
import { metricValue, SseReader, waitFor } from './real-processes.js';

/** Operating the server: health and readiness, Prometheus metrics, rate limits, security
 *  headers, CORS, and the drain that a SIGTERM starts. */

const ORIGIN = 'https://app.example.com';
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let t: TestApp;
let serverKey: string;
let limitedKey: string;

beforeAll(async () => {
  db = await createTestDatabase();
  t = await startApp({
    DATABASE_URL: db.url,
    AVIARY_CORS_ORIGINS: `${ORIGIN},http://localhost:3000`,
    AVIARY_RATE_LIMIT_ADMIN: '40',
    AVIARY_RATE_LIMIT_SDK_METRICS: '3',
  });
  await request(t.url).post('/api/v1/flags').set(auth()).send({ key: 'observed' }).expect(201);
  serverKey = (await request(t.url).post('/api/v1/api-keys').set(auth()).send({ name: 'sdk', kind: 'server', environment: 'production' }).expect(201)).body.secret;
  limitedKey = (await request(t.url).post('/api/v1/api-keys').set(auth()).send({ name: 'limited', kind: 'admin' }).expect(201)).body.secret;
}, 60_000);

afterAll(async () => {
  await t?.close();
  await db?.drop();
});

describe('health', () => {
  it('/healthz is alive, /readyz checks Postgres and the bus, /health is its alias', async () => {
    expect((await request(t.url).get('/healthz').expect(200)).body).toMatchObject({ status: 'ok', info: { process: { status: 'up' } } });
    const ready = await request(t.url).get('/readyz').expect(200);
    expect(ready.body).toMatchObject({ status: 'ok', info: { postgres: { status: 'up' }, redis: { status: 'up', mode: 'in-process' } } });
    await request(t.url).get('/health').expect(200);
  });
});

describe('/metrics', () => {
  it('exposes latency by route pattern, kills, changes and open streams', async () => {
    await request(t.url).get('/api/v1/flags/observed').set(auth()).expect(200);
    await request(t.url).post('/api/v1/environments/production/flags/observed/kill').set(auth()).send({ reason: 'metrics test' }).expect(200);
    const stream = await SseReader.open(t.url, serverKey);
    await waitFor('the stream', () => stream.revision > 0);
    const res = await request(t.url).get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const text = res.text;
    expect(text).toMatch(/aviary_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/flags\/:key",status="200"\} 1/);
    expect(text).not.toMatch(/route="\/api\/v1\/flags\/observed"/);
    expect(metricValue(text, 'aviary_kills_total')).toBe(1);
    expect(text).toMatch(/aviary_changes_total\{environment="production",kind="kill"\} 1/);
    expect(metricValue(text, 'aviary_streams_open')).toBe(1);
    expect(metricValue(text, 'aviary_revision_lag')).toBe(0);
    expect(metricValue(text, 'aviary_draining')).toBe(0);
    expect(text).toMatch(/^# TYPE aviary_rollout_steps_total counter$/m);
    expect(text).toMatch(/^# TYPE aviary_postgres_errors_total counter$/m);
    expect(text).toMatch(/^process_resident_memory_bytes /m);
    stream.close();
  });
});

describe('rate limits', () => {
  it('limit the admin API per key with a 429 JSON error and Retry-After', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 41; i++) statuses.push((await request(t.url).get('/api/v1/environments').set(auth(limitedKey))).status);
    expect(statuses.slice(0, 40)).toEqual(Array(40).fill(200));
    const refused = await request(t.url).get('/api/v1/flags').set(auth(limitedKey)).expect(429);
    expect(refused.body).toMatchObject({ statusCode: 429, error: 'Too Many Requests', message: expect.stringMatching(/^Rate limit exceeded: at most 40 requests per 60 s/) });
    expect(refused.body.requestId).toBe(refused.headers['x-request-id']);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    // Another key has its own budget.
    await request(t.url).get('/api/v1/environments').set(auth()).expect(200);
    expect(metricValue((await request(t.url).get('/metrics')).text, 'aviary_rate_limited_total')).toBeGreaterThanOrEqual(2);
  });

  it('limit POST /sdk/v1/metrics but never the ruleset and stream reads', async () => {
    for (let i = 0; i < 30; i++) await request(t.url).get('/sdk/v1/ruleset').set(auth(serverKey)).expect(200);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await request(t.url).post('/sdk/v1/metrics').set(auth(serverKey)).send({})).status);
    expect(statuses.slice(0, 3)).not.toContain(429);
    expect(statuses[3]).toBe(429);
    await request(t.url).get('/sdk/v1/ruleset').set(auth(serverKey)).expect(200);
  });
});

describe('security headers', () => {
  it('lock the API down and let the Swagger UI load its own scripts and styles', async () => {
    const api = await request(t.url).get('/api/v1/environments').set(auth()).expect(200);
    expect(api.headers['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none'");
    expect(api.headers['x-content-type-options']).toBe('nosniff');
    expect(api.headers['x-powered-by']).toBeUndefined();
    const docs = await request(t.url).get('/docs/').redirects(1).expect(200);
    expect(docs.text).toMatch(/swagger-ui/);
    const csp = docs.headers['content-security-policy'];
    expect(csp).toMatch(/script-src 'self'/);
    expect(csp).toMatch(/style-src 'self' https: 'unsafe-inline'/);
    expect(csp).toMatch(/img-src 'self' data: https:/);
    expect(csp).not.toMatch(/upgrade-insecure-requests/);
    const sdk = await request(t.url).get('/sdk/v1/ruleset').set(auth(serverKey)).expect(200);
    expect(sdk.headers['cross-origin-resource-policy']).toBe('cross-origin');
  });
});

describe('CORS', () => {
  it('lets configured origins stream with Authorization and Last-Event-ID and read ETag', async () => {
    const preflight = await request(t.url)
      .options('/sdk/v1/stream')
      .set('Origin', ORIGIN)
      .set('Access-Control-Request-Method', 'GET')
      .set('Access-Control-Request-Headers', 'authorization,last-event-id')
      .expect(204);
    expect(preflight.headers['access-control-allow-origin']).toBe(ORIGIN);
    expect(preflight.headers['access-control-allow-headers']).toMatch(/Authorization/);
    expect(preflight.headers['access-control-allow-headers']).toMatch(/Last-Event-ID/);
    const read = await request(t.url).get('/sdk/v1/ruleset').set('Origin', ORIGIN).set(auth(serverKey)).expect(200);
    expect(read.headers['access-control-allow-origin']).toBe(ORIGIN);
    expect(read.headers['access-control-expose-headers']).toMatch(/ETag/);
  });

  it('gives other origins nothing', async () => {
    const other = await request(t.url).get('/sdk/v1/ruleset').set('Origin', 'https://evil.example').set(auth(serverKey)).expect(200);
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('refuses preflights of other origins with a 403 and a warn line naming the setting that allows them', async () => {
    const warn = vi.spyOn(t.app.get(APP_LOGGER), 'warn');
    try {
      const admin = await request(t.url).options('/api/v1/flags').set('Origin', 'https://evil.example').set('Access-Control-Request-Method', 'PUT').expect(403);
      expect(admin.body).toMatchObject({ statusCode: 403, error: 'Forbidden', requestId: expect.any(String) });
      expect(admin.body.message).toBe('The origin https://evil.example is not allowed to call this server from a browser; add it to AVIARY_CORS_ORIGINS');
      const sdk = await request(t.url).options('/sdk/v1/stream').set('Origin', 'https://evil.example').set('Access-Control-Request-Method', 'GET').expect(403);
      expect(sdk.body.message).toMatch(/add it to AVIARY_CORS_ORIGINS \(a client key sent as \?clientKey= is checked against its own allowedOrigins instead\)$/);
      const key = (await request(t.url).post('/api/v1/api-keys').set(auth()).send({ name: 'own', kind: 'client', environment: 'production', allowedOrigins: ['https://own.example'] }).expect(201)).body.secret;
      const own = await request(t.url).options(`/sdk/v1/stream?clientKey=${key}`).set('Origin', ORIGIN).set('Access-Control-Request-Method', 'GET').expect(403);
      expect(own.body.message).toBe(`The origin ${ORIGIN} is not in this client key's allowedOrigins; add it with PATCH /api/v1/api-keys/:id`);
      expect(warn.mock.calls.map(([fields]) => (fields as { setting: string }).setting)).toEqual(['AVIARY_CORS_ORIGINS', 'allowedOrigins']); // one line per origin and setting a minute
      expect(String(warn.mock.calls[1]![1])).toMatch(/allowedOrigins/);
    } finally {
      warn.mockRestore();
    }
    await request(t.url).options('/api/v1/flags').set('Origin', ORIGIN).set('Access-Control-Request-Method', 'PUT').expect(204);
  });

  it('a client key with its own allowedOrigins: those, instead of the server-wide ones; changed with PATCH, audited', async () => {
    const SHOP = 'https://shop.example.com';
    const created = await request(t.url).post('/api/v1/api-keys').set(auth())
      .send({ name: 'shop', kind: 'client', environment: 'production', allowedOrigins: [SHOP] }).expect(201);
    expect(created.body.allowedOrigins).toEqual([SHOP]);
    const key = created.body.secret as string;
    const allowed = async (origin: string, via: 'query' | 'bearer' | 'preflight') => {
      const res =
        via === 'preflight'
          ? await request(t.url).options(`/sdk/v1/stream?clientKey=${key}`).set('Origin', origin).set('Access-Control-Request-Method', 'GET')
              .set('Access-Control-Request-Headers', 'last-event-id')
          : via === 'query'
            ? await request(t.url).get(`/sdk/v1/ruleset?clientKey=${key}&key=u1`).set('Origin', origin).expect(200)
            : await request(t.url).get('/sdk/v1/ruleset?key=u1').set('Origin', origin).set(auth(key)).expect(200);
      return res.headers['access-control-allow-origin'];
    };
    for (const via of ['query', 'bearer', 'preflight'] as const) {
      expect(await allowed(SHOP, via), via).toBe(SHOP);
      // The server-wide origin is not this key's.
      expect(await allowed(ORIGIN, via), via).toBeUndefined();
    }
    // Back to the server-wide origins.
    const updated = await request(t.url).patch(`/api/v1/api-keys/${created.body.id}`).set(auth()).send({ allowedOrigins: null, reason: 'one origin list' }).expect(200);
    expect(updated.body.allowedOrigins).toBeNull();
    expect(await allowed(ORIGIN, 'query')).toBe(ORIGIN);
    expect(await allowed(SHOP, 'query')).toBeUndefined();
    const audit = await request(t.url).get(`/api/v1/audit?resource=${created.body.id}`).set(auth()).expect(200);
    expect(audit.body.items[0]).toMatchObject({ action: 'api-key.update', reason: 'one origin list', before: { allowedOrigins: [SHOP] }, after: { allowedOrigins: null } });
  });

  it('allowedOrigins: 400 naming the field for other kinds of keys and for values that are not origins', async () => {
    const bad = [
      [{ name: 'x', kind: 'server', environment: 'production', allowedOrigins: ['https://a.example'] }, /^allowedOrigins: only client keys/],
      [{ name: 'x', kind: 'client', environment: 'production', allowedOrigins: ['https://a.example/path'] }, /^allowedOrigins: each value must be an origin such as https:\/\/app\.example\.com/],
      [{ name: 'x', kind: 'client', environment: 'production', allowedOrigins: 'https://a.example' }, /^allowedOrigins: must be an array/],
    ] as const;
    for (const [body, message] of bad) {
      const res = await request(t.url).post('/api/v1/api-keys').set(auth()).send(body).expect(400);
      expect(res.body.message).toMatch(message);
    }
    const server = (await request(t.url).get('/api/v1/api-keys').set(auth()).expect(200)).body.items.find((k: { kind: string }) => k.kind === 'server');
    const res = await request(t.url).patch(`/api/v1/api-keys/${server.id}`).set(auth()).send({ allowedOrigins: ['https://a.example'] }).expect(400);
    expect(res.body.message).toMatch(/^allowedOrigins: only client keys/);
    await request(t.url).patch('/api/v1/api-keys/00000000-0000-0000-0000-000000000000').set(auth()).send({ allowedOrigins: null }).expect(404);
  });
});

describe('draining (what SIGTERM starts)', () => {
  it('turns readiness off, closes open streams, refuses new ones, and still answers other requests', async () => {
    const stream = await SseReader.open(t.url, serverKey);
    await waitFor('the stream', () => stream.revision > 0);
    t.app.get(ShutdownState).begin();
    await waitFor('the stream to be closed', () => stream.ended);
    const ready = await request(t.url).get('/readyz').expect(503);
    expect(ready.body.message).toMatch(/shutting down/);
    const refused = await request(t.url).get('/sdk/v1/stream').set(auth(serverKey)).expect(503);
    expect(refused.body.message).toMatch(/shutting down; connect to another one/);
    const answered = await request(t.url).get('/sdk/v1/ruleset').set(auth(serverKey)).expect(200);
    expect(answered.headers.connection).toBe('close');
    expect(metricValue((await request(t.url).get('/metrics')).text, 'aviary_draining')).toBe(1);
  });
});
