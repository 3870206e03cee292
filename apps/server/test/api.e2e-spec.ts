import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, auth, createTestDatabase, startApp, type TestApp, withClient } from './helpers.js';
import { LiveRulesets } from '../src/stream/live-rulesets.js';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let t: TestApp;
let readOnlyKey: string;
let serverKey: string;
let clientKey: string;

const api = () => request(t.url);
const expectError = (res: request.Response, status: number) => {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body).toMatchObject({ statusCode: status, error: expect.any(String), message: expect.any(String), requestId: expect.any(String) });
};

beforeAll(async () => {
  db = await createTestDatabase();
  t = await startApp({ DATABASE_URL: db.url });
  const make = async (body: object) => (await api().post('/api/v1/api-keys').set(auth()).send(body).expect(201)).body.secret as string;
  readOnlyKey = await make({ name: 'reader', kind: 'admin', readOnly: true });
  serverKey = await make({ name: 'svc', kind: 'server', environment: 'production' });
  clientKey = await make({ name: 'web', kind: 'client', environment: 'production' });
});

afterAll(async () => {
  await t?.close();
  await db?.drop();
});

describe('first start', () => {
  it('creates development and production and the admin key', async () => {
    const res = await api().get('/api/v1/environments').set(auth()).expect(200);
    expect(res.body.items.map((e: { key: string }) => e.key)).toEqual(['development', 'production']);
    expect(res.body.items[0].revision).toBe(1);
  });
});

describe('auth', () => {
  it.each([
    ['no header', {}],
    ['unknown key', auth('ava_nope_nope_nope_nope_nope')],
    ['malformed header', { Authorization: 'Basic abc' }],
  ])('401 with %s', async (_name, headers) => {
    expectError(await api().get('/api/v1/flags').set(headers), 401);
  });

  it('403 for server and client keys on the admin API', async () => {
    expectError(await api().get('/api/v1/flags').set(auth(serverKey)), 403);
    expectError(await api().get('/api/v1/flags').set(auth(clientKey)), 403);
  });

  it('read-only admin keys read and evaluate but cannot write', async () => {
    await api().get('/api/v1/flags').set(auth(readOnlyKey)).expect(200);
    await api().post('/api/v1/environments/production/evaluate').set(auth(readOnlyKey)).send({ context: { key: 'u' } }).expect(200);
    expectError(await api().post('/api/v1/flags').set(auth(readOnlyKey)).send({ key: 'x' }), 403);
  });

  it('health and docs need no key', async () => {
    await api().get('/health').expect(200);
    const doc = await api().get('/openapi.json').expect(200);
    expect(doc.body.paths['/api/v1/environments/{env}/flags/{key}/rollout']).toBeDefined();
    expect(doc.body.components.schemas.FlagConfigDto.properties.rules).toBeDefined();
    await api().get('/docs').expect(200);
  });
});

describe('environments', () => {
  it('create, get, patch, list, delete', async () => {
    const created = await api().post('/api/v1/environments').set(auth()).send({ key: 'staging', name: 'Staging', reason: 'qa' }).expect(201);
    expect(created.body).toMatchObject({ key: 'staging', name: 'Staging', revision: 1 });
    await api().get('/api/v1/environments/staging').set(auth()).expect(200);
    const patched = await api().patch('/api/v1/environments/staging').set(auth()).send({ description: 'pre-prod' }).expect(200);
    expect(patched.body).toMatchObject({ description: 'pre-prod', revision: 2 });
    const page = await api().get('/api/v1/environments?limit=1').set(auth()).expect(200);
    expect(page.body.items).toHaveLength(1);
    expect(page.body.nextCursor).toBe('development');
    const next = await api().get(`/api/v1/environments?limit=1&cursor=${page.body.nextCursor}`).set(auth()).expect(200);
    expect(next.body.items[0].key).toBe('production');
    await api().delete('/api/v1/environments/staging').set(auth()).send({ reason: 'done' }).expect(204);
    expectError(await api().get('/api/v1/environments/staging').set(auth()), 404);
  });

  it('400 with field paths, 404, 409', async () => {
    const bad = await api().post('/api/v1/environments').set(auth()).send({ key: 'no spaces', extra: 1 });
    expectError(bad, 400);
    expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['extra', 'key']);
    expectError(await api().post('/api/v1/environments').set(auth()).send({ key: 'production' }), 409);
    expectError(await api().patch('/api/v1/environments/nope').set(auth()).send({ name: 'x' }), 404);
    expectError(await api().delete('/api/v1/environments/production').set(auth()), 409); // keys are bound to it
  });
});

