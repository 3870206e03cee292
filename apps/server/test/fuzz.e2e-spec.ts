import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_SUM } from '../src/metrics/dto/metrics-report.dto.js';
import { MAX_HOLD_SECONDS } from '../src/rollouts/dto/rollout-plan.dto.js';
import { RolloutScheduler } from '../src/rollouts/rollout-scheduler.js';
import { ADMIN_TOKEN, createTestDatabase, fingerprint, rawRequest, type RawResponse, rng, startApp, type TestApp } from './helpers.js';

/** FUZZ_SEED reproduces a failing run; the seed is in every failure message. FUZZ_RUNS is the
 *  number of requests each write endpoint gets, FC_RUNS the number of values each numeric field. */
const SEED = Number(process.env.FUZZ_SEED ?? 20241126);
const RUNS = Number(process.env.FUZZ_RUNS ?? 100);
const FC_RUNS = Number(process.env.FC_RUNS ?? 40);

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let t: TestApp;
let serverKey: string;
let keyId: string;
let planId: string;
let probe: pg.Client;

const ADMIN = { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' };
const send = (method: string, path: string, headers: Record<string, string>, body?: string): Promise<RawResponse> => rawRequest(t.url, method, path, headers, body);
const admin = (method: string, path: string, body?: unknown) => send(method, path, ADMIN, body === undefined ? undefined : JSON.stringify(body));

/** Every write endpoint, with the path parameters it takes. */
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
  ['POST', '/api/v1/environments/{env}/flags/{flag}/rollout-plans'],
  ...['start', 'pause', 'resume', 'approve', 'cancel', 'rollback'].map((action): [string, string] => ['POST', `/api/v1/rollout-plans/{plan}/${action}`]),
  ['POST', '/api/v1/cohorts'],
  ['PATCH', '/api/v1/cohorts/{cohort}'],
  ['DELETE', '/api/v1/cohorts/{cohort}'],
  ['POST', '/api/v1/cohorts/{cohort}/members'],
  ['POST', '/api/v1/api-keys'],
  ['PATCH', '/api/v1/api-keys/{id}'],
  ['DELETE', '/api/v1/api-keys/{id}'],
  ['POST', '/api/v1/environments/{env}/evaluate'],
  ['POST', '/sdk/v1/metrics'],
];

/** Numbers as JSON can write them, many of which JSON.stringify never would. */
const NUMBER_TEXTS = ['1e400', '-1e400', '1e-400', '-0', '-0.0', '0e0', '1E2', '1e+2', '1.0e-7', '1e-7', '1e-9', '5e-324', '1.7976931348623157e308', '9007199254740993', '100.0001', '0.0001', '2e6', '1e12', '1e16'];

