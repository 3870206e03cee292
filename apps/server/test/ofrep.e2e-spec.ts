import { evaluate } from '@aviary/core';
import { OFREPProvider } from '@openfeature/ofrep-provider';
import { OpenFeature, type JsonValue } from '@openfeature/server-sdk';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OfrepExposures } from '../src/ofrep/ofrep-exposures.js';
import { auth, createTestDatabase, startApp, type TestApp } from './helpers.js';
import { assertOfrep, publishedSchema } from './ofrep/schema.js';
import { expectedDetails, loadIntoServer, loadVectors, ofrepContext, probeFor, type LoadedVector } from './ofrep/vectors.js';

/**
 * OFREP (docs/ofrep.md) through the real `@openfeature/ofrep-provider` and `@openfeature/server-sdk`
 * against the real server on real Postgres: every answer the provider receives is validated against
 * the protocol's schema (test/ofrep/openapi.yaml) by the fetch the provider is given.
 */

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let t: TestApp;
let serverKey: string;
let clientKey: string;
let vectorsKey: string;
/** Every response the providers received, with its status, validated when it arrived. */
const received: Array<{ url: string; status: number; body: unknown }> = [];

const api = () => request(t.url);
const admin = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${t.url}${path}`, {
    method,
    headers: { ...auth(), 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
};
const makeKey = async (kind: string, environment: string) =>
  (await api().post('/api/v1/api-keys').set(auth()).send({ name: `${kind}-${environment}`, kind, environment }).expect(201)).body as { id: string; secret: string };

/** A fetch that validates each OFREP answer against the protocol's schema before the provider reads it. */
const validatingFetch: typeof fetch = async (input, init) => {
  const res = await fetch(input, init);
  const url = input instanceof Request ? input.url : String(input);
  const text = await res.clone().text();
  const body = text ? (JSON.parse(text) as unknown) : undefined;
  const bulk = new URL(url).pathname === '/ofrep/v1/evaluate/flags';
  const schema = { 200: bulk ? 'bulkEvaluationSuccess' : 'serverEvaluationSuccess', 400: bulk ? 'bulkEvaluationFailure' : 'evaluationFailure', 404: 'flagNotFound' }[
    res.status as 200 | 400 | 404
  ];
  if (schema) assertOfrep(schema, body);
  received.push({ url, status: res.status, body });
  return res;
};

let domains = 0;
async function ofrepClient(key: string, header: 'bearer' | 'x-api-key' = 'bearer') {
  const domain = `ofrep-${domains++}`;
  const headers: [string, string][] = [header === 'bearer' ? ['Authorization', `Bearer ${key}`] : ['X-API-Key', key]];
  await OpenFeature.setProviderAndWait(domain, new OFREPProvider({ baseUrl: t.url, headers, fetchImplementation: validatingFetch }));
  return OpenFeature.getClient(domain);
}

beforeAll(async () => {
  db = await createTestDatabase();
  t = await startApp({ DATABASE_URL: db.url });
  serverKey = (await makeKey('server', 'production')).secret;
  clientKey = (await makeKey('client', 'production')).secret;
  await api().post('/api/v1/flags').set(auth()).send({ key: 'checkout', clientVisible: true, variants: [{ key: 'blue', value: 'blue' }, { key: 'green', value: 'green' }] }).expect(201);
  await api().put('/api/v1/environments/production/flags/checkout').set(auth()).send({ enabled: true, rules: [{ id: 'nl', conditions: [{ attribute: 'country', operator: 'in', values: ['NL'] }], variant: 'green' }] }).expect(200);
  await api().post('/api/v1/flags').set(auth()).send({ key: 'payroll' }).expect(201);
  await api().put('/api/v1/environments/production/flags/payroll').set(auth()).send({ enabled: true }).expect(200);
}, 60_000);

afterAll(async () => {
  await OpenFeature.close();
  await t?.close();
  await db?.drop();
});

describe('the schema', () => {
  it('as published rejects every success that has a value, hence the one documented correction (test/ofrep/SOURCE.md)', () => {
    expect(publishedSchema('serverEvaluationSuccess')({ key: 'a', reason: 'STATIC', value: true })).toBe(false);
    expect(() => assertOfrep('serverEvaluationSuccess', { key: 'a', reason: 'STATIC', value: true })).not.toThrow();
    expect(() => assertOfrep('serverEvaluationSuccess', { key: 'a', reason: 'DEFAULT', value: true })).toThrow(/reason/);
  });
});

/** How often each distinct string occurs. */
const countBy = (items: string[]) => items.reduce<Record<string, number>>((counts, item) => ({ ...counts, [item]: (counts[item] ?? 0) + 1 }), {});

/** A raw OFREP call (no provider), for what the providers do not show: headers, 304s, shapes. */
interface OfrepBody {
  key?: string;
  errorCode?: string;
  flags: Array<{ key: string; value?: unknown; reason?: string }>;
  eventStreams?: unknown;
}
async function ofrep(path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: OfrepBody }> {
  const res = await fetch(`${t.url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : undefined) as OfrepBody };
}
const bearer = (key: string) => ({ Authorization: `Bearer ${key}` });

