import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, createTestDatabase, startApp, type TestApp, withClient } from './helpers.js';
import { as, type Browser, browserFrom, login, openLiveStream, PASSWORD } from './people-helpers.js';

// Started while the file is collected: the matrix below is built from this app's router.
const db = await createTestDatabase();
const t: TestApp = await startApp({ DATABASE_URL: db.url, AVIARY_ADMIN_EMAIL: 'root@example.com', AVIARY_ADMIN_PASSWORD: PASSWORD });
const browsers: Record<'viewer' | 'editor' | 'admin' | 'devEditor', Browser> = {} as never;
const ids: Record<string, string> = {};

/** Invites with the bootstrap admin's key and accepts the invite: a signed-in person. */
async function person(email: string, role: string, environments?: string[]): Promise<Browser> {
  const invited = await request(t.url).post('/api/v1/people').set(auth()).send({ email, name: email.split('@')[0], role, environments }).expect(201);
  ids[email] = invited.body.id;
  expect(invited.body.inviteUrl).toMatch(/^http:\/\/localhost:4000\/invite\?token=[A-Za-z0-9_-]{43}$/);
  const token = new URL(invited.body.inviteUrl).searchParams.get('token');
  const accepted = await request(t.url).post('/api/v1/auth/accept-invite').send({ token, password: PASSWORD }).expect(201);
  expect(accepted.body).toMatchObject({ email, role, state: 'active' });
  return browserFrom(accepted);
}

beforeAll(async () => {
  browsers.admin = await login(t, 'root@example.com');
  browsers.viewer = await person('vera@example.com', 'viewer');
  browsers.editor = await person('eddie@example.com', 'editor');
  browsers.devEditor = await person('dev@example.com', 'editor', ['development']);
  await request(t.url).post('/api/v1/flags').set(auth()).send({ key: 'checkout' }).expect(201);
  await request(t.url).post('/api/v1/environments/production/flags/checkout/revive').set(auth()).send({}).expect(200);
});

afterAll(async () => {
  await t?.close();
  await db?.drop();
});

describe('invites', () => {
  it('are single use and expire', async () => {
    const invited = await request(t.url).post('/api/v1/people').set(auth()).send({ email: 'late@example.com', name: 'Late', role: 'viewer' }).expect(201);
    const token = new URL(invited.body.inviteUrl).searchParams.get('token');
    await withClient(db.url, (c) => c.query(`UPDATE person_links SET expires_at = now() - interval '1 second' WHERE person_id = $1`, [invited.body.id]));
    const expired = await request(t.url).post('/api/v1/auth/accept-invite').send({ token, password: PASSWORD });
    expect(expired.status).toBe(403);
    expect(expired.body.message).toMatch(/used, expired or unknown/);
    const fresh = await request(t.url).post(`/api/v1/people/${invited.body.id}/reset-link`).set(auth()).expect(201);
    expect(fresh.body.url).toMatch(/\/invite\?token=/);
    const again = new URL(fresh.body.url).searchParams.get('token');
    const weak = await request(t.url).post('/api/v1/auth/accept-invite').send({ token: again, password: 'late@example.com' });
    expect(weak.status).toBe(400);
    await request(t.url).post('/api/v1/auth/accept-invite').send({ token: again, password: PASSWORD }).expect(201);
    expect((await request(t.url).post('/api/v1/auth/accept-invite').send({ token: again, password: PASSWORD })).status).toBe(403);
  });

  it('refuse bad input naming the field: environments for a non-editor, unknown environments, a taken email', async () => {
    const viewerLimited = await request(t.url).post('/api/v1/people').set(auth()).send({ email: 'x@example.com', name: 'X', role: 'viewer', environments: ['development'] });
    expect(viewerLimited.status).toBe(400);
    expect(viewerLimited.body.message).toMatch(/^environments:/);
    const unknown = await request(t.url).post('/api/v1/people').set(auth()).send({ email: 'x@example.com', name: 'X', role: 'editor', environments: ['staging'] });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors).toEqual([{ path: 'environments', message: 'no environment "staging"' }]);
    const taken = await request(t.url).post('/api/v1/people').set(auth()).send({ email: 'VERA@example.com', name: 'V', role: 'viewer' });
    expect(taken.status).toBe(409);
    const role = await request(t.url).post('/api/v1/people').set(auth()).send({ email: 'y@example.com', name: 'Y', role: 'owner' });
    expect(role.status).toBe(400);
    expect(role.body.message).toMatch(/role/);
  });
});

