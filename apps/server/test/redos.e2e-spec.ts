/**
 * The ReDoS issue end to end: every pattern of packages/core/test/redos-corpus.json is refused by
 * PUT (400 naming the field) or evaluates in under 1 ms through POST /environments/:env/evaluate
 * on adversarial input, while /healthz keeps answering. Also: patterns stored before the RE2
 * dialect evaluate false, never block a kill or the rollout dial, and are listed at boot.
 */
import { readFileSync } from 'node:fs';
import { type Flag, evaluate } from '@aviary/core';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoredPatternsService } from '../src/patterns/stored-patterns.service.js';
import { auth, createTestDatabase, startApp, type TestApp, withClient } from './helpers.js';

interface CorpusEntry {
  pattern: string;
  prefix?: string;
  pump: string;
  suffix: string;
  expect: 'linear' | 'refused';
}

const corpus = JSON.parse(readFileSync(new URL('../../../packages/core/test/redos-corpus.json', import.meta.url), 'utf8')) as { entries: CorpusEntry[] };
const entries = corpus.entries.map((e, i) => ({ ...e, flag: `redos-${i}`, attribute: `a${i}` }));
const linear = entries.filter((e) => e.expect === 'linear');

function adversarialInput(e: CorpusEntry, length: number): string {
  const prefix = e.prefix ?? '';
  const k = Math.max(0, Math.floor((length - prefix.length - e.suffix.length) / e.pump.length));
  return (prefix + e.pump.repeat(k) + e.suffix).slice(0, length);
}

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let t: TestApp;
const api = () => request(t.url);
const configPath = (flag: string) => `/api/v1/environments/development/flags/${flag}`;
const matchesRule = (attribute: string, pattern: string, id = 'r') => ({ id, conditions: [{ attribute, operator: 'matches' as const, values: [pattern] }] });

beforeAll(async () => {
  db = await createTestDatabase();
  t = await startApp({ DATABASE_URL: db.url });
});

afterAll(async () => {
  await t?.close();
  await db?.drop();
});

describe('write time', () => {
  it.each(entries)('PUT $pattern: $expect', async (e) => {
    await api().post('/api/v1/flags').set(auth()).send({ key: e.flag }).expect(201);
    const res = await api().put(configPath(e.flag)).set(auth()).send({ enabled: true, rules: [matchesRule(e.attribute, e.pattern)] });
    if (e.expect === 'linear') {
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    } else {
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([{ path: 'rules[0].conditions[0].values', message: expect.stringContaining('(RE2 syntax)') }]);
      expect(res.body.message).toMatch(/^rules\[0\]\.conditions\[0\]\.values: .*\(RE2 syntax\)/);
    }
  });

  it('names the problem the way the issue asks', async () => {
    await api().post('/api/v1/flags').set(auth()).send({ key: 'backref' }).expect(201);
    const rules = [{ id: 'r', conditions: [{ attribute: 'country', operator: 'in', values: ['NL'] }, { attribute: 'email', operator: 'matches', values: ['^(a+)\\1$'] }] }];
    const res = await api().put(configPath('backref')).set(auth()).send({ enabled: true, rules }).expect(400);
    expect(res.body.errors).toEqual([{ path: 'rules[0].conditions[1].values', message: 'back-references are not supported (RE2 syntax): \\1' }]);
  });
});