describe('single evaluations', () => {
  it('a string flag: its variant value, TARGETING_MATCH by a rule, STATIC by default; metadata with rule, revision and version', async () => {
    const client = await ofrepClient(serverKey);
    const nl = await client.getStringDetails('checkout', 'none', { targetingKey: 'u1', country: 'NL' });
    expect(nl).toMatchObject({ value: 'green', variant: 'green', reason: 'TARGETING_MATCH', flagMetadata: { ruleId: 'nl', flagVersion: expect.any(Number), revision: expect.any(Number), aviaryReason: 'RULE_MATCH' } });
    const payroll = await client.getBooleanDetails('payroll', false, { targetingKey: 'u1' });
    expect(payroll).toMatchObject({ value: true, reason: 'STATIC' });
    expect(payroll.errorCode).toBeUndefined();
  });

  it('X-API-Key authenticates as Bearer does', async () => {
    const client = await ofrepClient(serverKey, 'x-api-key');
    expect(await client.getBooleanDetails('payroll', false, { targetingKey: 'u1' })).toMatchObject({ value: true, reason: 'STATIC' });
  });

  it('a client key asking for a server-only flag gets FLAG_NOT_FOUND; client-visible ones evaluate', async () => {
    const client = await ofrepClient(clientKey);
    expect(await client.getBooleanDetails('payroll', false, { targetingKey: 'u1' })).toMatchObject({ value: false, errorCode: 'FLAG_NOT_FOUND' });
    expect(await client.getStringDetails('checkout', 'none', { targetingKey: 'u1', country: 'NL' })).toMatchObject({ value: 'green', reason: 'TARGETING_MATCH' });
    const raw = await ofrep('/ofrep/v1/evaluate/flags/payroll', { context: { targetingKey: 'u1' } }, bearer(clientKey));
    expect(raw).toMatchObject({ status: 404, body: { key: 'payroll', errorCode: 'FLAG_NOT_FOUND' } });
    assertOfrep('flagNotFound', raw.body);
  });

  it('an off flag with variants answers in code-default form (no value), so the caller\'s default applies', async () => {
    await api().post('/api/v1/environments/production/flags/checkout/kill').set(auth()).send({ reason: 'test' }).expect(200);
    try {
      const raw = await ofrep('/ofrep/v1/evaluate/flags/checkout', { context: { targetingKey: 'u1', country: 'NL' } }, bearer(serverKey));
      expect(raw.status).toBe(200);
      expect(raw.body).toMatchObject({ key: 'checkout', reason: 'DISABLED' });
      expect(raw.body).not.toHaveProperty('value');
      assertOfrep('serverEvaluationSuccess', raw.body);
      const client = await ofrepClient(serverKey);
      expect((await client.getStringDetails('checkout', 'caller-default', { targetingKey: 'u1' })).value).toBe('caller-default');
    } finally {
      await api().post('/api/v1/environments/production/flags/checkout/revive').set(auth()).send({ reason: 'test' }).expect(200);
    }
  });

  it.each([
    ['a body that is not JSON', '{"context":', 'PARSE_ERROR'],
    ['a body that is not an object', '[1]', 'PARSE_ERROR'],
    ['no context', {}, 'INVALID_CONTEXT'],
    ['a context that is an array', { context: [] }, 'INVALID_CONTEXT'],
    ['no targetingKey', { context: { country: 'NL' } }, 'TARGETING_KEY_MISSING'],
    ['a targetingKey that is a number', { context: { targetingKey: 7 } }, 'INVALID_CONTEXT'],
  ])('400 in OFREP\'s shapes for %s', async (_what, body, errorCode) => {
    const single = await ofrep('/ofrep/v1/evaluate/flags/payroll', body, bearer(serverKey));
    expect(single).toMatchObject({ status: 400, body: { key: 'payroll', errorCode } });
    assertOfrep('evaluationFailure', single.body);
    const bulk = await ofrep('/ofrep/v1/evaluate/flags', body, bearer(serverKey));
    expect(bulk).toMatchObject({ status: 400, body: { errorCode } });
    assertOfrep('bulkEvaluationFailure', bulk.body);
  });

  it('counts single evaluations as exposures, in the metrics rollout guards read', async () => {
    const client = await ofrepClient(serverKey);
    for (let i = 0; i < 5; i++) await client.getStringDetails('checkout', 'none', { targetingKey: `x${i}`, country: 'NL' });
    await t.app.get(OfrepExposures).flush();
    const series = (await api().get('/api/v1/environments/production/flags/checkout/metrics?source=server').set(auth()).expect(200)).body;
    const green = series.arms.find((a: { enabled: boolean; variant: string | null }) => a.enabled && a.variant === 'green');
    expect(green.totals.exposures).toBeGreaterThanOrEqual(5);
  });
});