function generator(random: () => number) {
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const strings = [
    '', 'a', 'production', 'new-checkout', 'beta', ' ', '../..', 'é', '💥', 'a'.repeat(65), 'x'.repeat(5000), '<script>', "'; DROP TABLE flags; --",
    '\u202e', '\ud800', '\udc00x', 'a\u0000b', '0', '-1', 'NaN', 'null', 'true', '{}', '%00', '\\', '"', 'in', 'matches', 'semverGt', 'inCidr', '(a+)+', '10.0.0.0/8',
    'https://a.example', '*', 'error', 'request',
  ];
  const numbers = [0, -0, -1, 1, 0.5, 12.3456, 100, 101, 1e308, -1e308, 2 ** 53, 5.001, 3, 1e-7, 5e-324, 0.1 + 0.2, 1e21, 2_592_001, Date.now()];
  const keys = ['key', 'name', 'description', 'tags', 'variants', 'clientVisible', 'enabled', 'salt', 'rules', 'prerequisites', 'reason', 'percentage',
    'ruleId', 'conditions', 'add', 'remove', 'exclude', 'kind', 'environment', 'readOnly', 'context', 'flag', 'id', 'attribute', 'operator', 'values',
    'rollout', 'split', 'variant', 'weight', 'value', 'cohorts', 'negate', 'caseInsensitive', 'bucketBy', 'steps', 'holdSeconds', 'guard', 'numerator',
    'denominator', 'maxRelativeIncrease', 'minSamples', 'falseAlarmRate', 'sources', 'requireApproval', 'start', 'end', 'exposures', 'events', 'count',
    'sum', 'event', 'allowedOrigins', 'members', 'version', '__proto__', 'constructor'];
  const value = (depth: number): unknown => {
    const r = int(depth > 3 ? 4 : 7);
    if (r === 0) return pick(strings);
    if (r === 1) return pick(numbers);
    if (r === 2) return pick([true, false, null]);
    if (r === 3) return pick(strings) + int(1000);
    if (r === 4) return Array.from({ length: int(4) }, () => value(depth + 1));
    return Object.fromEntries(Array.from({ length: int(5) }, () => [pick(keys), value(depth + 1)]));
  };
  const step = () => ({ percentage: pick(numbers), holdSeconds: pick([0, 1, 60, 0.5, ...numbers]) });
  const row = () => ({ flag: pick(['existing', 'planned', 'nope', 'a b']), enabled: pick([true, false, 'yes']), variant: pick(['on', null, '', 5]), count: pick(numbers) });
  // Nearly valid bodies reach the semantic checks; one mutation then breaks them.
  const plausible: Record<string, () => Record<string, unknown>> = {
    keyed: () => ({ key: `k${int(50)}`, name: pick(['n', ...strings]) }),
    config: () => ({ enabled: pick([true, false]), rules: [{ id: 'r', conditions: [{ attribute: 'country', operator: pick(['in', 'matches', 'semverGt', 'inCidr', 'before', 'numGt', 'bogus']), values: [pick([...strings, ...numbers])] }], rollout: { percentage: pick(numbers) } }] }),
    split: () => ({ rules: [{ id: 'r', split: [{ variant: pick(['on', 'off', 'nope']), weight: pick(numbers) }] }] }),
    dial: () => ({ percentage: pick(numbers), ruleId: pick(['r1', 'rollout', undefined]) }),
    members: () => ({ add: [pick(strings), pick(strings)], remove: [pick(strings)], exclude: [] }),
    key: () => ({ name: 'k', kind: pick(['admin', 'server', 'client', 'root']), environment: pick(['production', 'nope', undefined]), readOnly: pick([true, false, 'yes']), allowedOrigins: pick([undefined, null, ['https://a.example'], ['nope']]) }),
    origins: () => ({ allowedOrigins: pick([null, ['https://a.example'], ['*'], ['https://a.example/x'], 'x']) }),
    evaluate: () => ({ context: { key: pick(strings), country: pick([...strings, ...numbers]) }, flag: pick(['existing', 'nope']) }),
    variants: () => ({ variants: [{ key: pick(strings), weight: pick(numbers), value: value(0) }] }),
    prerequisites: () => ({ prerequisites: [{ flag: pick(['existing', 'nope', 'a b']), variants: [pick(strings)] }] }),
    conditions: () => ({ conditions: [{ attribute: pick(strings), operator: pick(['in', 'inCidr', 'numGt', 'x']), values: [pick([...strings, ...numbers])] }] }),
    plan: () => ({ ruleId: pick(['r1', 'nope']), steps: Array.from({ length: 1 + int(3) }, step), start: pick([true, false, undefined]), requireApproval: pick([true, false, undefined]),
      guard: pick([undefined, { numerator: 'error', denominator: pick(['request', 'error']), maxRelativeIncrease: pick(numbers), minSamples: pick(numbers), falseAlarmRate: pick([undefined, ...numbers]), sources: pick([undefined, ['server'], [], ['x']]) }]) }),
    metrics: () => ({ start: pick(numbers), end: pick([Date.now(), ...numbers]), exposures: [row()], events: [{ ...row(), event: pick(strings), sum: pick([undefined, ...numbers]) }] }),
    reason: () => ({ reason: pick(strings) }),
  };
  const forEndpoint: Record<string, string[]> = {
    '/api/v1/environments': ['keyed'], '/api/v1/environments/{env}': ['keyed', 'reason'], '/api/v1/flags': ['keyed', 'variants'], '/api/v1/flags/{flag}': ['variants', 'keyed'],
    '/api/v1/environments/{env}/flags/{flag}': ['config', 'split', 'prerequisites'], '/kill': ['reason'], '/revive': ['reason'], '/rollout': ['dial'],
    '/rollout-plans': ['plan'], '/api/v1/cohorts': ['keyed', 'conditions'], '/api/v1/cohorts/{cohort}': ['conditions', 'reason'], '/members': ['members'],
    '/api/v1/api-keys': ['key'], '/api/v1/api-keys/{id}': ['origins', 'reason'], '/evaluate': ['evaluate'], '/sdk/v1/metrics': ['metrics'],
  };
  const plausibleFor = (template: string): Record<string, unknown> => {
    const names = forEndpoint[template] ?? Object.entries(forEndpoint).find(([suffix]) => suffix.startsWith('/') && !suffix.startsWith('/api') && template.endsWith(suffix))?.[1] ?? ['reason'];
    return plausible[int(3) === 0 ? pick(Object.keys(plausible)) : pick(names)]!();
  };
  const mutate = (body: Record<string, unknown>): unknown => {
    const r = int(6);
    if (r === 0) return value(0);
    if (r === 1) return { ...body, [pick(keys)]: value(1) };
    if (r === 2) return { ...body, unknownField: 1 };
    return body;
  };
  const segments: Record<string, () => string[]> = {
    env: () => ['production', 'development', 'scratch'],
    flag: () => ['existing', 'planned'],
    cohort: () => ['beta'],
    plan: () => [planId, '00000000-0000-4000-8000-000000000000'],
    id: () => [keyId, '00000000-0000-4000-8000-000000000000'],
  };
  const weird = ['nope', 'a%20b', '%E0%A4%A', '..', '%2e%2e', 'x'.repeat(300), '%F0%9F%92%A5', '%00', '%ED%A0%80', 'not-a-uuid', '%ZZ'];
  const segment = (name: string) => (int(4) === 0 ? pick(weird) : pick(segments[name]!()));
  const rawBodies = ['{', '{"key":', 'null', '[]', '"str"', '1', '{"a":1}garbage', '\u0000', '{"key":"\\u0000"}', '{"name":"\\ud800"}', `${'['.repeat(100)}${']'.repeat(100)}`,
    '{"key":"a","key":"b"}', '\ufeff{}', '{"percentage":1e-7}', '{"percentage":1e400}', '{"steps":[{"percentage":1e-7,"holdSeconds":1e-9}],"ruleId":"r1"}', '{"start":1e400,"end":-0}'];
  return {
    request(method: string, template: string): { method: string; path: string; headers: Record<string, string>; body?: string } {
      const path = template.replace(/\{([a-z]+)\}/g, (_m, name: string) => segment(name)) + (int(10) === 0 ? `?${pick(['limit=-1', 'cursor=%00', 'x=%ZZ', 'a=1&a=2'])}` : '');
      const headers: Record<string, string> = {};
      const a = int(20);
      const sdk = template.startsWith('/sdk/');
      if (a === 0) headers.Authorization = 'Bearer';
      else if (a === 1) headers.Authorization = `Bearer ${sdk ? ADMIN_TOKEN : serverKey}`;
      else if (a === 2) headers.Authorization = 'Bearer ava_wrong_wrong_wrong_wrong';
      else if (a === 3) headers.Authorization = `Basic ${ADMIN_TOKEN}`;
      else if (a !== 4) headers.Authorization = `Bearer ${sdk ? serverKey : ADMIN_TOKEN}`;
      headers['Content-Type'] =
        int(5) > 0 ? 'application/json' : pick(['text/plain', 'application/json; charset=latin1', 'application/json; charset=utf-16', 'application/json; charset=bogus', 'application/x-www-form-urlencoded', 'multipart/form-data']);
      if (int(5) === 0) headers['If-Match'] = pick(['"1"', '*', 'W/"2"', 'banana', '"-1"', '"99999999999"', '', '"1", "2"']);
      if (int(10) === 0) headers['Content-Encoding'] = pick(['gzip', 'br', 'identity', 'bogus']);
      if (int(10) === 0) headers['X-Request-Id'] = pick(['x'.repeat(500), 'ok-id', '\t']);
      let body = int(8) === 0 ? pick(rawBodies) : JSON.stringify(mutate(plausibleFor(template)));
      // A number as JSON may write it but JSON.stringify never does.
      if (int(5) === 0) body = body.replace(/(?<=[:[,])-?\d+(\.\d+)?([eE][+-]?\d+)?(?=[,\]}])/, pick(NUMBER_TEXTS));
      return { method, path, headers, body };
    },
    /** Now and then the same request with another method or without its body. */
    variant(req: { method: string; path: string; headers: Record<string, string>; body?: string }): typeof req | undefined {
      const r = int(40);
      if (r === 0) return { ...req, method: pick(['GET', 'PUT', 'PATCH', 'DELETE', 'POST'].filter((m) => m !== req.method)) };
      if (r === 1) return { ...req, body: undefined };
      return undefined;
    },
  };
}