describe('an editor limited to development', () => {
  const prod = '/api/v1/environments/production/flags/checkout';
  const dev = '/api/v1/environments/development/flags/checkout';

  it('kills in production but may not revive or reconfigure it, nor start plans there', async () => {
    const b = browsers.devEditor;
    await as(t, b, 'post', `${prod}/kill`).send({ reason: 'errors up' }).expect(200);
    const revive = await as(t, b, 'post', `${prod}/revive`).send({});
    expect(revive.status).toBe(403);
    expect(revive.body.message).toMatch(/may not change the environment "production", only "development"/);
    expect((await as(t, b, 'put', prod).send({ enabled: true })).status).toBe(403);
    expect((await as(t, b, 'post', `${prod}/rollout-plans`).send({})).status).toBe(403);
    const state = await request(t.url).get(prod).set(auth()).expect(200);
    expect(state.body.enabled).toBe(false);
    await as(t, b, 'post', `${dev}/revive`).send({}).expect(200);
    await as(t, b, 'get', prod).expect(200);
    await as(t, b, 'post', '/api/v1/environments/production/evaluate').send({ flag: 'checkout', context: { key: 'u1' } }).expect(200);
  });

  it('may not change what every environment shares', async () => {
    const res = await as(t, browsers.devEditor, 'post', '/api/v1/flags').send({ key: 'shared' });
    expect(res.status).toBe(403);
    expect(res.body.message).toMatch(/changes every environment/);
    await as(t, browsers.editor, 'post', '/api/v1/flags').send({ key: 'shared' }).expect(201);
  });
});

/** Every write of the admin API, from the router Nest built: a new endpoint joins the matrix by itself. */
function writeRoutes(): Array<{ method: string; path: string }> {
  const express = t.app.getHttpAdapter().getInstance() as { router: { stack: Array<{ route?: { path: string; methods: Record<string, boolean> } }> } };
  return express.router.stack
    .flatMap((layer) => (layer.route ? Object.keys(layer.route.methods).map((method) => ({ method: method.toUpperCase(), path: layer.route!.path })) : []))
    .filter((r) => r.path.startsWith('/api/v1/') && !r.path.startsWith('/api/v1/auth/') && !['GET', 'HEAD', 'OPTIONS'].includes(r.method));
}