describe('flags', () => {
  it('create, get, patch, list, archive', async () => {
    const created = await api()
      .post('/api/v1/flags')
      .set(auth())
      .send({ key: 'new-checkout', name: 'New checkout', tags: ['checkout'], variants: [{ key: 'blue', value: { color: '#00f' }, weight: 1 }, { key: 'green', weight: 1 }] })
      .expect(201);
    expect(created.body).toMatchObject({ key: 'new-checkout', clientVisible: false, tags: ['checkout'] });
    const one = await api().get('/api/v1/flags/new-checkout').set(auth()).expect(200);
    expect(one.body.environments.production).toEqual({ enabled: false, version: 1 });
    await api().patch('/api/v1/flags/new-checkout').set(auth()).send({ clientVisible: true, description: 'd' }).expect(200);
    const list = await api().get('/api/v1/flags?tag=checkout').set(auth()).expect(200);
    expect(list.body.items.map((f: { key: string }) => f.key)).toEqual(['new-checkout']);
    await api().post('/api/v1/flags').set(auth()).send({ key: 'temp' }).expect(201);
    await api().delete('/api/v1/flags/temp').set(auth()).send({ reason: 'cleanup' }).expect(204);
    expectError(await api().get('/api/v1/flags/temp').set(auth()), 404);
    await api().post('/api/v1/flags').set(auth()).send({ key: 'temp' }).expect(201); // an archived key is free again
  });

  it('PATCH with If-Match: the ETag of GET; 412 once someone else changed the definition', async () => {
    await api().post('/api/v1/flags').set(auth()).send({ key: 'etagged', name: 'E' }).expect(201);
    const read = await api().get('/api/v1/flags/etagged').set(auth()).expect(200);
    const etag = read.headers.etag as string;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    const other = await api().patch('/api/v1/flags/etagged').set(auth()).set('If-Match', etag).send({ description: 'theirs' }).expect(200);
    expect(other.headers.etag).not.toBe(etag);
    expectError(await api().patch('/api/v1/flags/etagged').set(auth()).set('If-Match', etag).send({ description: 'mine' }), 412);
    expect((await api().get('/api/v1/flags/etagged').set(auth()).expect(200)).body.description).toBe('theirs');
    await api().patch('/api/v1/flags/etagged').set(auth()).set('If-Match', other.headers.etag as string).send({ description: 'mine' }).expect(200);
    // Writing the same content again keeps the ETag: it names the definition, not the write.
    const same = await api().patch('/api/v1/flags/etagged').set(auth()).send({ description: 'mine' }).expect(200);
    expect((await api().get('/api/v1/flags/etagged').set(auth())).headers.etag).toBe(same.headers.etag);
    expectError(await api().patch('/api/v1/flags/etagged').set(auth()).set('If-Match', '7 8').send({ name: 'x' }), 400);
    await api().patch('/api/v1/flags/etagged').set(auth()).set('If-Match', '*').send({ name: 'any' }).expect(200);
  });

  it('400, 404, 409', async () => {
    const bad = await api().post('/api/v1/flags').set(auth()).send({ key: 'x', variants: [{ key: 'a', weight: 1.5 }, { key: 'a' }] });
    expectError(bad, 400);
    expect(bad.body.errors[0].path).toBe('variants[0].weight');
    const dup = await api().post('/api/v1/flags').set(auth()).send({ key: 'x2', variants: [{ key: 'a' }, { key: 'a' }] });
    expectError(dup, 400);
    expect(dup.body.errors[0].path).toBe('variants[1].key');
    expectError(await api().post('/api/v1/flags').set(auth()).send({ key: 'new-checkout' }), 409);
    expectError(await api().patch('/api/v1/flags/nope').set(auth()).send({ name: 'x' }), 404);
    expectError(await api().delete('/api/v1/flags/nope').set(auth()), 404);
  });
});

