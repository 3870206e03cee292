import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FirstRunService } from '../src/people/first-run.service.js';
import { auth, createTestDatabase, startApp, type TestApp, withClient } from './helpers.js';
import { as, browserFrom, login, openLiveStream, PASSWORD } from './people-helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('first run with a setup link', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let t: TestApp;
  let token: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await startApp({ DATABASE_URL: db.url });
    const url = t.app.get(FirstRunService).setupUrl!;
    expect(url).toMatch(/^http:\/\/localhost:4000\/setup\?token=[A-Za-z0-9_-]{43}$/);
    token = new URL(url).searchParams.get('token')!;
  });

  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('refuses weak passwords naming the field, and unknown tokens', async () => {
    const short = await request(t.url).post('/api/v1/auth/setup').send({ token, email: 'ada@example.com', name: 'Ada', password: 'short' });
    expect(short.status).toBe(400);
    expect(short.body.message).toMatch(/password: must be at least 12 characters/);
    const same = await request(t.url).post('/api/v1/auth/setup').send({ token, email: 'Ada.Lovelace@example.com', name: 'Ada', password: 'ada.lovelace@example.com' });
    expect(same.status).toBe(400);
    expect(same.body.errors).toEqual([{ path: 'password', message: 'must not be the email address' }]);
    const wrong = await request(t.url).post('/api/v1/auth/setup').send({ token: 'x'.repeat(43), email: 'ada@example.com', name: 'Ada', password: PASSWORD });
    expect(wrong.status).toBe(403);
  });

  it('creates the first admin once, signed in; the link cannot be used again', async () => {
    expect((await request(t.url).get('/api/v1/auth/options').expect(200)).body).toEqual({ password: true, oidc: false, setupRequired: true });
    const res = await request(t.url).post('/api/v1/auth/setup').send({ token, email: 'ada@example.com', name: 'Ada', password: PASSWORD }).expect(201);
    expect(res.body).toMatchObject({ email: 'ada@example.com', role: 'admin', state: 'active' });
    const me = await as(t, browserFrom(res), 'get', '/api/v1/auth/me').expect(200);
    expect(me.body).toMatchObject({ email: 'ada@example.com', role: 'admin' });
    const again = await request(t.url).post('/api/v1/auth/setup').send({ token, email: 'eve@example.com', name: 'Eve', password: PASSWORD });
    expect(again.status).toBe(403);
    expect((await request(t.url).get('/api/v1/auth/options').expect(200)).body.setupRequired).toBe(false);
    const stored = await withClient(db.url, (c) => c.query('SELECT password_hash FROM people'));
    expect(stored.rows).toHaveLength(1);
    expect(stored.rows[0].password_hash).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(stored.rows[0].password_hash).not.toContain(PASSWORD);
  });

  it('signs in with the chosen password; the cookies are HttpOnly (session), SameSite=Lax, not Secure on http', async () => {
    const b = await login(t, 'ADA@example.com');
    const session = b.setCookies.find((c) => c.startsWith('aviary_session='))!;
    const csrf = b.setCookies.find((c) => c.startsWith('aviary_csrf='))!;
    expect(session).toMatch(/; HttpOnly/);
    expect(session).toMatch(/; SameSite=Lax/);
    expect(session).not.toMatch(/Secure/);
    expect(csrf).not.toMatch(/HttpOnly/);
  });

  it('answers a wrong password and an unknown email alike, then slows both down', async () => {
    const wrong = await request(t.url).post('/api/v1/auth/login').send({ email: 'ada@example.com', password: 'not the password' });
    const unknown = await request(t.url).post('/api/v1/auth/login').send({ email: 'nobody@example.com', password: 'not the password' });
    expect([wrong.status, unknown.status]).toEqual([401, 401]);
    expect(wrong.body.message).toBe(unknown.body.message);
    const statuses = { known: [] as number[], unknown: [] as number[] };
    for (let i = 0; i < 5; i++) {
      statuses.known.push((await request(t.url).post('/api/v1/auth/login').send({ email: 'ada@example.com', password: 'not the password' })).status);
      statuses.unknown.push((await request(t.url).post('/api/v1/auth/login').send({ email: 'nobody@example.com', password: 'not the password' })).status);
    }
    // 6 failures each: the 6th attempt (5 were free) waits, whether the account exists or not.
    expect(statuses.known).toEqual([401, 401, 401, 401, 429]);
    expect(statuses.unknown).toEqual(statuses.known);
    const limited = await request(t.url).post('/api/v1/auth/login').send({ email: 'ada@example.com', password: PASSWORD });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(2);
    await sleep(Number(limited.headers['retry-after']) * 1000 + 100);
    await login(t, 'ada@example.com');
  });

  it('refuses cookie writes without the CSRF header or from a foreign Origin; bearer keys need neither', async () => {
    const b = await login(t, 'ada@example.com');
    const missing = await as(t, b, 'post', '/api/v1/flags', false).send({ key: 'csrf-1' });
    expect(missing.status).toBe(403);
    expect(missing.body.message).toMatch(/X-CSRF-Token/);
    const wrong = await as(t, b, 'post', '/api/v1/flags', false).set('X-CSRF-Token', 'guess').send({ key: 'csrf-1' });
    expect(wrong.status).toBe(403);
    const foreign = await as(t, b, 'post', '/api/v1/flags').set('Origin', 'https://evil.example').send({ key: 'csrf-1' });
    expect(foreign.status).toBe(403);
    expect(foreign.body.message).toMatch(/Origin https:\/\/evil\.example/);
    const foreignLogin = await request(t.url).post('/api/v1/auth/login').set('Origin', 'https://evil.example').send({ email: 'ada@example.com', password: PASSWORD });
    expect(foreignLogin.status).toBe(403);
    await as(t, b, 'post', '/api/v1/flags').set('Origin', 'http://localhost:4000').send({ key: 'csrf-1' }).expect(201);
    await request(t.url).post('/api/v1/flags').set(auth()).send({ key: 'csrf-2' }).expect(201);
    const flags = await request(t.url).get('/api/v1/flags').set(auth()).expect(200);
    expect(flags.body.items.map((f: { key: string }) => f.key).sort()).toEqual(['csrf-1', 'csrf-2']);
  });

  it('logout ends the session and its live stream at once; other sessions and their streams stay', async () => {
    const one = await login(t, 'ada@example.com');
    const two = await login(t, 'ada@example.com');
    const listed = await as(t, one, 'get', '/api/v1/auth/sessions').expect(200);
    expect(listed.body.filter((s: { current: boolean }) => s.current)).toHaveLength(1);
    const oneStream = await openLiveStream(t, one);
    const twoStream = await openLiveStream(t, two, 'production', 1_000);
    expect([oneStream.status, twoStream.status]).toEqual([200, 200]);
    await as(t, one, 'post', '/api/v1/auth/logout').expect(204);
    await oneStream.ended();
    await expect(twoStream.ended()).rejects.toThrow(/still open/);
    expect((await as(t, one, 'get', '/api/v1/auth/me')).status).toBe(401);
    await as(t, two, 'get', '/api/v1/auth/me').expect(200);
    const me = await as(t, two, 'get', '/api/v1/auth/me').expect(200);
    await as(t, two, 'delete', `/api/v1/auth/sessions/${me.body.sessionId}`).expect(204);
    expect((await as(t, two, 'get', '/api/v1/flags')).status).toBe(401);
  });

  it('records the person and "via session" in the audit log, filterable by person', async () => {
    const b = await login(t, 'ada@example.com');
    await as(t, b, 'post', '/api/v1/flags').send({ key: 'audited' }).expect(201);
    const key = await as(t, b, 'post', '/api/v1/api-keys').send({ name: 'made by ada', kind: 'server', environment: 'production' }).expect(201);
    expect(key.body.createdBy).toMatchObject({ email: 'ada@example.com' });
    const mine = await request(t.url).get('/api/v1/audit?person=ada@example.com&resource=audited').set(auth()).expect(200);
    expect(mine.body.items).toHaveLength(1);
    expect(mine.body.items[0].actor).toMatchObject({ via: 'session', email: 'ada@example.com', personId: expect.any(String), keyId: null });
    const byKey = await request(t.url).get('/api/v1/audit?resource=csrf-2').set(auth()).expect(200);
    expect(byKey.body.items[0].actor).toMatchObject({ via: 'key', personId: null, keyId: expect.any(String), name: 'first admin key' });
    const byId = await request(t.url).get(`/api/v1/audit?person=${mine.body.items[0].actor.personId}&resource=audited`).set(auth()).expect(200);
    expect(byId.body.items).toHaveLength(1);
  });
});