/** What editors may write (docs/people.md); everything else is for admins. */
const EDITOR_WRITES = [/^\/api\/v1\/flags/, /^\/api\/v1\/cohorts/, /^\/api\/v1\/environments\/:env\/(flags|evaluate)/, /^\/api\/v1\/rollout-plans\//];

describe('the role × action matrix', () => {
  const routes = writeRoutes();

  it('finds the routes', () => {
    expect(routes.length).toBeGreaterThan(25);
    expect(routes).toContainEqual({ method: 'POST', path: '/api/v1/people' });
    expect(routes).toContainEqual({ method: 'POST', path: '/api/v1/environments/:env/flags/:key/kill' });
  });

  it.each(routes.flatMap((r) => (['viewer', 'editor', 'admin'] as const).map((role) => [role, r.method, r.path] as const)))('%s: %s %s', async (role, method, path) => {
    // Names that do not exist: an allowed call stops at validation or 404 and changes nothing.
    const url = path.replace(':env', 'matrix-none').replace(':key', 'matrix-none').replace(':id', randomUUID());
    const res = await as(t, browsers[role], method.toLowerCase() as 'post', url).send({});
    const editorMay = EDITOR_WRITES.some((p) => p.test(path));
    const needed = editorMay ? 'editor' : 'admin';
    if (role === 'viewer' || (role === 'editor' && !editorMay)) {
      expect(res.status, JSON.stringify(res.body)).toBe(403);
      expect(res.body.message).toMatch(new RegExp(`needs the ${needed} role`));
    } else {
      expect(res.status, JSON.stringify(res.body)).not.toBe(403);
      expect(res.status).not.toBe(401);
      expect(res.status).toBeLessThan(500);
    }
  });
});

describe('the OpenAPI document', () => {
  it('shows both auth schemes: bearer keys and the session cookie', async () => {
    const doc = (await request(t.url).get('/openapi.json').expect(200)).body;
    expect(doc.components.securitySchemes).toMatchObject({ bearer: { type: 'http', scheme: 'bearer' }, cookie: { type: 'apiKey', in: 'cookie', name: 'aviary_session' } });
    expect(doc.paths['/api/v1/people'].post.security).toEqual(expect.arrayContaining([{ bearer: [] }, { cookie: [] }]));
  });
});

describe('sessions', () => {
  it('are listed and ended by their owner and by admins; /me names the CSRF cookie and header', async () => {
    const b = await login(t, 'vera@example.com');
    const me = await as(t, b, 'get', '/api/v1/auth/me').expect(200);
    expect(me.body).toMatchObject({ email: 'vera@example.com', role: 'viewer', environments: null, csrf: { cookie: 'aviary_csrf', header: 'X-CSRF-Token' } });
    const listed = await as(t, browsers.admin, 'get', `/api/v1/people/${ids['vera@example.com']}/sessions`).expect(200);
    expect(listed.body.map((s: { id: string }) => s.id)).toContain(me.body.sessionId);
    await as(t, browsers.admin, 'delete', `/api/v1/people/${ids['vera@example.com']}/sessions/${me.body.sessionId}`).expect(204);
    expect((await as(t, b, 'get', '/api/v1/auth/me')).status).toBe(401);
    // The other session of the same person stays.
    await as(t, browsers.viewer, 'get', '/api/v1/auth/me').expect(200);
  });
});

describe('disabling a person', () => {
  it('ends their sessions and their live streams at once and refuses their sign-in; a reset link lets them back', async () => {
    const b = await login(t, 'eddie@example.com');
    await as(t, b, 'get', '/api/v1/flags').expect(200);
    const stream = await openLiveStream(t, b);
    expect(stream.status).toBe(200);
    const viewerTry = await as(t, browsers.viewer, 'patch', `/api/v1/people/${ids['eddie@example.com']}`).send({ disabled: true });
    expect(viewerTry.status).toBe(403);
    await as(t, browsers.admin, 'patch', `/api/v1/people/${ids['eddie@example.com']}`).send({ disabled: true }).expect(200);
    // Ended by the revocation, not by the 5-minute re-authentication: within the 5 s the helper allows.
    await stream.ended();
    expect((await openLiveStream(t, b)).status).toBe(401);
    expect((await as(t, b, 'get', '/api/v1/flags')).status).toBe(401);
    expect((await as(t, browsers.editor, 'get', '/api/v1/flags')).status).toBe(401);
    expect((await request(t.url).post('/api/v1/auth/login').send({ email: 'eddie@example.com', password: PASSWORD })).status).toBe(401);
    await request(t.url).patch(`/api/v1/people/${ids['eddie@example.com']}`).set(auth()).send({ disabled: false }).expect(200);
    const reset = await request(t.url).post(`/api/v1/people/${ids['eddie@example.com']}/reset-link`).set(auth()).expect(201);
    const token = new URL(reset.body.url).searchParams.get('token');
    await request(t.url).post('/api/v1/auth/reset-password').send({ token, password: 'a brand new passphrase' }).expect(201);
    expect((await request(t.url).post('/api/v1/auth/login').send({ email: 'eddie@example.com', password: PASSWORD })).status).toBe(401);
    await login(t, 'eddie@example.com', 'a brand new passphrase');
  });

  it('never leaves the installation without an active admin', async () => {
    const me = await as(t, browsers.admin, 'get', '/api/v1/auth/me').expect(200);
    const res = await as(t, browsers.admin, 'patch', `/api/v1/people/${me.body.id}`).send({ role: 'viewer' });
    expect(res.status).toBe(409);
  });
});
