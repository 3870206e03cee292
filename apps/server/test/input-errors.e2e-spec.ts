import pg from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { APP_LOGGER } from '../src/observability/observability.module.js';
import { auth, createTestDatabase, fingerprint, rawRequest, startApp, type TestApp } from './helpers.js';

/** Bad input gets a 4xx that names the problem (the field, the header, the endpoint to use) and
 *  changes nothing. */

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let t: TestApp;
let probe: pg.Client;
let serverKey: string;
let keyId: string;
let planId: string;

const api = () => request(t.url);
const flagPath = (flag: string) => `/api/v1/environments/production/flags/${flag}`;
const expectError = (res: { status: number; body: unknown }, status: number) => {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body).toMatchObject({ statusCode: status, error: expect.any(String), message: expect.any(String), requestId: expect.any(String) });
};
const paths = (res: request.Response) => (res.body.errors ?? []).map((e: { path: string }) => e.path);

beforeAll(async () => {
  db = await createTestDatabase();
  t = await startApp({ DATABASE_URL: db.url });
  probe = new pg.Client({ connectionString: db.url });
  await probe.connect();
  serverKey = (await api().post('/api/v1/api-keys').set(auth()).send({ name: 'svc', kind: 'server', environment: 'production' }).expect(201)).body.secret;
  keyId = (await api().post('/api/v1/api-keys').set(auth()).send({ name: 'spare', kind: 'client', environment: 'production' }).expect(201)).body.id;
  for (const key of ['f1', 'f2', 'f3', 'f4']) await api().post('/api/v1/flags').set(auth()).send({ key }).expect(201);
  for (const key of ['f1', 'f3', 'f4']) await api().put(flagPath(key)).set(auth()).send({ enabled: true, rules: [{ id: 'r1', rollout: { percentage: 5 } }] }).expect(200);
  for (const key of ['c1', 'c2', 'c3']) await api().post('/api/v1/cohorts').set(auth()).send({ key }).expect(201);
  await api().post('/api/v1/environments').set(auth()).send({ key: 'scratch' }).expect(201);
  planId = (await api().post(`${flagPath('f4')}/rollout-plans`).set(auth()).send({ ruleId: 'r1', steps: [{ percentage: 10, holdSeconds: 60 }] }).expect(201)).body.id;
});

afterAll(async () => {
  await probe?.end();
  await t?.close();
  await db?.drop();
});

