/**
 * MemberSet and compactCohorts: a large cohort list held compactly answers exactly as the array it
 * replaces, in evaluation and in the protocol's diff.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { COMPACT_FROM, MemberSet, compactCohorts, evaluate, type Cohort, type Ruleset } from '../src/index.js';
import { diffRulesets, patchRuleset, sameJson } from '../src/protocol/index.js';

const SEED = Number(process.env.FC_SEED ?? 20240615);

function ruleset(cohort: Cohort): Ruleset {
  return {
    environment: 'p',
    revision: 1,
    flags: { gated: { key: 'gated', enabled: true, rules: [{ id: 'beta', cohorts: ['beta'] }] } as never },
    cohorts: { beta: cohort },
  };
}

const keys = (n: number, prefix = 'user-') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe('MemberSet', () => {
  it('answers membership like a Set of the same keys, duplicates and the empty key included', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 12 }).filter((k) => !k.includes('\u0000')), { maxLength: 300 }), fc.array(fc.string({ maxLength: 12 }), { maxLength: 50 }), (list, probes) => {
        const set = MemberSet.from(list)!;
        const reference = new Set(list);
        expect(set.size).toBe(reference.size);
        for (const key of [...list, ...probes]) expect(set.has(key)).toBe(reference.has(key));
        expect(set.toJSON()).toEqual([...reference]);
      }),
      { numRuns: 300, seed: SEED },
    );
  });

  it('does not confuse a key with a prefix or an extension of another', () => {
    const set = MemberSet.from(['ab', 'abc', 'b'])!;
    expect(['ab', 'abc', 'b'].map((k) => set.has(k))).toEqual([true, true, true]);
    expect(['a', 'abcd', 'bc', '', 'ab\u0000abc'].map((k) => set.has(k))).toEqual([false, false, false, false, false]);
  });

  it('refuses lists it cannot hold: a key with a NUL, or one that is not a string', () => {
    expect(MemberSet.from(['a', 'b\u0000c'])).toBeUndefined();
    expect(MemberSet.from(['a', 7])).toBeUndefined();
  });

  it('equals, as JSON data, the same keys in any order, and nothing else', () => {
    const set = MemberSet.from(['c', 'a', 'b'])!;
    expect(set.equalsJson(['a', 'b', 'c'])).toBe(true);
    expect(set.equalsJson(MemberSet.from(['b', 'c', 'a']))).toBe(true);
    expect(set.equalsJson(['a', 'b'])).toBe(false);
    expect(set.equalsJson(['a', 'b', 'c', 'd'])).toBe(false);
    expect(set.equalsJson(['a', 'b', 'b'])).toBe(false);
    expect(set.equalsJson('abc')).toBe(false);
    expect(sameJson({ included: set }, { included: ['b', 'a', 'c'] })).toBe(true);
    expect(sameJson({ included: ['b', 'a', 'x'] }, { included: set })).toBe(false);
    expect(JSON.parse(JSON.stringify({ included: set }))).toEqual({ included: ['c', 'a', 'b'] });
  });
});

describe('compactCohorts', () => {
  const big: Cohort = { key: 'beta', included: keys(COMPACT_FROM + 500), excluded: ['user-3'], conditions: [{ attribute: 'plan', operator: 'in', values: ['pro'] }] };

  it('holds large lists as MemberSets and leaves small ones and small rulesets alone', () => {
    const source = ruleset(big);
    const compact = compactCohorts(source);
    expect(compact.cohorts.beta.included).toBeInstanceOf(MemberSet);
    expect(compact.cohorts.beta.excluded).toEqual(['user-3']);
    expect(source.cohorts.beta.included).toBeInstanceOf(Array);
    const small = ruleset({ key: 'beta', included: keys(10) });
    expect(compactCohorts(small)).toBe(small);
    // Compacted once per cohort object; a compacted ruleset is its own compaction.
    expect(compactCohorts(ruleset(big)).cohorts.beta).toBe(compact.cohorts.beta);
    expect(compactCohorts(compact)).toBe(compact);
  });

  it('evaluates exactly as the arrays: members, the excluded one, conditions, strangers', () => {
    const arrays = ruleset(big);
    const compact = compactCohorts(arrays);
    const contexts = [{ key: 'user-0' }, { key: 'user-3' }, { key: `user-${COMPACT_FROM + 499}` }, { key: 'stranger' }, { key: 'stranger', plan: 'pro' }, { key: 1400 }, {}];
    for (const context of contexts) expect(evaluate(compact, 'gated', context)).toEqual(evaluate(arrays, 'gated', context));
    expect(evaluate(compact, 'gated', { key: 'user-3' }).enabled).toBe(false);
    expect(evaluate(compact, 'gated', { key: 'user-7' }).enabled).toBe(true);
  });

  it('diffs against the arrays a server sends next: the same list is no change, one more key is', () => {
    const held = compactCohorts(ruleset(big));
    const again = { ...ruleset({ ...big, included: [...big.included!].reverse() }), revision: 2 };
    expect(diffRulesets(held, again)).toEqual({ flags: [], cohorts: [], killed: [] });
    const grown = patchRuleset(held, { cohorts: { beta: { ...big, included: [...big.included!, 'newcomer'] } } }, 2);
    expect(grown.diff.cohorts).toEqual(['beta']);
    expect(evaluate(compactCohorts(grown.ruleset), 'gated', { key: 'newcomer' }).enabled).toBe(true);
  });
});

describe('membership deltas (protocol 2 `members`)', () => {
  type Delta = { include?: string[]; exclude?: string[]; remove?: string[] };
  /** The delta's meaning on plain Sets: what both the array and the MemberSet paths must equal. */
  const reference = (cohort: { included: Set<string>; excluded: Set<string> }, d: Delta) => {
    for (const k of [...(d.include ?? []), ...(d.exclude ?? []), ...(d.remove ?? [])]) {
      cohort.included.delete(k);
      cohort.excluded.delete(k);
    }
    for (const k of d.include ?? []) cohort.included.add(k);
    for (const k of d.exclude ?? []) cohort.excluded.add(k);
  };
  // Keys from a small alphabet, so deltas hit members, excluded keys and strangers alike.
  const key = fc.integer({ min: 0, max: COMPACT_FROM * 3 }).map((i) => `user-${i}`);
  const delta = fc
    .uniqueArray(key, { maxLength: 40 })
    .chain((named) => fc.array(fc.constantFrom('include', 'exclude', 'remove'), { minLength: named.length, maxLength: named.length }).map((lists) => {
      const d: Delta = {};
      named.forEach((k, i) => (d[lists[i] as keyof Delta] ??= []).push(k));
      return d;
    }));

  it('moves keys exactly like Sets would, on arrays and on MemberSets, across many deltas', () => {
    fc.assert(
      fc.property(fc.array(delta, { minLength: 1, maxLength: 30 }), (deltas) => {
        const start: Cohort = { key: 'beta', included: keys(COMPACT_FROM + 200), excluded: ['user-1', `user-${COMPACT_FROM * 2}`] };
        const model = { included: new Set(start.included), excluded: new Set(start.excluded) };
        let arrays = ruleset(start);
        let compact = compactCohorts(ruleset(start));
        deltas.forEach((d, i) => {
          reference(model, d);
          arrays = patchRuleset(arrays, { members: { beta: d } }, i + 2).ruleset;
          const before = compact;
          const next = patchRuleset(compact, { members: { beta: d } }, i + 2);
          compact = next.ruleset;
          // Reported as changed exactly when a key moved.
          expect(next.diff.cohorts).toEqual(diffRulesets(before, compact).cohorts);
        });
        for (const held of [arrays, compact]) {
          const beta = held.cohorts.beta;
          expect(sameJson(beta.included, [...model.included])).toBe(true);
          expect(sameJson(beta.excluded, [...model.excluded])).toBe(true);
          expect(new Set(JSON.parse(JSON.stringify(beta.included)))).toEqual(model.included);
          for (const k of ['user-0', 'user-1', `user-${COMPACT_FROM * 2}`, ...deltas.flatMap((d) => [...(d.include ?? []), ...(d.exclude ?? [])])]) {
            const expected = !model.excluded.has(k) && model.included.has(k);
            expect(evaluate(held, 'gated', { key: k }).enabled, k).toBe(expected);
          }
        }
      }),
      { seed: SEED, numRuns: 60 },
    );
  });

  it('copies only the delta on a held list, and rebuilds it into a MemberSet once deltas outgrow an eighth of it', () => {
    const base = compactCohorts(ruleset({ key: 'beta', included: keys(COMPACT_FROM * 16) }));
    const one = patchRuleset(base, { members: { beta: { include: ['newcomer'] } } }, 2).ruleset;
    const list = one.cohorts.beta.included as unknown as { size: number; has(k: string): boolean };
    expect(list).not.toBeInstanceOf(MemberSet);
    expect([list.size, list.has('newcomer'), list.has('user-5')]).toEqual([COMPACT_FROM * 16 + 1, true, true]);
    // The untouched ruleset keeps its list.
    expect((base.cohorts.beta.included as unknown as MemberSet).has('newcomer')).toBe(false);
    const many = patchRuleset(one, { members: { beta: { remove: keys(COMPACT_FROM * 2 + 1) } } }, 3).ruleset;
    expect(many.cohorts.beta.included).toBeInstanceOf(MemberSet);
    expect((many.cohorts.beta.included as unknown as MemberSet).size).toBe(COMPACT_FROM * 14);
  });
});
