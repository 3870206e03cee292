/**
 * Property tests of the engine: rollout monotonicity, bucket statistics, agreement with the
 * reference implementation on random inputs, and robustness on arbitrary input.
 */
import fc from 'fast-check';
import murmurhash from 'murmurhash';
import { describe, expect, it } from 'vitest';
import { bucket, evaluate } from '../src/index.js';
import type { Context, EvaluateOptions, Result, Ruleset } from '../src/index.js';
import { pickVariant, referenceBucket, referenceEvaluate } from './reference.js';

// A fixed seed keeps the suite deterministic; FC_SEED=<n> explores other inputs.
const SEED = Number(process.env.FC_SEED ?? 20240615);
const params = (numRuns: number): fc.Parameters<unknown> => ({ numRuns, seed: SEED });

const NOW = 1718452800000; // 2024-06-15T12:00:00Z

const run = (ruleset: unknown, flag: unknown, context: unknown, options?: EvaluateOptions): Result =>
  evaluate(ruleset as Ruleset, flag as string, context as Context, options);

/** A flag `f` whose single rule is a rollout. */
function rolloutRuleset(percentage: number, salt?: string, extra: Record<string, unknown> = {}): unknown {
  const rollout = salt === undefined ? { percentage } : { percentage, salt };
  return { environment: 'p', revision: 1, flags: { f: { key: 'f', enabled: true, ...extra, rules: [{ id: 'r', rollout }] } }, cohorts: {} };
}

const included = (percentage: number, salt: string, unit: string): boolean =>
  run(rolloutRuleset(percentage, salt), 'f', { key: unit }).enabled;