describe('first admin from the environment, https, short sessions', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let t: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await startApp({
      DATABASE_URL: db.url,
      AVIARY_PUBLIC_URL: 'https://flags.example.com/',
      AVIARY_ADMIN_EMAIL: 'root@example.com',
      AVIARY_ADMIN_PASSWORD: PASSWORD,
      AVIARY_SESSION_IDLE_TIMEOUT_MS: '1000',
      AVIARY_SESSION_MAX_AGE_MS: '2500',
    });
  });

  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('creates the admin and prints no setup link; a restart changes nothing', async () => {
    expect(t.app.get(FirstRunService).setupUrl).toBeUndefined();
    const b = await login(t, 'root@example.com');
    expect(b.setCookies.every((c) => /; Secure/.test(c))).toBe(true);
    await t.close();
    t = await startApp({ DATABASE_URL: db.url, AVIARY_PUBLIC_URL: 'https://flags.example.com', AVIARY_ADMIN_EMAIL: 'other@example.com', AVIARY_ADMIN_PASSWORD: PASSWORD, AVIARY_SESSION_IDLE_TIMEOUT_MS: '1000', AVIARY_SESSION_MAX_AGE_MS: '2500' });
    const people = await withClient(db.url, (c) => c.query('SELECT email, role FROM people'));
    expect(people.rows).toEqual([{ email: 'root@example.com', role: 'admin' }]);
  });

  it('ends a session idle longer than the idle timeout', async () => {
    const b = await login(t, 'root@example.com');
    await as(t, b, 'get', '/api/v1/auth/me').expect(200);
    await sleep(1300);
    expect((await as(t, b, 'get', '/api/v1/auth/me')).status).toBe(401);
  });

  it('ends a busy session at its absolute expiry', async () => {
    const b = await login(t, 'root@example.com');
    const started = Date.now();
    while (Date.now() - started < 2000) {
      await as(t, b, 'get', '/api/v1/auth/me').expect(200);
      await sleep(400);
    }
    await sleep(2700 - (Date.now() - started));
    expect((await as(t, b, 'get', '/api/v1/auth/me')).status).toBe(401);
  });
});
