/**
 * Runs every case of vectors/vectors.json through the engine and compares the fields the vectors
 * fix: enabled, reason, variant, value (deep), ruleId, errorCode (errorMessage is ignored).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { evaluate } from '../src/index.js';
import type { Context, Result, Ruleset } from '../src/index.js';
import { referenceEvaluate } from './reference.js';

interface VectorCase {
  name: string;
  ruleset: unknown;
  flag: string;
  context: unknown;
  now?: number;
  expected: Record<string, unknown>;
}

const file = JSON.parse(readFileSync(new URL('../vectors/vectors.json', import.meta.url), 'utf8')) as {
  version: number;
  cases: VectorCase[];
};

const FIELDS = ['enabled', 'reason', 'variant', 'value', 'ruleId', 'errorCode'] as const;

/** The compared fields, absent ones left out. */
function fields(r: Result | Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of FIELDS) {
    const v = (r as Record<string, unknown>)[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

function run(c: VectorCase): Result {
  return evaluate(c.ruleset as Ruleset, c.flag, c.context as Context, c.now === undefined ? undefined : { now: c.now });
}

/** "group: description" -> group */
const groups = new Map<string, VectorCase[]>();
for (const c of file.cases) {
  const group = c.name.split(':')[0]!;
  groups.set(group, [...(groups.get(group) ?? []), c]);
}

describe('vectors.json', () => {
  it('is version 1 with at least 250 uniquely named cases', () => {
    expect(file.version).toBe(1);
    expect(file.cases.length).toBeGreaterThanOrEqual(250);
    expect(new Set(file.cases.map((c) => c.name)).size).toBe(file.cases.length);
  });

  it('agrees with the reference implementation (regenerate with `npx tsx packages/core/vectors/generate.ts`)', () => {
    const stale = file.cases
      .filter((c) => {
        const ref = referenceEvaluate(c.ruleset, c.flag, c.context, c.now === undefined ? undefined : { now: c.now });
        return JSON.stringify(fields(ref)) !== JSON.stringify(fields(c.expected));
      })
      .map((c) => c.name);
    expect(stale).toEqual([]);
  });

  it('covers every operator, with and without negate', () => {
    const operators = new Set<string>();
    const negated = new Set<string>();
    const walk = (x: unknown): void => {
      if (Array.isArray(x)) x.forEach(walk);
      else if (typeof x === 'object' && x !== null) {
        const o = x as Record<string, unknown>;
        if (typeof o.operator === 'string' && typeof o.attribute === 'string') {
          (o.negate === true ? negated : operators).add(o.operator);
        }
        Object.values(o).forEach(walk);
      }
    };
    file.cases.forEach((c) => walk(c.ruleset));
    const all = [
      'in', 'notIn', 'contains', 'startsWith', 'endsWith', 'matches',
      'numEq', 'numGt', 'numGte', 'numLt', 'numLte', 'before', 'after',
      'semverEq', 'semverGt', 'semverGte', 'semverLt', 'semverLte', 'inCidr', 'exists',
    ];
    for (const op of all) {
      expect(operators, op).toContain(op);
      expect(negated, `${op} negated`).toContain(op);
    }
  });

  it('covers every reason', () => {
    const reasons = new Set(file.cases.map((c) => c.expected.reason));
    for (const r of ['DISABLED', 'PREREQUISITE_FAILED', 'DEFAULT', 'RULE_MATCH', 'NO_MATCH', 'FLAG_NOT_FOUND', 'ERROR']) {
      expect(reasons).toContain(r);
    }
  });
});

describe.each([...groups.entries()].map(([group, cases]) => ({ group, cases })))('engine vs vectors: $group', ({ cases }) => {
  it.each(cases)('$name', (c) => {
    let result: Result;
    expect(() => {
      result = run(c);
    }).not.toThrow();
    expect(fields(result!)).toStrictEqual(fields(c.expected));
  });
});