describe('cohorts', () => {
  it('create, members in bulk, paged listing, counts, patch, delete', async () => {
    await api().post('/api/v1/cohorts').set(auth()).send({ key: 'beta', conditions: [{ attribute: 'country', operator: 'in', values: ['NL'] }] }).expect(201);
    const keys = Array.from({ length: 100_000 }, (_, i) => `user-${i}`);
    const added = await api().post('/api/v1/cohorts/beta/members').set(auth()).send({ add: keys }).expect(200);
    expect(added.body.counts).toEqual({ included: 100_000, excluded: 0 });
    const moved = await api().post('/api/v1/cohorts/beta/members').set(auth()).send({ exclude: ['user-1', 'nobody'], remove: ['user-2'] }).expect(200);
    expect(moved.body.counts).toEqual({ included: 99_998, excluded: 2 });
    const page = await api().get('/api/v1/cohorts/beta/members?limit=3').set(auth()).expect(200);
    expect(page.body.items).toEqual(['user-0', 'user-10', 'user-100']);
    const next = await api().get(`/api/v1/cohorts/beta/members?limit=2&cursor=${page.body.nextCursor}`).set(auth()).expect(200);
    expect(next.body.items).toEqual(['user-1000', 'user-10000']);
    const excluded = await api().get('/api/v1/cohorts/beta/members?list=excluded').set(auth()).expect(200);
    expect(excluded.body.items).toEqual(['nobody', 'user-1']);
    expect((await api().get('/api/v1/cohorts/beta').set(auth()).expect(200)).body.counts).toEqual({ included: 99_998, excluded: 2 });
    await api().patch('/api/v1/cohorts/beta').set(auth()).send({ name: 'Beta testers' }).expect(200);
    await api().get('/api/v1/cohorts').set(auth()).expect(200);
    await api().post('/api/v1/cohorts').set(auth()).send({ key: 'gone' }).expect(201);
    await api().post('/api/v1/cohorts/gone/members').set(auth()).send({ add: ['a', 'b'], exclude: ['c'] }).expect(200);
    const count = (sql: string) => withClient(db.url, async (c) => Number((await c.query(sql)).rows[0].n));
    const members = await count('SELECT count(*) AS n FROM cohort_members');
    await api().delete('/api/v1/cohorts/gone').set(auth()).expect(204);
    // The members go with their cohort (there is no cascade: migration CohortMembersUnchecked).
    expect(await count('SELECT count(*) AS n FROM cohort_members')).toBe(members - 3);
    expect(await count('SELECT count(*) AS n FROM cohort_members m WHERE NOT EXISTS (SELECT 1 FROM cohorts c WHERE c.id = m.cohort_id)')).toBe(0);
  });

  it('a large list is inserted plainly while its keys are new, and upserted when one is there already (counts exact, nothing twice)', async () => {
    await api().post('/api/v1/cohorts').set(auth()).send({ key: 'bulk' }).expect(201);
    const key = (i: number) => `bulk-${i}`;
    const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => key(from + i));
    // New keys: the plain INSERT path (lists of 10,000 or more).
    const fresh = await api().post('/api/v1/cohorts/bulk/members').set(auth()).send({ add: range(0, 20_000), exclude: range(20_000, 30_000) }).expect(200);
    expect([fresh.body.counts, fresh.body.applied]).toEqual([{ included: 20_000, excluded: 10_000 }, { added: 20_000, removed: 0, excluded: 10_000 }]);
    // Rows written by the transaction itself carry its xid, as the cohort row it updated does;
    // rows written under a savepoint carry the subtransaction's.
    const written = () =>
      withClient(db.url, async (c) =>
        (await c.query(`SELECT count(*) FILTER (WHERE m.xmin = c.xmin)::int AS top, count(*)::int AS n FROM cohort_members m JOIN cohorts c ON c.id = m.cohort_id WHERE c.key = 'bulk'`)).rows[0],
      );
    expect(await written()).toEqual({ top: 0, n: 30_000 });
    // The last of its two batches meets keys already there, included and excluded: the first
    // batch's rows are rolled back with the attempt, and the upsert counts only what changed.
    const overlap = await api().post('/api/v1/cohorts/bulk/members').set(auth()).send({ add: [...range(30_000, 40_000), ...range(15_000, 25_000)] }).expect(200);
    expect([overlap.body.counts, overlap.body.applied]).toEqual([{ included: 35_000, excluded: 5_000 }, { added: 15_000, removed: 0, excluded: 0 }]);
    // The 10,000 new keys and the 5,000 moved ones, all by the upsert: nothing of the attempt is left.
    expect(await written()).toEqual({ top: 15_000, n: 40_000 });
    const rows = await withClient(db.url, async (c) =>
      (await c.query(`SELECT count(*)::int AS n, count(DISTINCT m.key)::int AS keys, count(*) FILTER (WHERE excluded)::int AS excluded FROM cohort_members m JOIN cohorts c ON c.id = m.cohort_id WHERE c.key = 'bulk'`)).rows[0],
    );
    expect(rows).toEqual({ n: 40_000, keys: 40_000, excluded: 5_000 });
  });

  it('answers whether one key is in the included or the excluded list', async () => {
    await api().post('/api/v1/cohorts').set(auth()).send({ key: 'lookup' }).expect(201);
    await api().post('/api/v1/cohorts/lookup/members').set(auth()).send({ add: ['user-1', 'user 2/ü'], exclude: ['user-9'] }).expect(200);
    const ask = async (member: string) => (await api().get(`/api/v1/cohorts/lookup/members/${encodeURIComponent(member)}`).set(auth()).expect(200)).body;
    expect(await ask('user-1')).toEqual({ member: 'user-1', list: 'included' });
    expect(await ask('user 2/ü')).toEqual({ member: 'user 2/ü', list: 'included' });
    expect(await ask('user-9')).toEqual({ member: 'user-9', list: 'excluded' });
    expect(await ask('user-3')).toEqual({ member: 'user-3', list: null });
    expectError(await api().get('/api/v1/cohorts/nope/members/user-1').set(auth()), 404);
  });

  it('a member change of a large cohort reaches every environment, which share one copy of it', async () => {
    await api().post('/api/v1/flags').set(auth()).send({ key: 'beta-gate' }).expect(201);
    const environments = ['production', 'development'];
    for (const env of environments) await api().put(`/api/v1/environments/${env}/flags/beta-gate`).set(auth()).send({ enabled: true, rules: [{ id: 'beta', cohorts: ['beta'] }] }).expect(200);
    const enabledIn = async (env: string, key: string) =>
      (await api().post(`/api/v1/environments/${env}/evaluate`).set(auth()).send({ flag: 'beta-gate', context: { key } }).expect(200)).body.enabled as boolean;
    for (const env of environments) expect(await enabledIn(env, 'late-member')).toBe(false);
    await api().post('/api/v1/cohorts/beta/members').set(auth()).send({ add: ['late-member'] }).expect(200);
    for (const env of environments) expect(await enabledIn(env, 'late-member')).toBe(true);
    await api().post('/api/v1/cohorts/beta/members').set(auth()).send({ remove: ['late-member', 'user-3'] }).expect(200);
    for (const env of environments) {
      expect(await enabledIn(env, 'late-member')).toBe(false);
      expect(await enabledIn(env, 'user-3')).toBe(false);
      expect(await enabledIn(env, 'user-4')).toBe(true);
    }
    const live = t.app.get(LiveRulesets);
    const [production, development] = await Promise.all(environments.map((env) => live.current(env)));
    expect(production!.ruleset.cohorts['beta']).toBe(development!.ruleset.cohorts['beta']);
  });

  it('400, 404, 409', async () => {
    const bad = await api().post('/api/v1/cohorts').set(auth()).send({ key: 'c2', conditions: [{ attribute: 'ip', operator: 'inCidr', values: ['10.0.0.0/33'] }] });
    expectError(bad, 400);
    expect(bad.body.errors[0].path).toBe('conditions[0].values[0]');
    const tooMany = await api().post('/api/v1/cohorts/beta/members').set(auth()).send({ add: Array.from({ length: 100_001 }, (_, i) => `k${i}`) });
    expectError(tooMany, 400);
    expect(tooMany.body.errors[0].path).toBe('add');
    const twice = await api().post('/api/v1/cohorts/beta/members').set(auth()).send({ add: ['a', 'b'], remove: ['a', 'a'], exclude: ['b'] });
    expectError(twice, 400);
    // One line per key and list, however often the key is repeated there.
    expect(twice.body.errors).toEqual([
      { path: 'remove', message: '"a" is also in add' },
      { path: 'exclude', message: '"b" is also in add' },
    ]);
    expectError(await api().post('/api/v1/cohorts/nope/members').set(auth()).send({ add: ['a'] }), 404);
    expectError(await api().post('/api/v1/cohorts').set(auth()).send({ key: 'beta' }), 409);
  });
});

