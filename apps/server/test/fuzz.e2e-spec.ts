import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { ADMIN_TOKEN, createTestDatabase, rng, startApp, type TestApp } from './helpers.js';

/** FUZZ_SEED reproduces a failing run; the seed is in every failure message. */
const SEED = Number(process.env.FUZZ_SEED ?? 20241126);
const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let t: TestApp;
let serverKey: string;
let probe: pg.Client;

interface Raw {
  status: number;
  body: string;
}

function send(method: string, path: string, headers: Record<string, string>, body?: string | Buffer): Promise<Raw> {
  const url = new URL(t.url);
  // Explicit framing: without it Node sends DELETE bodies unframed and they read as a second request.
  if (body !== undefined) headers = { ...headers, 'Content-Length': String(Buffer.byteLength(body)) };
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** Everything a rejected request could have touched, reduced to one hash. */
async function fingerprint(): Promise<string> {
  {
    const c = probe;
    const { rows } = await c.query(`SELECT md5(concat_ws('|',
      (SELECT string_agg(concat_ws(',', key, name, description, revision), ';' ORDER BY key) FROM environments),
      (SELECT string_agg(concat_ws(',', key, name, description, tags::text, variants::text, client_visible, archived_at), ';' ORDER BY id) FROM flags),
      (SELECT string_agg(concat_ws(',', flag_id, environment_id, enabled, salt, rules::text, prerequisites::text, version), ';' ORDER BY flag_id, environment_id) FROM flag_configs),
      (SELECT string_agg(concat_ws(',', key, name, description, conditions::text, included_count, excluded_count), ';' ORDER BY key) FROM cohorts),
      (SELECT count(*) || ':' || coalesce(sum(hashtext(key || excluded::text)), 0) FROM cohort_members),
      (SELECT string_agg(concat_ws(',', id, name, kind, read_only, revoked_at), ';' ORDER BY id) FROM api_keys),
      (SELECT count(*) FROM audit_events),
      (SELECT count(*) FROM changes))) AS h`);
    return rows[0].h as string;
  }
}

const ENDPOINTS: Array<[string, string]> = [
  ['POST', '/api/v1/environments'],
  ['PATCH', '/api/v1/environments/{env}'],
  ['DELETE', '/api/v1/environments/{env}'],
  ['POST', '/api/v1/flags'],
  ['PATCH', '/api/v1/flags/{flag}'],
  ['DELETE', '/api/v1/flags/{flag}'],
  ['PUT', '/api/v1/environments/{env}/flags/{flag}'],
  ['POST', '/api/v1/environments/{env}/flags/{flag}/kill'],
  ['POST', '/api/v1/environments/{env}/flags/{flag}/revive'],
  ['PUT', '/api/v1/environments/{env}/flags/{flag}/rollout'],
  ['POST', '/api/v1/cohorts'],
  ['PATCH', '/api/v1/cohorts/{cohort}'],
  ['DELETE', '/api/v1/cohorts/{cohort}'],
  ['POST', '/api/v1/cohorts/{cohort}/members'],
  ['POST', '/api/v1/api-keys'],
  ['PATCH', '/api/v1/api-keys/{id}'],
  ['DELETE', '/api/v1/api-keys/{id}'],
  ['POST', '/api/v1/environments/{env}/evaluate'],
];

function generator(random: () => number) {
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  const strings = [
    '', 'a', 'production', 'new-checkout', 'beta', ' ', '../..', 'é', '💥', 'a'.repeat(65), 'x'.repeat(5000), '<script>', "'; DROP TABLE flags; --",
    '\u202e', '\ud800', '0', '-1', 'NaN', 'null', 'true', '{}', '%00', '\\', '"', 'in', 'matches', 'semverGt', 'inCidr', '(a+)+', '10.0.0.0/8',
  ];
  const numbers = [0, -1, 1, 0.5, 12.3456, 100, 101, 1e308, -1e308, 2 ** 53, 5.001, 3];
  const keys = ['key', 'name', 'description', 'tags', 'variants', 'clientVisible', 'enabled', 'salt', 'rules', 'prerequisites', 'reason', 'percentage',
    'ruleId', 'conditions', 'add', 'remove', 'exclude', 'kind', 'environment', 'readOnly', 'context', 'flag', 'id', 'attribute', 'operator', 'values',
    'rollout', 'split', 'variant', 'weight', 'value', 'cohorts', 'negate', 'caseInsensitive', 'bucketBy', '__proto__', 'constructor'];
  const value = (depth: number): unknown => {
    const r = int(depth > 3 ? 4 : 7);
    if (r === 0) return pick(strings);
    if (r === 1) return pick(numbers);
    if (r === 2) return pick([true, false, null]);
    if (r === 3) return pick(strings) + int(1000);
    if (r === 4) return Array.from({ length: int(4) }, () => value(depth + 1));
    return Object.fromEntries(Array.from({ length: int(5) }, () => [pick(keys), value(depth + 1)]));
  };
  // Nearly valid bodies reach the semantic checks; one mutation then breaks them.
  const plausible = (): Record<string, unknown> =>
    pick([
      { key: `k${int(50)}`, name: 'n' },
      { enabled: true, rules: [{ id: 'r', conditions: [{ attribute: 'country', operator: pick(['in', 'matches', 'semverGt', 'inCidr', 'before', 'numGt', 'bogus']), values: [pick(strings)] }], rollout: { percentage: pick(numbers) } }] },
      { percentage: pick(numbers), ruleId: pick(['r', 'rollout', undefined]) },
      { add: [pick(strings), pick(strings)], remove: [pick(strings)], exclude: [] },
      { name: 'k', kind: pick(['admin', 'server', 'client', 'root']), environment: pick(['production', 'nope', undefined]), readOnly: pick([true, false, 'yes']) },
      { context: { key: pick(strings), country: pick([...strings, ...numbers]) }, flag: pick(['existing', 'nope']) },
      { variants: [{ key: pick(strings), weight: pick(numbers), value: value(0) }] },
      { prerequisites: [{ flag: pick(['existing', 'nope', 'a b']), variants: [pick(strings)] }] },
      { conditions: [{ attribute: pick(strings), operator: pick(['in', 'inCidr', 'x']), values: [pick(strings)] }] },
    ]);
  const mutate = (body: Record<string, unknown>): unknown => {
    const r = int(6);
    if (r === 0) return value(0);
    if (r === 1) return { ...body, [pick(keys)]: value(1) };
    if (r === 2) return { ...body, unknownField: 1 };
    return body;
  };
  const segment = () =>
    pick(['production', 'development', 'existing', 'beta', 'nope', 'a%20b', '%E0%A4%A', '..', '%2e%2e', 'x'.repeat(300), '%F0%9F%92%A5', '%00', '00000000-0000-4000-8000-000000000000', 'not-a-uuid', '%ZZ']);
  const rawBodies = ['{', '{"key":', 'null', '[]', '"str"', '1', '{"a":1}garbage', '\u0000', '{"key":"\\u0000"}', `${'['.repeat(100)}${']'.repeat(100)}`, '{"key":"a","key":"b"}', '\ufeff{}'];
  return {
    request(): { method: string; path: string; headers: Record<string, string>; body?: string } {
      const [method0, template] = pick(ENDPOINTS);
      const method = int(20) === 0 ? pick(['GET', 'PUT', 'PATCH', 'DELETE', 'POST']) : method0;
      const path = template.replace(/\{[a-z]+\}/g, segment) + (int(10) === 0 ? `?${pick(['limit=-1', 'cursor=%00', 'x=%ZZ', 'a=1&a=2'])}` : '');
      const headers: Record<string, string> = {};
      const a = int(20);
      if (a === 0) headers.Authorization = 'Bearer';
      else if (a === 1) headers.Authorization = `Bearer ${serverKey}`;
      else if (a === 2) headers.Authorization = 'Bearer ava_wrong_wrong_wrong_wrong';
      else if (a === 3) headers.Authorization = `Basic ${ADMIN_TOKEN}`;
      else if (a !== 4) headers.Authorization = `Bearer ${ADMIN_TOKEN}`;
      headers['Content-Type'] = pick(['application/json', 'application/json', 'application/json', 'text/plain', 'application/json; charset=latin1', 'application/json; charset=bogus', 'application/x-www-form-urlencoded', 'multipart/form-data']);
      if (int(5) === 0) headers['If-Match'] = pick(['"1"', '*', 'W/"2"', 'banana', '"-1"', '"99999999999"', '', '"1", "2"']);
      if (int(10) === 0) headers['Content-Encoding'] = pick(['gzip', 'br', 'identity', 'bogus']);
      if (int(10) === 0) headers['X-Request-Id'] = pick(['x'.repeat(500), 'ok-id', '\t']);
      const body = int(8) === 0 ? pick(rawBodies) : JSON.stringify(mutate(plausible()));
      return { method, path, headers, body };
    },
  };
}

beforeAll(async () => {
  db = await createTestDatabase();
  t = await startApp({ DATABASE_URL: db.url });
  probe = new pg.Client({ connectionString: db.url });
  await probe.connect();
  const created = await send('POST', '/api/v1/api-keys', { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' }, JSON.stringify({ name: 's', kind: 'server', environment: 'development' }));
  serverKey = JSON.parse(created.body).secret;
  const admin = { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' };
  await send('POST', '/api/v1/flags', admin, JSON.stringify({ key: 'existing', variants: [{ key: 'on' }] }));
  await send('POST', '/api/v1/cohorts', admin, JSON.stringify({ key: 'beta' }));
});

afterAll(async () => {
  await probe?.end();
  await t?.close();
  await db?.drop();
});

describe(`fuzz (seed ${SEED})`, () => {
  it(`${RUNS} random and malformed requests: no 5xx, and rejected requests change nothing`, async () => {
    const gen = generator(rng(SEED));
    const statuses = new Map<number, number>();
    let before = await fingerprint();
    for (let i = 0; i < RUNS; i++) {
      const req = gen.request();
      const res = await send(req.method, req.path, req.headers, req.body);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      const where = `seed ${SEED}, request #${i}: ${req.method} ${req.path} ${JSON.stringify(req.headers)} ${req.body?.slice(0, 300)} -> ${res.status} ${res.body.slice(0, 300)}`;
      expect(res.status, where).toBeLessThan(500);
      if (res.status >= 400) {
        let body: object = {};
        try {
          body = JSON.parse(res.body);
        } catch {
          expect.fail(`not a JSON error body: ${where}`);
        }
        expect(Object.keys(body).slice(0, 4), where).toEqual(['statusCode', 'error', 'message', 'requestId']);
      }
      const after = await fingerprint();
      if (res.status >= 400) expect(after, `rejected but changed data: ${where}`).toBe(before);
      before = after;
    }
    console.log(`fuzz seed ${SEED}: statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
    // The run must exercise both sides.
    expect([...statuses.keys()].some((s) => s < 300)).toBe(true);
    expect(statuses.get(400)).toBeGreaterThan(100);
  });
});