const FIELDS = ['enabled', 'reason', 'variant', 'value', 'ruleId', 'errorCode'] as const;
function fields(r: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of FIELDS) {
    const v = (r as Record<string, unknown>)[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

const anyText = (maxLength = 16) => fc.string({ unit: 'binary', minLength: 1, maxLength });
const percentage = fc.integer({ min: 0, max: 100000 }).map((n) => n / 1000);

// =============================================================================================

describe('rollout monotonicity', () => {
  it('raising a percentage never drops a user', () => {
    fc.assert(
      fc.property(anyText(), anyText(), percentage, percentage, (salt, unit, a, b) => {
        const [low, high] = a <= b ? [a, b] : [b, a];
        if (included(low, salt, unit)) expect(included(high, salt, unit)).toBe(true);
      }),
      params(1000),
    );
  });

  it('lowering a percentage never adds a user', () => {
    fc.assert(
      fc.property(anyText(), anyText(), percentage, percentage, (salt, unit, a, b) => {
        const [low, high] = a <= b ? [a, b] : [b, a];
        if (!included(high, salt, unit)) expect(included(low, salt, unit)).toBe(false);
      }),
      params(1000),
    );
  });

  it('a population only grows along a rising schedule and only shrinks along a falling one', () => {
    const population = Array.from({ length: 300 }, (_, i) => `member-${i}`);
    fc.assert(
      fc.property(anyText(), fc.array(percentage, { minLength: 2, maxLength: 6 }), (salt, steps) => {
        const rising = [...steps].sort((x, y) => x - y);
        const sets = rising.map((p) => new Set(population.filter((u) => included(p, salt, u))));
        for (let i = 1; i < sets.length; i++) {
          for (const u of sets[i - 1]!) expect(sets[i]!.has(u)).toBe(true); // rising: superset
          expect(sets[i]!.size).toBeGreaterThanOrEqual(sets[i - 1]!.size);
        }
        // Falling is the same schedule backwards: each set is a subset of the one before.
        const falling = [...sets].reverse();
        for (let i = 1; i < falling.length; i++) for (const u of falling[i]!) expect(falling[i - 1]!.has(u)).toBe(true);
      }),
      params(40),
    );
  });

  it('whole percentages equal the Unleash rule h % 100 + 1 <= p', () => {
    fc.assert(
      fc.property(anyText(), anyText(), fc.integer({ min: 0, max: 100 }), (salt, unit, p) => {
        const h = murmurhash.v3(new TextEncoder().encode(`${salt}:${unit}`), 0);
        expect(included(p, salt, unit)).toBe(h % 100 + 1 <= p);
        expect(bucket(salt, unit) < p * 1000).toBe(h % 100 + 1 <= p);
      }),
      params(3000),
    );
  });
});

// =============================================================================================

describe('bucket statistics (100k units)', () => {
  const N = 100_000;
  const units = Array.from({ length: N }, (_, i) => `unit-${i}`);
  // Critical values of the chi-square distribution at the 99.9 % level.
  const CHI2_99_DF = 148.23;
  const CHI2_1_DF = 10.828;

  const chiSquare = (counts: number[], expected: number): number =>
    counts.reduce((sum, o) => sum + (o - expected) ** 2 / expected, 0);

  it('buckets are uniform over 100 bins (high digits and low digits)', () => {
    const high = new Array<number>(100).fill(0);
    const low = new Array<number>(100).fill(0);
    let outOfRange = 0;
    for (const u of units) {
      const b = bucket('uniformity', u);
      if (!(Number.isInteger(b) && b >= 0 && b < 100000)) outOfRange++;
      high[Math.floor(b / 1000)]!++;
      low[Math.floor((b % 1000) / 10)]!++;
    }
    expect(outOfRange).toBe(0);
    expect(chiSquare(high, N / 100)).toBeLessThan(CHI2_99_DF);
    expect(chiSquare(low, N / 100)).toBeLessThan(CHI2_99_DF);
  });

  it('a p % rollout includes about p % of units', () => {
    for (const p of [0.5, 5, 12.5, 50, 90]) {
      const n = units.filter((u) => bucket('share', u) < Math.round(p * 1000)).length;
      const sd = Math.sqrt(N * (p / 100) * (1 - p / 100));
      expect(Math.abs(n - (N * p) / 100)).toBeLessThan(5 * sd);
    }
  });

  it('different salts pick independent users (2x2 contingency and correlation)', () => {
    const table = [0, 0, 0, 0];
    let sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
    for (const u of units) {
      const x = bucket('salt-a', u);
      const y = bucket('salt-b', u);
      table[(x < 50000 ? 0 : 2) + (y < 50000 ? 0 : 1)]!++;
      sx += x; sy += y; sxx += x * x; syy += y * y; sxy += x * y;
    }
    const [a, b, c, d] = table as [number, number, number, number];
    const chi2 = (N * (a * d - b * c) ** 2) / ((a + b) * (c + d) * (a + c) * (b + d));
    expect(chi2).toBeLessThan(CHI2_1_DF);
    const r = (N * sxy - sx * sy) / Math.sqrt((N * sxx - sx * sx) * (N * syy - sy * sy));
    expect(Math.abs(r)).toBeLessThan(0.015); // standard error is 1 / sqrt(N) ≈ 0.0032
  });

  it('rules that share a salt and a percentage pick the same users', () => {
    const shared = {
      environment: 'p',
      revision: 1,
      flags: {
        a: { key: 'a', enabled: true, rules: [{ id: 'r', rollout: { percentage: 7.5, salt: 'canary' } }] },
        b: { key: 'b', enabled: true, salt: 'other', rules: [{ id: 'r', rollout: { percentage: 7.5, salt: 'canary' } }] },
      },
      cohorts: {},
    };
    let inA = 0;
    const differ: string[] = [];
    for (const u of units.slice(0, 20000)) {
      const x = run(shared, 'a', { key: u }).enabled;
      if (run(shared, 'b', { key: u }).enabled !== x) differ.push(u);
      if (x) inA++;
    }
    expect(differ).toEqual([]);
    expect(inA).toBeGreaterThan(1200);
    expect(inA).toBeLessThan(1800);
  });

  it('a 1:3 rule split serves 25 % / 75 %, a weight-0 arm never', () => {
    const ruleset = {
      environment: 'p',
      revision: 1,
      flags: {
        f: {
          key: 'f',
          enabled: true,
          variants: [{ key: 'blue' }, { key: 'green' }, { key: 'never' }],
          rules: [{ id: 'r', split: [{ variant: 'blue', weight: 1 }, { variant: 'never', weight: 0 }, { variant: 'green', weight: 3 }] }],
        },
      },
      cohorts: {},
    };
    const counts: Record<string, number> = {};
    for (const u of units) {
      const v = run(ruleset, 'f', { key: u }).variant ?? 'none';
      counts[v] = (counts[v] ?? 0) + 1;
    }
    expect(Object.keys(counts).sort()).toEqual(['blue', 'green']);
    expect(Math.abs(counts.blue! / N - 0.25)).toBeLessThan(0.01); // sd ≈ 0.0014
    expect(Math.abs(counts.green! / N - 0.75)).toBeLessThan(0.01);
  });

  it('the 5 % who see a flag split 50/50 like everyone else', () => {
    const ruleset = {
      environment: 'p',
      revision: 1,
      flags: {
        f: {
          key: 'f',
          enabled: true,
          variants: [{ key: 'a', weight: 500 }, { key: 'b', weight: 500 }],
          rules: [{ id: 'r', rollout: { percentage: 5 } }],
        },
      },
      cohorts: {},
    };
    let seen = 0;
    let a = 0;
    for (const u of units) {
      const r = run(ruleset, 'f', { key: u });
      if (!r.enabled) continue;
      seen++;
      if (r.variant === 'a') a++;
    }
    expect(seen).toBeGreaterThan(4500);
    expect(seen).toBeLessThan(5500);
    expect(Math.abs(a / seen - 0.5)).toBeLessThan(0.035); // sd ≈ 0.007
  });
});

// =============================================================================================

describe('bucket() equals the reference formula', () => {
  it('for arbitrary unicode salts and units', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }), (salt, unit) => {
        expect(bucket(salt, unit)).toBe(referenceBucket(salt, unit));
      }),
      params(3000),
    );
  });

  it('for graphemes (combining marks, ZWJ emoji, flags)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 12 }), fc.string({ unit: 'grapheme', maxLength: 12 }), (salt, unit) => {
        expect(bucket(salt, unit)).toBe(referenceBucket(salt, unit));
      }),
      params(1000),
    );
  });

  it('the variant split through evaluate, for arbitrary unicode salts and units', () => {
    const arms = [{ variant: 'a', weight: 3 }, { variant: 'b', weight: 0 }, { variant: 'c', weight: 4 }, { variant: 'd', weight: 1 }];
    fc.assert(
      fc.property(anyText(24), anyText(24), fc.boolean(), (salt, unit, onRule) => {
        const flag = onRule
          ? { key: 'f', enabled: true, variants: arms.map((a) => ({ key: a.variant })), rules: [{ id: 'r', rollout: { percentage: 100, salt }, split: arms }] }
          : { key: 'f', enabled: true, salt, variants: arms.map((a) => ({ key: a.variant, weight: a.weight })) };
        const ruleset = { environment: 'p', revision: 1, flags: { f: flag }, cohorts: {} };
        const got = run(ruleset, 'f', { key: unit });
        expect(got.variant).toBe(pickVariant(arms, salt, unit));
        expect(got.variant).toBe(referenceEvaluate(ruleset, 'f', { key: unit }).variant);
      }),
      params(2000),
    );
  });

  it('for long strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', minLength: 100, maxLength: 400 }), anyText(8), (salt, unit) => {
        expect(bucket(salt, unit)).toBe(referenceBucket(salt, unit));
      }),
      params(200),
    );
  });
});