describe('evaluation through POST /api/v1/environments/development/evaluate', () => {
  /** One request evaluates every flag; its time, in ms. */
  const evaluateAll = async (context: Record<string, string>) => {
    const started = performance.now();
    const res = await api().post('/api/v1/environments/development/evaluate').set(auth()).send({ context }).expect(200);
    return { ms: performance.now() - started, results: res.body.results as Record<string, { enabled: boolean; reason: string }> };
  };
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

  // Short inputs first: a backtracking engine fails at 25 characters instead of hanging at 1,024.
  it.each([25, 41, 1024])('answers right, under 1 ms per flag, at %i characters', async (length) => {
    const context = { key: 'u', ...Object.fromEntries(entries.map((e) => [e.attribute, adversarialInput(e, length)])) };
    const { results } = await evaluateAll(context);
    // What an SDK computes with @aviary/core for the same flag and context.
    for (const e of linear) {
      const flag: Flag = { key: e.flag, enabled: true, rules: [matchesRule(e.attribute, e.pattern)] };
      const sdk = evaluate({ environment: 'development', revision: 1, flags: { [e.flag]: flag }, cohorts: {} }, e.flag, context);
      expect(results[e.flag], `${e.pattern} at ${length}`).toMatchObject({ enabled: sdk.enabled, reason: sdk.reason });
    }
    // The same request without the attributes (every condition false at once) is the baseline.
    const adversarial: number[] = [];
    const baseline: number[] = [];
    for (let r = 0; r < 9; r++) {
      adversarial.push((await evaluateAll(context)).ms);
      baseline.push((await evaluateAll({ key: 'u' })).ms);
    }
    const perFlag = (median(adversarial) - median(baseline)) / linear.length;
    console.log(`${length} chars: ${linear.length} regex flags in one request ${median(adversarial).toFixed(1)} ms (baseline ${median(baseline).toFixed(1)} ms): ${perFlag.toFixed(3)} ms per flag`);
    expect(perFlag).toBeLessThan(1);
    expect(Math.max(...adversarial)).toBeLessThan(5_000);
  });

  it('keeps /healthz answering while adversarial evaluations are served', async () => {
    const context = { key: 'u', ...Object.fromEntries(entries.map((e) => [e.attribute, adversarialInput(e, 1024)])) };
    // `then` sends each request now; /healthz goes out behind all of them.
    const burst = Array.from({ length: 20 }, () => api().post('/api/v1/environments/development/evaluate').set(auth()).send({ context }).then((r) => r.status));
    const started = performance.now();
    await api().get('/healthz').expect(200);
    const healthz = performance.now() - started;
    expect(await Promise.all(burst)).toEqual(Array(20).fill(200));
    console.log(`/healthz answered in ${healthz.toFixed(1)} ms during 20 adversarial evaluate requests`);
    expect(healthz).toBeLessThan(5_000);
  });
});

describe('patterns stored before the RE2 dialect', () => {
  const legacy = '^(?=.*@example\\.com$)(\\w+)\\1';

  beforeAll(async () => {
    await api().post('/api/v1/flags').set(auth()).send({ key: 'legacy' }).expect(201);
    await api().put(configPath('legacy')).set(auth()).send({ enabled: true, rules: [matchesRule('email', '^x')] }).expect(200);
    // As an older server (ECMAScript syntax) stored it.
    await withClient(db.url, async (c) => {
      await c.query(`UPDATE flag_configs SET rules = $1 FROM flags f WHERE f.id = flag_configs.flag_id AND f.key = 'legacy'`, [JSON.stringify([matchesRule('email', legacy)])]);
      await c.query(`UPDATE environments SET revision = revision + 1 WHERE key = 'development'`);
    });
  });

  it('evaluate false', async () => {
    const res = await api().post('/api/v1/environments/development/evaluate').set(auth()).send({ flag: 'legacy', context: { key: 'u', email: 'aa@example.com' } }).expect(200);
    expect(res.body).toMatchObject({ enabled: false, reason: 'NO_MATCH' });
  });

  it('are listed by the boot-time check, with the field path and the reason', async () => {
    const problems = await t.app.get(StoredPatternsService).problems();
    expect(problems).toEqual([{ where: 'flag "legacy" in development', path: 'rules[0].conditions[0].values', pattern: legacy, problem: expect.stringContaining('(RE2 syntax)') }]);
  });

  it('never block the rollout dial, a kill or a revive; a new one is refused', async () => {
    await api().put(`${configPath('legacy')}/rollout`).set(auth()).send({ percentage: 50 }).expect(200);
    await api().post(`${configPath('legacy')}/kill`).set(auth()).send({ reason: 'test' }).expect(200);
    await api().post(`${configPath('legacy')}/revive`).set(auth()).send({}).expect(200);
    const res = await api().put(configPath('legacy')).set(auth()).send({ rules: [matchesRule('email', legacy), matchesRule('name', '(?<=a)b', 'r2')] }).expect(400);
    expect(res.body.errors).toEqual([{ path: 'rules[1].conditions[0].values', message: expect.stringContaining('lookahead and lookbehind are not supported (RE2 syntax)') }]);
  });
});