beforeAll(async () => {
  db = await createTestDatabase();
  // No rate limits: thousands of requests from one key are the point here.
  t = await startApp({ DATABASE_URL: db.url, AVIARY_RATE_LIMIT_ADMIN: '0', AVIARY_RATE_LIMIT_SDK_METRICS: '0' });
  // Plans the requests start must not move on by themselves between two fingerprints.
  await t.app.get(RolloutScheduler).onModuleDestroy();
  probe = new pg.Client({ connectionString: db.url });
  await probe.connect();
  serverKey = JSON.parse((await admin('POST', '/api/v1/api-keys', { name: 's', kind: 'server', environment: 'development' })).body).secret;
  keyId = JSON.parse((await admin('POST', '/api/v1/api-keys', { name: 'c', kind: 'client', environment: 'production' })).body).id;
  await admin('POST', '/api/v1/environments', { key: 'scratch' });
  await admin('POST', '/api/v1/flags', { key: 'existing', variants: [{ key: 'on' }, { key: 'off' }] });
  for (const flag of ['planned', 'dial', 'dial2']) await admin('POST', '/api/v1/flags', { key: flag });
  for (const env of ['production', 'development']) await admin('PUT', `/api/v1/environments/${env}/flags/planned`, { enabled: true, rules: [{ id: 'r1', rollout: { percentage: 0 } }] });
  await admin('POST', '/api/v1/cohorts', { key: 'beta' });
  planId = JSON.parse((await admin('POST', '/api/v1/environments/development/flags/planned/rollout-plans', { ruleId: 'r1', steps: [{ percentage: 5, holdSeconds: 60 }] })).body).id;
});