// =============================================================================================
// Differential test: random, schema-valid rulesets and contexts, engine vs reference.
// The generator stays clear of the places notes/core-semantics.md leaves open (cohort membership
// of non-string keys, empty bucketing units in a split, prerequisite cycles beyond the vectors).

const FLAG_KEYS = ['f0', 'f1', 'f2', 'f3'];
const VARIANT_KEYS = ['a', 'b', 'c'];
const COHORT_KEYS = ['c0', 'c1'];
const USER_KEYS = ['user-1', 'user-2', 'user-3', 'é', '中文', '🚀'];
const ATTRIBUTES = ['country', 'plan', 'age', 'appVersion', 'ip', 'signup', 'currentTime', 'email', 'beta', 'key', 'tenant', 'nothing'];
const OPS = [
  'in', 'notIn', 'contains', 'startsWith', 'endsWith', 'matches',
  'numEq', 'numGt', 'numGte', 'numLt', 'numLte', 'before', 'after',
  'semverEq', 'semverGt', 'semverGte', 'semverLt', 'semverLte', 'inCidr', 'exists', 'likes',
];

const strings = fc.constantFrom('NL', 'DE', 'nl', 'pro', 'free', 'PRO', '', ' ', 'é', 'É', '中文', '🚀', 'user-1', 'acme', 'a@example.com', 'true', 'example');
const numbers = fc.oneof(fc.integer({ min: -50, max: 50 }), fc.constantFrom(0, 1.5, 42, 1e3), fc.constantFrom('42', ' 42 ', '42.0', '1e3', '', 'abc', '-7', '0.5'));
const dates = fc.oneof(
  fc.constantFrom('2024-01-01', '2024-06-15T12:00:00Z', '2024-06-15T12:00:00.001Z', '2024-06-15T13:00+01:00', '2024-06-15T10:00:00-0200', '2024-13-01', 'soon', '1718452800000', '2024'),
  fc.integer({ min: NOW - 1e9, max: NOW + 1e9 }),
  fc.constant(NOW),
);
const versions = fc.constantFrom('1.0.0', '1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta.11', '1.0.0-rc.1', '2.3.1', '2.10.0', '1.0.0+build.5', 'v1.0.0', '1.0', '01.0.0', 'x');
const addresses = fc.constantFrom('10.1.2.3', '10.0.0.1', '192.168.1.1', '::1', '2001:db8::1', '::ffff:10.1.2.3', '8.8.8.8', '10.0.0.256', 'host');
const blocks = fc.constantFrom('10.0.0.0/8', '10.0.0.1', '0.0.0.0/0', '::/0', '2001:db8::/32', '::ffff:10.0.0.0/104', '192.168.0.0/16', '::1', 'garbage', '10.0.0.0/33');
const patterns = fc.constantFrom('^user', 'USER', '\\d+', '^[a-z]+$', '(', 'é', '中', '^$', '', '.*', 'a{2,}', 'x'.repeat(257));
const scalars = fc.oneof(strings, numbers, fc.boolean(), dates, versions, addresses);