describe('a body that is not JSON (the Content-Type says otherwise)', () => {
  const writes = (): Array<[string, string, object]> => [
    ['POST', '/api/v1/environments', { key: 'e415' }],
    ['PATCH', '/api/v1/environments/development', { name: 'renamed' }],
    ['DELETE', '/api/v1/environments/scratch', { reason: 'gone' }],
    ['POST', '/api/v1/flags', { key: 'f415' }],
    ['PATCH', '/api/v1/flags/f1', { name: 'renamed' }],
    ['DELETE', '/api/v1/flags/f2', { reason: 'gone' }],
    ['PUT', flagPath('f1'), { enabled: false }],
    ['POST', `${flagPath('f1')}/kill`, { reason: 'incident' }],
    ['POST', `${flagPath('f1')}/revive`, { reason: 'fixed' }],
    ['PUT', `${flagPath('f1')}/rollout`, { percentage: 7 }],
    ['POST', `${flagPath('f3')}/rollout-plans`, { ruleId: 'r1', steps: [{ percentage: 10, holdSeconds: 60 }] }],
    ...['start', 'pause', 'resume', 'approve', 'cancel', 'rollback'].map((a): [string, string, object] => ['POST', `/api/v1/rollout-plans/${planId}/${a}`, { reason: a }]),
    ['POST', '/api/v1/cohorts', { key: 'c415' }],
    ['PATCH', '/api/v1/cohorts/c1', { name: 'renamed' }],
    ['DELETE', '/api/v1/cohorts/c2', { reason: 'gone' }],
    ['POST', '/api/v1/cohorts/c1/members', { add: ['u1'] }],
    ['POST', '/api/v1/api-keys', { name: 'k415', kind: 'admin' }],
    ['PATCH', `/api/v1/api-keys/${keyId}`, { allowedOrigins: ['https://a.example'] }],
    ['DELETE', `/api/v1/api-keys/${keyId}`, { reason: 'gone' }],
    ['POST', '/api/v1/environments/production/evaluate', { context: { key: 'u1' } }],
    ['POST', '/sdk/v1/metrics', { start: Date.now() - 1000, end: Date.now(), exposures: [{ flag: 'f1', enabled: true, count: 1 }] }],
  ];
  const contentTypes: Array<[string, Record<string, string>]> = [
    ['text/plain', { 'Content-Type': 'text/plain' }],
    ['no Content-Type', {}],
    ['a form', { 'Content-Type': 'application/x-www-form-urlencoded' }],
    ['multipart', { 'Content-Type': 'multipart/form-data; boundary=x' }],
    ['merge-patch JSON', { 'Content-Type': 'application/merge-patch+json' }],
    ['text/plain, chunked', { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' }],
  ];

  it('every write answers 415 naming Content-Type: application/json, and changes nothing', async () => {
    const before = await fingerprint(probe);
    for (const [method, path, body] of writes()) {
      for (const [name, headers] of contentTypes) {
        const key = path.startsWith('/sdk/') ? serverKey : undefined;
        const res = await rawRequest(t.url, method, path, { ...auth(key), ...headers }, JSON.stringify(body));
        const where = `${method} ${path} with ${name}: ${res.status} ${res.body}`;
        expect(res.status, where).toBe(415);
        const parsed = JSON.parse(res.body);
        expect(Object.keys(parsed), where).toEqual(['statusCode', 'error', 'message', 'requestId']);
        expect(parsed.message, where).toMatch(/Content-Type: application\/json/);
      }
    }
    expect(await fingerprint(probe)).toBe(before);
  });

  it('PUT {"enabled":false} as text/plain leaves the flag on, its version and the revision where they were', async () => {
    const config = (await api().get(flagPath('f1')).set(auth()).expect(200)).body;
    const revision = (await api().get('/api/v1/environments/production').set(auth()).expect(200)).body.revision;
    const res = await api().put(flagPath('f1')).set(auth()).set('Content-Type', 'text/plain').send('{"enabled":false}');
    expectError(res, 415);
    expect(res.body.message).toBe('The request body must be JSON: send it with Content-Type: application/json');
    const after = (await api().get(flagPath('f1')).set(auth()).expect(200)).body;
    expect(after).toMatchObject({ enabled: true, version: config.version });
    expect((await api().get('/api/v1/environments/production').set(auth()).expect(200)).body.revision).toBe(revision);
  });

  it('a charset other than UTF-8 is a 415 naming it (a UTF-16 body cannot slip a NUL past the checks)', async () => {
    const utf16 = Buffer.from('{"key":"nul\\u0000"}', 'utf16le');
    for (const charset of ['utf-16le', 'utf-16', 'utf8', 'latin1', 'iso-8859-1', 'klingon']) {
      const res = await rawRequest(t.url, 'POST', '/api/v1/flags', { ...auth(), 'Content-Type': `application/json; charset=${charset}` }, utf16);
      expect(res.status, `${charset}: ${res.body}`).toBe(415);
      expect(JSON.parse(res.body).message).toBe(`Unsupported charset "${charset.toUpperCase()}": send UTF-8 JSON with Content-Type: application/json`);
    }
    for (const [i, charset] of ['utf-8', 'UTF-8', '"utf-8"'].entries()) {
      const res = await rawRequest(t.url, 'POST', '/api/v1/flags', { ...auth(), 'Content-Type': `application/json; charset=${charset}` }, JSON.stringify({ key: `utf8-${i}` }));
      expect(res.status, `${charset}: ${res.body}`).toBe(201);
    }
  });

  it('a write with no body where none is needed still works (DELETE, kill without a reason)', async () => {
    expect((await rawRequest(t.url, 'DELETE', '/api/v1/cohorts/c3', auth())).status).toBe(204);
    expect((await rawRequest(t.url, 'POST', `${flagPath('f3')}/kill`, auth())).status).toBe(200);
    // curl -X POST -H 'Content-Type: text/plain' sends an empty body: that is no body.
    expect((await rawRequest(t.url, 'POST', `${flagPath('f3')}/revive`, { ...auth(), 'Content-Type': 'text/plain', 'Content-Length': '0' }, '')).status).toBe(200);
    expect((await rawRequest(t.url, 'POST', `${flagPath('f3')}/kill`, { ...auth(), 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' }, '')).status).toBe(200);
    expect((await rawRequest(t.url, 'POST', `${flagPath('f3')}/revive`, { ...auth(), 'Content-Type': 'application/json', 'Content-Length': '0' }, '')).status).toBe(200);
    await api().post(`${flagPath('f3')}/kill`).set(auth()).expect(200);
  });
});

describe('a missing required field', () => {
  it.each([
    ['POST', '/api/v1/api-keys', {}, ['name is required', 'kind is required']],
    ['POST', '/api/v1/api-keys', { name: 'svc', kind: 'server' }, ['environment is required']],
    ['POST', '/api/v1/flags', { name: 'x' }, ['key is required']],
    ['POST', '/api/v1/environments/production/flags/f1/rollout-plans', { ruleId: 'r1', steps: [{ percentage: 5 }] }, ['steps[0].holdSeconds is required']],
    ['POST', '/api/v1/environments/production/flags/f1/rollout-plans', { ruleId: 'r1' }, ['steps is required']],
    ['PUT', '/api/v1/environments/production/flags/f1', { rules: [{ rollout: {} }] }, ['rules[0].id is required', 'rules[0].rollout.percentage is required']],
    ['POST', '/sdk/v1/metrics', { end: 1 }, ['start is required']],
  ])('%s %s %j: one message per field', async (method, path, body, messages) => {
    const res = await api()[method.toLowerCase() as 'post'](path).set(auth(path.startsWith('/sdk/') ? serverKey : undefined)).send(body);
    expectError(res, 400);
    expect(res.body.message).toBe(messages.join('; '));
    expect(res.body.errors).toEqual(messages.map((m) => ({ path: m.replace(/ is required$/, ''), message: 'is required' })));
  });

  it('a present field of the wrong type gets the type message only', async () => {
    const res = await api().post('/api/v1/api-keys').set(auth()).send({ name: 5, kind: 'admin' });
    expectError(res, 400);
    expect(res.body.message).toBe('name: must be a string');
  });
});

describe('member lists (validated in one pass by MembersBodyPipe)', () => {
  const post = (body: unknown) => api().post('/api/v1/cohorts/c2/members').set(auth()).send(body as object);

  it('name each bad key at its index, with the problems of the rest of the body, and store nothing', async () => {
    const res = await post({ add: ['ok', 7, '', 'x'.repeat(257), '🚀'.repeat(256)], exclude: 'u9', reason: 5, extra: 1 });
    expectError(res, 400);
    expect(res.body.errors).toEqual([
      { path: 'add[1]', message: 'must be a string' },
      { path: 'add[2]', message: 'must not be empty' },
      { path: 'add[3]', message: 'must be at most 256 characters' },
      { path: 'exclude', message: 'must be an array of member keys' },
      { path: 'extra', message: 'is not a known field' },
      { path: 'reason', message: 'must be a string' },
    ]);
    expect((await api().get('/api/v1/cohorts/c2').set(auth()).expect(200)).body.counts).toEqual({ included: 0, excluded: 0 });
  });

  it('report ten bad keys at most; a list over 100,000 keys by its name; null is no list', async () => {
    const many = await post({ remove: Array.from({ length: 50_000 }, () => 0) });
    expect(paths(many)).toEqual(Array.from({ length: 10 }, (_, i) => `remove[${i}]`));
    const tooMany = await post({ add: Array.from({ length: 100_001 }, (_, i) => `k${i}`) });
    expect(tooMany.body.errors).toEqual([{ path: 'add', message: 'must hold at most 100,000 keys (send more in further calls)' }]);
    const none = await post({ add: null, exclude: ['u1'], reason: 'why' }).expect(200);
    expect(none.body.applied).toEqual({ added: 0, removed: 0, excluded: 1 });
    expectError(await post([['u1']]), 400);
  });
});

describe('an unknown field', () => {
  it.each([
    ['POST', '/api/v1/cohorts', { key: 'cx', members: ['a'] }, 'members: set members with POST /api/v1/cohorts/:key/members'],
    ['PATCH', '/api/v1/cohorts/c1', { included: ['a'] }, 'included: set members with POST /api/v1/cohorts/:key/members'],
    ['POST', '/api/v1/flags', { key: 'fx', enabled: true }, 'enabled: set it per environment with PUT /api/v1/environments/:env/flags/:key'],
    ['POST', '/api/v1/flags', { key: 'fx', rules: [] }, 'rules: set them per environment with PUT /api/v1/environments/:env/flags/:key'],
    ['PATCH', '/api/v1/flags/f1', { percentage: 5 }, 'percentage: set it per environment with PUT /api/v1/environments/:env/flags/:key/rollout'],
    ['PUT', flagPath('f1'), { percentage: 5 }, 'percentage: set it with PUT /api/v1/environments/:env/flags/:key/rollout'],
    ['PUT', flagPath('f1'), { name: 'x' }, 'name: set it for every environment with PATCH /api/v1/flags/:key'],
    ['PUT', flagPath('f1'), { version: 2 }, 'version: send it as the If-Match header'],
    ['PATCH', '/api/v1/flags/f1', { key: 'other' }, 'key: a flag\'s key cannot change; create a new flag'],
    ['PUT', `${flagPath('f1')}/rollout`, { percentage: 5, enabled: true }, 'enabled: set it with PUT /api/v1/environments/:env/flags/:key'],
    ['PATCH', `/api/v1/api-keys/${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}`, { name: 'x' }, 'name: only allowedOrigins can change; create a new key and revoke this one'],
    ['POST', '/api/v1/environments', { key: 'ex', extra: 1 }, 'extra is not a known field'],
    ['PUT', flagPath('f1'), { rules: [{ id: 'r', percentage: 5 }] }, 'rules[0].percentage: set it as rollout: { percentage }'],
    ['PUT', flagPath('f1'), { rules: [{ id: 'r', rollout: { percentage: 5, steps: [] } }] }, 'rules[0].rollout.steps is not a known field'],
  ])('%s %s %j: %s', async (method, path, body, message) => {
    const res = await api()[method.toLowerCase() as 'post'](path).set(auth()).send(body);
    expectError(res, 400);
    expect(res.body.message).toBe(message);
  });
});

describe('a CORS preflight from an origin that is not allowed', () => {
  it('is a 403 naming AVIARY_CORS_ORIGINS (none are allowed by default), and a warn line says so too', async () => {
    const warn = vi.spyOn(t.app.get(APP_LOGGER), 'warn');
    try {
      const res = await api().options('/api/v1/flags').set('Origin', 'https://admin.example').set('Access-Control-Request-Method', 'POST');
      expectError(res, 403);
      expect(res.body.message).toBe('The origin https://admin.example is not allowed to call this server from a browser; add it to AVIARY_CORS_ORIGINS');
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
      expect(warn).toHaveBeenCalledWith(expect.objectContaining({ origin: 'https://admin.example', setting: 'AVIARY_CORS_ORIGINS' }), expect.stringMatching(/AVIARY_CORS_ORIGINS/));
    } finally {
      warn.mockRestore();
    }
    // Not a preflight: answered as before, without CORS headers.
    const plain = await api().options('/api/v1/flags').set('Origin', 'https://admin.example');
    expect(plain.status).toBe(404);
  });
});

describe('grammar', () => {
  it('a server key on the admin API: "it needs an admin key"', async () => {
    const res = await api().get('/api/v1/flags').set(auth(serverKey));
    expectError(res, 403);
    expect(res.body.message).toBe('A server key cannot call this endpoint; it needs an admin key');
  });

  it.each([
    ['POST', `${flagPath('f1')}/rollout-plans`, { ruleId: 'r1', steps: [] }, 'steps: must not be empty'],
    ['POST', '/api/v1/flags', { key: 'g1', name: '' }, 'name: must not be empty'],
    ['POST', '/api/v1/flags', { key: 'g2', tags: ['ok', ''] }, 'tags: must not hold empty strings'],
  ])('%s %s %j: %s (not "at least 1 elements")', async (method, path, body, message) => {
    const res = await api()[method.toLowerCase() as 'post'](path).set(auth()).send(body);
    expectError(res, 400);
    expect(res.body.message).toBe(message);
  });
});

describe('numbers in exponent form', () => {
  it.each([
    [`${flagPath('f1')}/rollout`, 'PUT', '{"percentage":1e-9}', 'percentage'],
    [`${flagPath('f1')}/rollout`, 'PUT', '{"percentage":1E2}', undefined],
    [`${flagPath('f1')}/rollout`, 'PUT', '{"percentage":1e400}', 'percentage'],
    [`${flagPath('f1')}/rollout-plans`, 'POST', '{"ruleId":"r1","steps":[{"percentage":1e-7,"holdSeconds":60}]}', 'steps[0].percentage'],
    [`${flagPath('f1')}/rollout-plans`, 'POST', '{"ruleId":"r1","steps":[{"percentage":5,"holdSeconds":1e-9}]}', 'steps[0].holdSeconds'],
    [flagPath('f1'), 'PUT', '{"rules":[{"id":"r1","rollout":{"percentage":1e-7}}]}', 'rules[0].rollout.percentage'],
  ])('%s %s %s', async (path, method, body, field) => {
    const res = await api()[method.toLowerCase() as 'put'](path).set(auth()).set('Content-Type', 'application/json').send(body);
    if (field === undefined) {
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return;
    }
    expectError(res, 400);
    expect(paths(res)).toEqual([field]);
    expect(res.body.message).toMatch(new RegExp(`^${field.replace(/[[\].]/g, '\\$&')}: `));
  });
});

describe('strings: NUL and lone surrogates', () => {
  it.each([
    [{ key: 'n1', name: 'a\u0000b' }, 'name', 'NUL'],
    [{ key: 'n2', variants: [{ key: 'v', value: { label: 'x\u0000' } }] }, 'variants[0].value.label', 'NUL'],
    [{ key: 'n3', name: '\ud800' }, 'name', 'lone surrogate'],
    [{ key: 'n4', name: 'ok', reason: '\udc00abc' }, 'reason', 'lone surrogate'],
    [{ key: 'n5', tags: ['fine', 'bad\ud83d'] }, 'tags[1]', 'lone surrogate'],
    [{ key: 'n6', variants: [{ key: 'v', value: { ['k\ud800']: 1 } }] }, 'variants[0].value', 'lone surrogate'],
  ])('%j is refused naming %s', async (body, field, problem) => {
    const res = await api().post('/api/v1/flags').set(auth()).send(body);
    expectError(res, 400);
    expect(paths(res)).toEqual([field]);
    expect(res.body.message).toContain(`${field}: `);
    expect(res.body.message).toContain(problem);
    expect((await api().get(`/api/v1/flags/${(body as { key: string }).key}`).set(auth())).status).toBe(404);
  });

  it('lone surrogates in reasons of kill and in cohort member keys; a real surrogate pair is fine', async () => {
    const kill = await api().post(`${flagPath('f1')}/kill`).set(auth()).send({ reason: 'oops \ud800' });
    expectError(kill, 400);
    expect(paths(kill)).toEqual(['reason']);
    const members = await api().post('/api/v1/cohorts/c1/members').set(auth()).send({ add: ['ok', '\udfff'] });
    expectError(members, 400);
    expect(paths(members)).toEqual(['add[1]']);
    await api().post('/api/v1/flags').set(auth()).send({ key: 'emoji', name: 'rocket 🚀' }).expect(201);
  });
});