afterAll(async () => {
  await probe?.end();
  await t?.close();
  await db?.drop();
});

// ---------------------------------------------------------------- numeric fields, property-based

interface NumberRule {
  min: number;
  max: number;
  integer?: boolean;
  decimals?: number;
  /** null or absent means "not given". */
  optional?: boolean;
  /** Values other than numbers the field takes (a context attribute may be a string). */
  otherwise?: (value: unknown) => boolean;
}

interface NumericField {
  /** The field path a 400 names. */
  field: string;
  method: string;
  path: string;
  /** The JSON body with `$N` where the number goes. */
  body: string;
  rule: NumberRule;
  sdk?: boolean;
  /** Undoes a successful write, so the next one starts from the same state. */
  cleanup?: (res: RawResponse) => Promise<void>;
}

const NOW = Date.now();
const MAX_EPOCH_MS = 253_402_300_799_999;
const PERCENTAGE: NumberRule = { min: 0, max: 100, decimals: 3 };
const ANY_FINITE: NumberRule = { min: -Number.MAX_VALUE, max: Number.MAX_VALUE };
const cancelPlan = async (res: RawResponse) => {
  if (res.status === 201) await admin('POST', `/api/v1/rollout-plans/${JSON.parse(res.body).id}/cancel`, {});
};
const PLAN = '/api/v1/environments/production/flags/planned/rollout-plans';
const guard = (field: string) =>
  `{"ruleId":"r1","steps":[{"percentage":5,"holdSeconds":60}],"guard":{"numerator":"error","denominator":"request",${
    { maxRelativeIncrease: '"maxRelativeIncrease":$N,"minSamples":100', minSamples: '"maxRelativeIncrease":0.5,"minSamples":$N', falseAlarmRate: '"maxRelativeIncrease":0.5,"minSamples":100,"falseAlarmRate":$N' }[field]
  }}}`;