function valuesFor(op: string): fc.Arbitrary<unknown[]> {
  const list = (a: fc.Arbitrary<unknown>) => fc.array(a, { maxLength: 3 });
  if (op === 'matches') return list(patterns);
  if (op.startsWith('num')) return list(fc.oneof(numbers, fc.boolean()));
  if (op === 'before' || op === 'after') return list(dates);
  if (op.startsWith('semver')) return list(versions);
  if (op === 'inCidr') return list(blocks);
  return list(scalars);
}

const condition = fc.constantFrom(...OPS).chain((operator) =>
  fc.record(
    {
      attribute: fc.constantFrom(...ATTRIBUTES),
      operator: fc.constant(operator),
      values: valuesFor(operator),
      negate: fc.boolean(),
      caseInsensitive: fc.boolean(),
    },
    { requiredKeys: ['attribute', 'operator'] },
  ),
);

const context = fc.record(
  {
    key: fc.oneof(fc.constantFrom(...USER_KEYS), fc.constantFrom(42, true)),
    tenant: fc.constantFrom('acme', 'globex', 7),
    country: fc.oneof(strings, fc.constant(null)),
    plan: strings,
    age: numbers,
    appVersion: versions,
    ip: addresses,
    signup: dates,
    currentTime: dates,
    email: strings,
    beta: fc.oneof(fc.boolean(), strings),
  },
  { requiredKeys: [] },
);

const cohort = fc.record(
  {
    key: fc.constant('c'),
    included: fc.subarray(USER_KEYS),
    excluded: fc.subarray(USER_KEYS),
    conditions: fc.array(condition, { maxLength: 2 }),
  },
  { requiredKeys: ['key'] },
);

const rolloutArb = fc.record(
  {
    percentage: fc.oneof(fc.constantFrom(0, 100, 50, 0.001, 99.999), fc.integer({ min: 0, max: 100 }), percentage),
    bucketBy: fc.constantFrom('key', 'tenant', 'nothing'),
    salt: fc.constantFrom('s1', 'shared', 'é🚀'),
  },
  { requiredKeys: ['percentage'] },
);