describe('flag configs', () => {
  const path = '/api/v1/environments/production/flags/new-checkout';

  it('get, put with If-Match, kill, revive, rollout, evaluate', async () => {
    const first = await api().get(path).set(auth()).expect(200);
    expect(first.body).toMatchObject({ enabled: false, version: 1, salt: 'new-checkout', rules: [] });
    expect(first.headers.etag).toBe('"1"');
    const put = await api()
      .put(path)
      .set(auth())
      .set('If-Match', '"1"')
      .send({
        enabled: true,
        rules: [
          { id: 'nl', conditions: [{ attribute: 'country', operator: 'in', values: ['NL'] }], cohorts: ['beta'], variant: 'blue' },
          { id: 'canary', rollout: { percentage: 12.5 }, split: [{ variant: 'blue', weight: 1 }, { variant: 'green', weight: 3 }] },
        ],
        reason: 'launch',
      })
      .expect(200);
    expect(put.body.version).toBe(2);
    expect(put.headers.etag).toBe('"2"');
    expectError(await api().put(path).set(auth()).set('If-Match', '"1"').send({ enabled: false }), 412);

    const nl = await api().post('/api/v1/environments/production/evaluate').set(auth()).send({ flag: 'new-checkout', context: { key: 'user-5', country: 'NL' } }).expect(200);
    expect(nl.body).toMatchObject({ enabled: true, reason: 'RULE_MATCH', ruleId: 'nl', variant: 'blue', value: { color: '#00f' } });

    const dial = await api().put(`${path}/rollout`).set(auth()).set('If-Match', '2').send({ percentage: 100, ruleId: 'canary' }).expect(200);
    expect(dial.body.rules[1].rollout.percentage).toBe(100);
    const all = await api().post('/api/v1/environments/production/evaluate').set(auth()).send({ context: { key: 'someone' } }).expect(200);
    expect(all.body.results['new-checkout']).toMatchObject({ enabled: true, ruleId: 'canary' });

    const killed = await api().post(`${path}/kill`).set(auth()).send({ reason: 'errors up' }).expect(200);
    expect(killed.body).toMatchObject({ enabled: false, version: 4 });
    const off = await api().post('/api/v1/environments/production/evaluate').set(auth()).send({ flag: 'new-checkout', context: { key: 'someone' } }).expect(200);
    expect(off.body).toMatchObject({ enabled: false, reason: 'DISABLED' });
    expectError(await api().post(`${path}/revive`).set(auth()).set('If-Match', '"3"').send({}), 412);
    await api().post(`${path}/revive`).set(auth()).set('If-Match', 'W/"4"').send({}).expect(200);

    const audit = await api().get('/api/v1/audit?resource=new-checkout&environment=production').set(auth()).expect(200);
    expect(audit.body.items.map((e: { action: string }) => e.action)).toEqual([
      'flag-config.revive', 'flag-config.kill', 'flag-config.rollout', 'flag-config.update',
    ]);
    expect(audit.body.items[1]).toMatchObject({ reason: 'errors up', actor: { name: 'first admin key' }, before: { enabled: true }, after: { enabled: false } });
  });

  it('rollout dial on a flag without rules creates one rule', async () => {
    await api().post('/api/v1/flags').set(auth()).send({ key: 'dial' }).expect(201);
    const res = await api().put('/api/v1/environments/production/flags/dial/rollout').set(auth()).send({ percentage: 5 }).expect(200);
    expect(res.body.rules).toEqual([{ id: 'rollout', conditions: [], rollout: { percentage: 5 } }]);
    const bad = await api().put('/api/v1/environments/production/flags/dial/rollout').set(auth()).send({ percentage: 5.0001 });
    expectError(bad, 400);
    expect(bad.body.errors[0].path).toBe('percentage');
    expectError(await api().put('/api/v1/environments/production/flags/dial/rollout').set(auth()).send({ percentage: 5, ruleId: 'nope' }), 400);
  });

  it.each([
    [{ rules: [{ id: 'r', conditions: [{ attribute: 'a', operator: 'in', values: ['x'] }, { attribute: 'v', operator: 'semverGt', values: ['v1.0'] }] }] }, 'rules[0].conditions[1].values'],
    [{ rules: [{ id: 'r', conditions: [{ attribute: 'a', operator: 'nope', values: ['x'] }] }] }, 'rules[0].conditions[0].operator'],
    [{ rules: [{ id: 'r', rollout: { percentage: 12.3456 } }] }, 'rules[0].rollout.percentage'],
    [{ rules: [{ id: 'r', rollout: { percentage: 101 } }] }, 'rules[0].rollout.percentage'],
    [{ rules: [{ id: 'r', split: [{ variant: 'blue', weight: -1 }] }] }, 'rules[0].split[0].weight'],
    [{ rules: [{ id: 'r', conditions: [{ attribute: 'a', operator: 'matches', values: ['(a)\\1'] }] }] }, 'rules[0].conditions[0].values'],
    [{ rules: [{ id: 'r', conditions: [{ attribute: 'a', operator: 'matches', values: ['('] }] }] }, 'rules[0].conditions[0].values'],
    [{ rules: [{ id: 'r', conditions: [{ attribute: 'a', operator: 'matches', values: ['a'.repeat(300)] }] }] }, 'rules[0].conditions[0].values'],
    [{ rules: [{ id: 'r', conditions: [{ attribute: 'd', operator: 'before', values: ['yesterday'] }] }] }, 'rules[0].conditions[0].values'],
    [{ rules: [{ id: 'r', conditions: [{ attribute: 'ip', operator: 'inCidr', values: ['300.1.1.1/8'] }] }] }, 'rules[0].conditions[0].values[0]'],
    [{ rules: [{ id: 'r', cohorts: ['no-such-cohort'] }] }, 'rules[0].cohorts[0]'],
    [{ rules: [{ id: 'r', variant: 'purple' }] }, 'rules[0].variant'],
    [{ rules: [{ id: 'r' }, { id: 'r' }] }, 'rules[1].id'],
    [{ prerequisites: [{ flag: 'no-such-flag' }] }, 'prerequisites[0].flag'],
    [{ prerequisites: [{ flag: 'new-checkout' }] }, 'prerequisites[0].flag'],
    [{ prerequisites: [{ flag: 'dial', variants: ['nope'] }] }, 'prerequisites[0].variants[0]'],
    [{ rules: [{ id: 'r', conditions: [{ attribute: 'a', operator: 'in', values: [{}] }] }] }, 'rules[0].conditions[0].values'],
    [{ rules: 'all' }, 'rules'],
    [{ enabled: 'yes' }, 'enabled'],
  ])('400 %j names %s', async (body, field) => {
    const res = await api().put(path).set(auth()).send(body);
    expectError(res, 400);
    expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(field);
  });

  it('refuses prerequisite cycles', async () => {
    await api().put('/api/v1/environments/production/flags/dial').set(auth()).send({ prerequisites: [{ flag: 'new-checkout' }] }).expect(200);
    const res = await api().put(path).set(auth()).send({ prerequisites: [{ flag: 'dial' }] });
    expectError(res, 400);
    expect(res.body.message).toMatch(/cycle/);
    expectError(await api().delete('/api/v1/flags/new-checkout').set(auth()), 409); // dial depends on it
    expectError(await api().delete('/api/v1/cohorts/beta').set(auth()), 409); // a rule uses it
    expectError(await api().patch('/api/v1/flags/new-checkout').set(auth()).send({ variants: [{ key: 'green' }] }), 409); // blue is served
  });

  it('keeps client-visible flags evaluable in browsers: their prerequisites must be client-visible too', async () => {
    await api().post('/api/v1/flags').set(auth()).send({ key: 'web-base' }).expect(201);
    await api().post('/api/v1/flags').set(auth()).send({ key: 'web-top', clientVisible: true }).expect(201);
    const hidden = await api().put('/api/v1/environments/production/flags/web-top').set(auth()).send({ prerequisites: [{ flag: 'web-base' }] });
    expectError(hidden, 400);
    expect(hidden.body.message).toMatch(/prerequisites\[0\]\.flag.*"web-base" is not client-visible/);
    // Hidden flag with the prerequisite, then made visible: refused until the prerequisite is visible.
    await api().patch('/api/v1/flags/web-top').set(auth()).send({ clientVisible: false }).expect(200);
    await api().put('/api/v1/environments/production/flags/web-top').set(auth()).send({ prerequisites: [{ flag: 'web-base' }] }).expect(200);
    const refused = await api().patch('/api/v1/flags/web-top').set(auth()).send({ clientVisible: true });
    expectError(refused, 400);
    expect(refused.body.message).toMatch(/clientVisible.*"web-base"/);
    await api().patch('/api/v1/flags/web-base').set(auth()).send({ clientVisible: true }).expect(200);
    await api().patch('/api/v1/flags/web-top').set(auth()).send({ clientVisible: true }).expect(200);
    // Hiding a prerequisite of a client-visible flag would break it in browsers.
    const conflict = await api().patch('/api/v1/flags/web-base').set(auth()).send({ clientVisible: false });
    expectError(conflict, 409);
    expect(conflict.body.message).toMatch(/"web-top" need "web-base"/);
  });

  it('404 for unknown environments and flags, 400 for a bad If-Match', async () => {
    expectError(await api().get('/api/v1/environments/nope/flags/new-checkout').set(auth()), 404);
    expectError(await api().get('/api/v1/environments/production/flags/nope').set(auth()), 404);
    expectError(await api().post('/api/v1/environments/production/flags/nope/kill').set(auth()).send({}), 404);
    expectError(await api().put(path).set(auth()).set('If-Match', 'banana').send({}), 400);
    expectError(await api().post('/api/v1/environments/nope/evaluate').set(auth()).send({ context: {} }), 404);
    const bad = await api().post('/api/v1/environments/production/evaluate').set(auth()).send({ context: { nested: { a: 1 } } });
    expectError(bad, 400);
    expect(bad.body.errors[0].path).toBe('context');
  });
});