describe('bulk evaluation', () => {
  it('every flag of a server key, with an ETag; the same request with If-None-Match is a 304; a change that alters the answer is a 200', async () => {
    const context = { context: { targetingKey: 'u2', country: 'NL' } };
    const first = await ofrep('/ofrep/v1/evaluate/flags', context, bearer(serverKey));
    expect(first.status).toBe(200);
    assertOfrep('bulkEvaluationSuccess', first.body);
    expect(first.body.flags.map((f) => f.key)).toEqual(['checkout', 'payroll']);
    expect(first.body.eventStreams).toBeUndefined();
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await fetch(`${t.url}/ofrep/v1/evaluate/flags`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...bearer(serverKey), 'If-None-Match': etag }, body: JSON.stringify(context) });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    // Another context is another answer.
    const other = await ofrep('/ofrep/v1/evaluate/flags', { context: { targetingKey: 'u2', country: 'DE' } }, { ...bearer(serverKey), 'If-None-Match': etag });
    expect(other.status).toBe(200);
    await api().put('/api/v1/environments/production/flags/payroll').set(auth()).send({ enabled: false }).expect(200);
    const changed = await ofrep('/ofrep/v1/evaluate/flags', context, { ...bearer(serverKey), 'If-None-Match': etag });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
    expect(changed.body.flags.find((f) => f.key === 'payroll')).toMatchObject({ value: false, reason: 'DISABLED' });
    await api().put('/api/v1/environments/production/flags/payroll').set(auth()).send({ enabled: true }).expect(200);
  });

  it('a client key: client-visible flags only, and an event stream to connect to', async () => {
    const res = await ofrep('/ofrep/v1/evaluate/flags', { context: { targetingKey: 'u3' } }, bearer(clientKey));
    expect(res.status).toBe(200);
    assertOfrep('bulkEvaluationSuccess', res.body);
    expect(res.body.flags.map((f) => f.key)).toEqual(['checkout']);
    expect(res.body.eventStreams).toEqual([{ type: 'sse', endpoint: { requestUri: `/sdk/v1/ofrep-stream?clientKey=${clientKey}` } }]);
  });
});