const report = (start: string, end: string, exposure: string, event: string, sum: string) =>
  `{"start":${start},"end":${end},"exposures":[{"flag":"existing","enabled":true,"count":${exposure}}],"events":[{"flag":"existing","enabled":true,"event":"error","count":${event},"sum":${sum}}]}`;
let flagCount = 0;

/** Every numeric field of every request DTO. */
const NUMERIC_FIELDS: NumericField[] = [
  { field: 'percentage', method: 'PUT', path: '/api/v1/environments/production/flags/dial/rollout', body: '{"percentage":$N}', rule: PERCENTAGE },
  { field: 'rules[0].rollout.percentage', method: 'PUT', path: '/api/v1/environments/production/flags/dial2', body: '{"rules":[{"id":"r1","rollout":{"percentage":$N}}]}', rule: PERCENTAGE },
  { field: 'rules[0].split[0].weight', method: 'PUT', path: '/api/v1/environments/production/flags/existing', body: '{"rules":[{"id":"r1","split":[{"variant":"on","weight":$N},{"variant":"off","weight":1}]}]}', rule: { min: 0, max: 1_000_000, integer: true } },
  { field: 'variants[0].weight', method: 'POST', path: '/api/v1/flags', body: '{"key":"$K","variants":[{"key":"on","weight":$N},{"key":"off","weight":1}]}', rule: { min: 0, max: 1_000_000, integer: true }, cleanup: async (res) => {
    if (res.status === 201) await admin('DELETE', `/api/v1/flags/${JSON.parse(res.body).key}`);
  } },
  { field: 'steps[0].percentage', method: 'POST', path: PLAN, body: '{"ruleId":"r1","steps":[{"percentage":$N,"holdSeconds":60}]}', rule: PERCENTAGE, cleanup: cancelPlan },
  { field: 'steps[0].holdSeconds', method: 'POST', path: PLAN, body: '{"ruleId":"r1","steps":[{"percentage":5,"holdSeconds":$N}]}', rule: { min: 0, max: MAX_HOLD_SECONDS, decimals: 3 }, cleanup: cancelPlan },
  { field: 'guard.maxRelativeIncrease', method: 'POST', path: PLAN, body: guard('maxRelativeIncrease'), rule: { min: 0, max: 100 }, cleanup: cancelPlan },
  { field: 'guard.minSamples', method: 'POST', path: PLAN, body: guard('minSamples'), rule: { min: 1, max: 1_000_000_000, integer: true }, cleanup: cancelPlan },
  { field: 'guard.falseAlarmRate', method: 'POST', path: PLAN, body: guard('falseAlarmRate'), rule: { min: 0.000001, max: 0.5, optional: true }, cleanup: cancelPlan },
  { field: 'start', method: 'POST', path: '/sdk/v1/metrics', body: report('$N', String(NOW), '1', '1', '0'), rule: { min: 0, max: MAX_EPOCH_MS, integer: true }, sdk: true },
  { field: 'end', method: 'POST', path: '/sdk/v1/metrics', body: report(String(NOW - 1000), '$N', '1', '1', '0'), rule: { min: 0, max: MAX_EPOCH_MS, integer: true }, sdk: true },
  { field: 'exposures[0].count', method: 'POST', path: '/sdk/v1/metrics', body: report(String(NOW - 1000), String(NOW), '$N', '1', '0'), rule: { min: 0, max: 1e12, integer: true }, sdk: true },
  { field: 'events[0].count', method: 'POST', path: '/sdk/v1/metrics', body: report(String(NOW - 1000), String(NOW), '1', '$N', '0'), rule: { min: 0, max: 1e12, integer: true }, sdk: true },
  { field: 'events[0].sum', method: 'POST', path: '/sdk/v1/metrics', body: report(String(NOW - 1000), String(NOW), '1', '1', '$N'), rule: { min: -MAX_SUM, max: MAX_SUM, optional: true }, sdk: true },
  { field: 'context', method: 'POST', path: '/api/v1/environments/production/evaluate', body: '{"context":{"key":"u","n":$N}}', rule: { ...ANY_FINITE, otherwise: (v) => v === null || typeof v === 'string' || typeof v === 'boolean' } },
  { field: 'conditions[0].values', method: 'PATCH', path: '/api/v1/cohorts/beta', body: '{"conditions":[{"attribute":"age","operator":"in","values":[$N]}]}', rule: { ...ANY_FINITE, otherwise: (v) => typeof v === 'string' || typeof v === 'boolean' } },
  { field: 'limit', method: 'GET', path: '/api/v1/flags?limit=$N', body: '', rule: { min: 1, max: 1000, integer: true } },
];