describe('api keys', () => {
  it('create (secret once), list, revoke; the revoked key is refused', async () => {
    const created = await api().post('/api/v1/api-keys').set(auth()).send({ name: 'temp', kind: 'admin' }).expect(201);
    expect(created.body.secret).toMatch(/^ava_/);
    const server = await api().post('/api/v1/api-keys').set(auth()).send({ name: 's', kind: 'server', environment: 'development' }).expect(201);
    expect(server.body.secret).toMatch(/^avs_/);
    const list = await api().get('/api/v1/api-keys').set(auth()).expect(200);
    expect(list.body.items.every((k: object) => !('secret' in k))).toBe(true);
    await api().get('/api/v1/flags').set(auth(created.body.secret)).expect(200);
    await api().delete(`/api/v1/api-keys/${created.body.id}`).set(auth()).send({ reason: 'rotated' }).expect(204);
    expectError(await api().get('/api/v1/flags').set(auth(created.body.secret)), 401);
    const withRevoked = await api().get('/api/v1/api-keys?includeRevoked=true').set(auth()).expect(200);
    expect(withRevoked.body.items.some((k: { revokedAt: string | null }) => k.revokedAt)).toBe(true);
    const audit = await api().get(`/api/v1/audit?resourceType=api-key&resource=${created.body.id}`).set(auth()).expect(200);
    expect(audit.body.items.map((e: { action: string }) => e.action)).toEqual(['api-key.revoke', 'api-key.create']);
  });

  it('400, 404, 409', async () => {
    expectError(await api().post('/api/v1/api-keys').set(auth()).send({ name: 's', kind: 'server' }), 400);
    expectError(await api().post('/api/v1/api-keys').set(auth()).send({ name: 's', kind: 'root' }), 400);
    expectError(await api().post('/api/v1/api-keys').set(auth()).send({ name: 's', kind: 'client', environment: 'nope' }), 404);
    expectError(await api().delete('/api/v1/api-keys/not-a-uuid').set(auth()), 400);
    expectError(await api().delete('/api/v1/api-keys/00000000-0000-4000-8000-000000000000').set(auth()), 404);
    const keys = await withClient(db.url, (c) => c.query("SELECT id FROM api_keys WHERE kind = 'admin' AND NOT read_only AND revoked_at IS NULL"));
    expect(keys.rows).toHaveLength(1);
    expectError(await api().delete(`/api/v1/api-keys/${keys.rows[0].id}`).set(auth()), 409);
  });
});