describe('keys', () => {
  it('a revoked key: 401 on both endpoints, and the provider answers the caller\'s default with an error', async () => {
    const key = await makeKey('server', 'production');
    const client = await ofrepClient(key.secret);
    expect((await client.getBooleanDetails('payroll', false, { targetingKey: 'u' })).value).toBe(true);
    await api().delete(`/api/v1/api-keys/${key.id}`).set(auth()).send({ reason: 'rotated' }).expect(204);
    expect((await ofrep('/ofrep/v1/evaluate/flags/payroll', { context: { targetingKey: 'u' } }, bearer(key.secret))).status).toBe(401);
    expect((await ofrep('/ofrep/v1/evaluate/flags', { context: { targetingKey: 'u' } }, { 'X-API-Key': key.secret })).status).toBe(401);
    const details = await client.getBooleanDetails('payroll', false, { targetingKey: 'u' });
    expect(details).toMatchObject({ value: false, reason: 'ERROR' });
  });

  it('an admin key is refused with 403', async () => {
    expect((await ofrep('/ofrep/v1/evaluate/flags/payroll', { context: { targetingKey: 'u' } }, auth())).status).toBe(403);
  });
});

describe('failed authentications past the limit', () => {
  let limited: TestApp;
  beforeAll(async () => {
    limited = await startApp({ DATABASE_URL: db.url, AVIARY_AUTH_FAILURE_LIMIT: '3' });
  });
  afterAll(() => limited?.close());

  it('429 with Retry-After, and the provider pauses until then', async () => {
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${limited.url}/ofrep/v1/evaluate/flags/payroll`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-API-Key': 'avs_wrong' }, body: '{"context":{"targetingKey":"u"}}' });
      statuses.push(res.status);
      retryAfter = res.headers.get('retry-after');
    }
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    expect(Number(retryAfter)).toBeGreaterThan(0);
  });
});

// Last: the vectors' flags (flags are global, configured per environment) would show in the other environments' bulk answers.
describe('evaluation vectors through @openfeature/ofrep-provider', () => {
  const { all, expressible, excluded } = loadVectors();
  let loaded: LoadedVector[] = [];

  beforeAll(async () => {
    await api().post('/api/v1/environments').set(auth()).send({ key: 'vectors', name: 'Vectors' }).expect(201);
    vectorsKey = (await makeKey('server', 'vectors')).secret;
    const started = Date.now();
    const result = await loadIntoServer(admin, 'vectors', expressible);
    loaded = result.loaded;
    console.log(
      `OFREP vectors: ${all.length} in all, ${expressible.length} expressible (left out: ${JSON.stringify(excluded)}), ` +
        `${result.refused.length} refused by the admin API, loaded in ${Date.now() - started} ms`,
      countBy(result.refused.map((r) => /"message":"([^"]*)"/.exec(r)?.[1] ?? r)),
    );
  }, 300_000);

  it('covers nearly every expressible vector', () => {
    expect(expressible.length).toBeGreaterThan(900);
    // What the admin API refuses is printed above; it must stay a minority.
    expect(loaded.length).toBeGreaterThan(expressible.length * 0.75);
  });

  it('answers what @aviary/core answers, for every loaded vector', async () => {
    const client = await ofrepClient(vectorsKey);
    const mismatches: string[] = [];
    for (const vector of loaded) {
      const result = evaluate(vector.ruleset, vector.flag, vector.context);
      const { type, fallback } = probeFor(vector, result);
      const context = ofrepContext(vector);
      const details =
        type === 'boolean'
          ? await client.getBooleanDetails(vector.serverFlag, fallback as boolean, context)
          : type === 'string'
            ? await client.getStringDetails(vector.serverFlag, fallback as string, context)
            : type === 'number'
              ? await client.getNumberDetails(vector.serverFlag, fallback as number, context)
              : await client.getObjectDetails(vector.serverFlag, fallback as JsonValue, context);
      // Provider 0.1.3 predates OFREP's code-default form (see expectedDetails).
      const want = expectedDetails(vector, result, fallback, 'error');
      const got = Object.fromEntries(Object.keys(want).map((k) => [k, details[k as keyof typeof details]]));
      try {
        expect(got).toEqual(want);
      } catch {
        mismatches.push(`${vector.name}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
      }
    }
    expect(mismatches).toEqual([]);
  }, 120_000);
});