/** Decimals of a number as written in its shortest form (`1.5e-7`: 8), the oracle for the
 *  server's own count. */
function decimalsOf(n: number): number {
  const [mantissa, exponent] = n.toExponential().split('e');
  return Math.max(0, (mantissa!.split('.')[1]?.length ?? 0) - Number(exponent));
}

function isValid(value: unknown, rule: NumberRule): boolean {
  if (rule.otherwise?.(value)) return true;
  if (value === null || value === undefined) return rule.optional === true;
  if (typeof value !== 'number' || !Number.isFinite(value)) return false;
  if (value < rule.min || value > rule.max) return false;
  if (rule.integer && !Number.isInteger(value)) return false;
  return rule.decimals === undefined || decimalsOf(value) <= rule.decimals;
}

/** A number in one of the many ways JSON can write it, or something that is not quite one. */
function numberText(rule: NumberRule): fc.Arbitrary<string> {
  const write = (n: number) =>
    fc.constantFrom(
      JSON.stringify(n),
      n.toExponential(),
      n.toExponential().toUpperCase().replace('E+', 'E'),
      Math.abs(n) < 1e21 ? n.toFixed(Math.min(20, decimalsOf(n) + 1)) : JSON.stringify(n),
      n.toPrecision(17),
      `"${n}"`,
    );
  const edges = [rule.min, rule.max, rule.min - 1, rule.max + 1, rule.max + 0.001, rule.min - 0.0001, (rule.min + rule.max) / 2, rule.max * 10, -rule.max, 0.001, 0.0005, 12.345, 1 / 3];
  return fc.oneof(
    fc.constantFrom(...NUMBER_TEXTS, '"NaN"', '"Infinity"', '"-Infinity"', '"1"', '"1e-7"', 'null', 'true', '[]', '{}', '[1]', '"-0"', '" 5"'),
    fc.constantFrom(...edges.filter(Number.isFinite)).chain(write),
    fc.double({ noNaN: true, noDefaultInfinity: true }).chain(write),
    fc.double({ min: rule.min, max: Math.min(rule.max, 1e15), noNaN: true }).chain(write),
    fc.integer({ min: Math.ceil(Math.max(rule.min, -1e9)) - 2, max: Math.floor(Math.min(rule.max, 1e9)) + 2 }).chain(write),
  );
}