describe('audit', () => {
  it('filters and pages by cursor', async () => {
    const first = await api().get('/api/v1/audit?limit=2').set(auth()).expect(200);
    expect(first.body.items).toHaveLength(2);
    const second = await api().get(`/api/v1/audit?limit=2&cursor=${first.body.nextCursor}`).set(auth()).expect(200);
    expect(Number(second.body.items[0].id)).toBeLessThan(Number(first.body.items[1].id));
    const kills = await api().get('/api/v1/audit?action=flag-config.kill').set(auth()).expect(200);
    expect(kills.body.items.every((e: { action: string }) => e.action === 'flag-config.kill')).toBe(true);
    expectError(await api().get('/api/v1/audit?cursor=abc').set(auth()), 400);
    expectError(await api().get('/api/v1/audit?since=notadate').set(auth()), 400);
    expectError(await api().get('/api/v1/audit?limit=0').set(auth()), 400);
  });
});

describe('hostile input never gets a 500', () => {
  it.each([
    ['malformed JSON', '{"key":', 400],
    ['a JSON array', '[1,2]', 400],
    ['a NUL character', '{"key":"a\\u0000b"}', 400],
    ['deep nesting', `{"key":"d","variants":[{"key":"v","value":${'['.repeat(5000)}${']'.repeat(5000)}}]}`, 400],
  ])('%s', async (_name, body, status) => {
    const res = await api().post('/api/v1/flags').set(auth()).set('Content-Type', 'application/json').send(body);
    expectError(res, status);
  });

  it('a huge body is a 413', async () => {
    const res = await api().post('/api/v1/cohorts/beta/members').set(auth()).set('Content-Type', 'application/json').send(`{"add":["${'x'.repeat(17 * 1024 * 1024)}"]}`);
    expectError(res, 413);
  });

  it('a bad charset is a 415, a NUL in the URL a 400', async () => {
    expectError(await api().post('/api/v1/flags').set(auth()).set('Content-Type', 'application/json; charset=klingon').send('{}'), 415);
    expectError(await api().get('/api/v1/flags/a%00b').set(auth()), 400);
  });

  it('echoes a sane X-Request-Id', async () => {
    const res = await api().get('/api/v1/flags/nope').set(auth()).set('X-Request-Id', 'trace-123');
    expect(res.body.requestId).toBe('trace-123');
    expect(ADMIN_TOKEN).toMatch(/^ava_/);
  });
});