function flagArb(index: number): fc.Arbitrary<Record<string, unknown>> {
  const later = [...FLAG_KEYS.slice(index + 1), 'ghost'];
  const variants = fc
    .subarray(VARIANT_KEYS)
    .chain((keys) =>
      fc.tuple(
        ...keys.map((key) =>
          fc.record({ key: fc.constant(key), weight: fc.integer({ min: 0, max: 5 }), value: fc.jsonValue({ maxDepth: 2 }).filter((v) => v !== null) }, { requiredKeys: ['key'] }),
        ),
      ),
    );
  return variants.chain((vs) => {
    const names = vs.map((v) => v.key);
    const arm = names.length === 0 ? fc.constant(undefined) : fc.record({ variant: fc.constantFrom(...names), weight: fc.integer({ min: 0, max: 3 }) });
    const rule = (id: string) =>
      fc.record(
        {
          id: fc.constant(id),
          conditions: fc.array(condition, { maxLength: 2 }),
          cohorts: fc.subarray([...COHORT_KEYS, 'ghost-cohort'], { maxLength: 2 }),
          rollout: fc.oneof({ arbitrary: rolloutArb, weight: 20 }, { arbitrary: fc.record({ percentage: fc.constantFrom(-1, 100.5) }), weight: 1 }),
          ...(names.length > 0 ? { variant: fc.constantFrom(...names), split: fc.array(arm as fc.Arbitrary<{ variant: string; weight: number }>, { minLength: 1, maxLength: 3 }) } : {}),
        },
        { requiredKeys: ['id'] },
      );
    return fc.record(
      {
        key: fc.constant(FLAG_KEYS[index]!),
        enabled: fc.oneof({ arbitrary: fc.constant(true), weight: 6 }, { arbitrary: fc.constant(false), weight: 1 }),
        salt: fc.constantFrom('s1', 'shared', '中文'),
        variants: fc.constant(vs),
        prerequisites: fc.array(
          fc.record(
            { flag: fc.constantFrom(...later), enabled: fc.boolean(), variants: fc.subarray([...VARIANT_KEYS, 'zzz'], { maxLength: 2 }) },
            { requiredKeys: ['flag'] },
          ),
          { maxLength: 2 },
        ),
        rules: fc.tuple(rule('r0'), rule('r1'), rule('r2')).chain((rs) => fc.subarray(rs)),
      },
      { requiredKeys: ['key', 'enabled'] },
    );
  });
}

const rulesetArb = fc
  .record({
    flags: fc.tuple(...FLAG_KEYS.map((_, i) => flagArb(i))),
    cohorts: fc.tuple(cohort, cohort),
  })
  .map(({ flags, cohorts }) => ({
    environment: 'random',
    revision: 1,
    flags: Object.fromEntries(flags.map((f, i) => [FLAG_KEYS[i]!, f])),
    cohorts: { c0: { ...cohorts[0], key: 'c0' }, c1: { ...cohorts[1], key: 'c1' } },
  }));

function deepFreeze<T>(x: T): T {
  if (typeof x === 'object' && x !== null) {
    Object.values(x).forEach(deepFreeze);
    Object.freeze(x);
  }
  return x;
}

describe('evaluate equals the reference on random rulesets', () => {
  it('every flag of the ruleset, and a missing one', () => {
    fc.assert(
      fc.property(rulesetArb, context, fc.boolean(), (ruleset, ctx, nowAsDate) => {
        deepFreeze(ruleset);
        const options = { now: nowAsDate ? new Date(NOW) : NOW };
        for (const key of [...FLAG_KEYS, 'missing']) {
          const expected = fields(referenceEvaluate(ruleset, key, ctx, options));
          expect(fields(run(ruleset, key, ctx, options)), key).toStrictEqual(expected);
        }
      }),
      params(400),
    );
  });

  it('the same ruleset object evaluated for many contexts', () => {
    fc.assert(
      fc.property(rulesetArb, fc.array(context, { minLength: 5, maxLength: 20 }), (ruleset, contexts) => {
        for (const ctx of contexts) {
          expect(fields(run(ruleset, 'f0', ctx, { now: NOW }))).toStrictEqual(fields(referenceEvaluate(ruleset, 'f0', ctx, { now: NOW })));
        }
      }),
      params(100),
    );
  });
});

// =============================================================================================

const REASONS = ['DISABLED', 'PREREQUISITE_FAILED', 'DEFAULT', 'RULE_MATCH', 'NO_MATCH', 'FLAG_NOT_FOUND', 'ERROR'];
const ERROR_CODES = ['INVALID_FLAG', 'INVALID_COHORT', 'INVALID_INPUT', 'GENERAL'];

function assertWellFormed(r: unknown): void {
  expect(typeof r).toBe('object');
  expect(r).not.toBeNull();
  const result = r as Result;
  expect(typeof result.enabled).toBe('boolean');
  expect(REASONS).toContain(result.reason);
  expect(result.enabled).toBe(result.reason === 'DEFAULT' || result.reason === 'RULE_MATCH');
  if (result.reason === 'ERROR') expect(ERROR_CODES).toContain(result.errorCode);
  else expect(result.errorCode).toBeUndefined();
  if (result.reason === 'RULE_MATCH') expect(typeof result.ruleId).toBe('string');
  else expect(result.ruleId).toBeUndefined();
  if (!result.enabled) {
    expect(result.variant).toBeUndefined();
    expect(result.value).toBeUndefined();
  }
  if (result.variant !== undefined) expect(typeof result.variant).toBe('string');
}