describe(`numeric fields of every DTO (seed ${SEED})`, () => {
  it.each(NUMERIC_FIELDS.map((f) => [f.field, f] as const))('%s: no 5xx; a 400 naming it exactly when the value is invalid', async (_name, f) => {
    await fc.assert(
      fc.asyncProperty(numberText(f.rule), async (text) => {
        const query = f.method === 'GET';
        const path = query ? f.path.replace('$N', encodeURIComponent(text)) : f.path;
        const body = query ? undefined : f.body.replace('$N', text).replace('$K', `pb-${flagCount++}`);
        const headers = { ...ADMIN, ...(f.sdk ? { Authorization: `Bearer ${serverKey}` } : {}) };
        const res = await send(f.method, path, headers, body);
        await f.cleanup?.(res);
        // Query values arrive as text and are read with Number(); bodies with JSON.parse.
        const value = query ? Number(text) : JSON.parse(text);
        const where = `${f.method} ${path} ${body ?? ''} -> ${res.status} ${res.body.slice(0, 300)}`;
        expect(res.status, where).toBeLessThan(500);
        const named = res.status === 400 && (JSON.parse(res.body).errors ?? []).some((e: { path: string }) => e.path === f.field);
        if (isValid(value, f.rule)) expect(named, `valid, yet refused: ${where}`).toBe(false);
        else expect(named, `invalid, yet not a 400 naming ${f.field}: ${where}`).toBe(true);
      }),
      { numRuns: FC_RUNS, seed: SEED },
    );
  });
});

// ---------------------------------------------------------------- every write endpoint, random requests

// After the numeric fields: random writes may delete what those need (production, the flags).
describe(`fuzz (seed ${SEED})`, () => {
  it(`every write endpoint gets ${RUNS} random and malformed requests: no 5xx, and rejected requests change nothing`, async () => {
    expect(planId).toMatch(/^[0-9a-f-]{36}$/);
    const gen = generator(rng(SEED));
    const statuses = new Map<number, number>();
    const perEndpoint = new Map<string, number>();
    let before = await fingerprint(probe);
    const check = async (round: number, req: ReturnType<typeof gen.request>) => {
      const res = await send(req.method, req.path, req.headers, req.body);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      const where = `seed ${SEED}, round ${round}: ${req.method} ${req.path} ${JSON.stringify(req.headers)} ${req.body?.slice(0, 300)} -> ${res.status} ${res.body.slice(0, 300)}`;
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
      const after = await fingerprint(probe);
      if (res.status >= 400) expect(after, `rejected but changed data: ${where}`).toBe(before);
      before = after;
    };
    for (let round = 0; round < RUNS; round++) {
      for (const [method, template] of ENDPOINTS) {
        const req = gen.request(method, template);
        perEndpoint.set(`${method} ${template}`, (perEndpoint.get(`${method} ${template}`) ?? 0) + 1);
        await check(round, req);
        const variant = gen.variant(req);
        if (variant) await check(round, variant);
      }
    }
    console.log(`fuzz seed ${SEED}: statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
    // Each endpoint got its bodies, and the run exercised both sides.
    expect(Math.min(...ENDPOINTS.map(([m, p]) => perEndpoint.get(`${m} ${p}`) ?? 0))).toBe(RUNS);
    expect([...statuses.keys()].some((s) => s < 300)).toBe(true);
    expect(statuses.get(400)).toBeGreaterThan(100);
    expect(statuses.get(415)).toBeGreaterThan(10);
  }, 120_000);
});