/** Replaces the node at a random path of `x` with `replacement`. */
function mutate(x: unknown, pick: number, replacement: unknown): unknown {
  const paths: Array<Array<string | number>> = [];
  const walk = (node: unknown, path: Array<string | number>): void => {
    paths.push(path);
    if (Array.isArray(node)) node.forEach((child, i) => walk(child, [...path, i]));
    else if (typeof node === 'object' && node !== null) for (const [k, v] of Object.entries(node)) walk(v, [...path, k]);
  };
  walk(x, []);
  const path = paths[pick % paths.length]!;
  if (path.length === 0) return replacement;
  const copy = structuredClone(x) as Record<string | number, unknown>;
  let node = copy;
  for (const step of path.slice(0, -1)) node = node[step] as Record<string | number, unknown>;
  node[path[path.length - 1]!] = replacement;
  return copy;
}

describe('evaluate never throws and always answers a well-formed result', () => {
  it('on arbitrary values for ruleset, flag key and context', () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), fc.anything(), (ruleset, key, ctx) => {
        assertWellFormed(run(ruleset, key, ctx));
      }),
      params(500),
    );
  });

  it('on hostile values (null prototypes, boxed values, Maps, Dates, sparse arrays)', () => {
    const hostile = fc.anything({
      withNullPrototype: true,
      withBoxedValues: true,
      withMap: true,
      withSet: true,
      withDate: true,
      withSparseArray: true,
      withTypedArray: true,
      withObjectString: true,
    });
    fc.assert(
      fc.property(hostile, hostile, (flag, ctx) => {
        assertWellFormed(run({ flags: { f: flag }, cohorts: {} }, 'f', ctx));
        assertWellFormed(run({ flags: { f: { key: 'f', enabled: true, rules: [{ id: 'r', conditions: [{ attribute: 'a', operator: 'in', values: ['x'] }] }] } } }, 'f', { a: flag }));
      }),
      params(300),
    );
  });

  it('on JSON in the place of a flag, the cohorts and the context', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.dictionary(fc.string(), fc.jsonValue()), fc.jsonValue(), (flag, cohorts, ctx) => {
        assertWellFormed(run({ environment: 'x', revision: 1, flags: { f: flag }, cohorts }, 'f', ctx));
      }),
      params(500),
    );
  });

  it('on valid rulesets with one node replaced by arbitrary JSON', () => {
    fc.assert(
      fc.property(rulesetArb, context, fc.nat(), fc.jsonValue({ maxDepth: 2 }), (ruleset, ctx, pick, replacement) => {
        const damaged = mutate(ruleset, pick, replacement);
        for (const key of FLAG_KEYS) assertWellFormed(run(damaged, key, ctx, { now: NOW }));
      }),
      params(250),
    );
  });
});

describe('cohorts shared between rulesets', () => {
  const flag = { key: 'f', enabled: true, rules: [{ id: 'r', cohorts: ['beta'] }] };
  const withCohort = (cohort: unknown, revision: number) => ({ environment: 'p', revision, flags: { f: flag }, cohorts: { beta: cohort } });

  it('one cohort object in many rulesets answers the same in each; a new object with other members answers by its own', () => {
    const beta = { key: 'beta', included: ['ada'], excluded: [], conditions: [] };
    const environments = Array.from({ length: 5 }, (_, i) => withCohort(beta, i + 1));
    for (const ruleset of environments) {
      expect(run(ruleset, 'f', { key: 'ada' }).enabled).toBe(true);
      expect(run(ruleset, 'f', { key: 'bob' }).enabled).toBe(false);
    }
    const next = withCohort({ ...beta, included: ['bob'] }, 6);
    expect(run(next, 'f', { key: 'ada' }).enabled).toBe(false);
    expect(run(next, 'f', { key: 'bob' }).enabled).toBe(true);
    // The earlier rulesets still hold the earlier members.
    expect(run(environments[0], 'f', { key: 'ada' }).enabled).toBe(true);
  });

  it('a malformed cohort shared between rulesets is an error in each', () => {
    const broken = { key: 'beta', included: 'ada' };
    for (const revision of [1, 2]) expect(run(withCohort(broken, revision), 'f', { key: 'ada' }).errorCode).toBeDefined();
  });
});
