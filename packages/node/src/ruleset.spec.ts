import { describe, expect, it } from 'vitest';
import type { Ruleset } from '@aviary/core';
import { applyPatch, diffRulesets, isReset, isRuleset, patchRuleset, sameJson, toPatch, toRuleset, type RulesetPatch } from './ruleset.js';

const base: Ruleset = {
  environment: 'prod',
  revision: 4,
  flags: { a: { key: 'a', enabled: true }, b: { key: 'b', enabled: true } },
  cohorts: { beta: { key: 'beta', included: ['u1'] } },
};

describe('ruleset', () => {
  it('tells a ruleset marked as a reset, and leaves the mark out of the ruleset it keeps', () => {
    const marked = { ...base, reset: true };
    expect(isReset(marked)).toBe(true);
    expect(isReset(base)).toBe(false);
    expect(isReset({ ...base, reset: 'yes' })).toBe(false);
    expect(isReset(null)).toBe(false);
    expect(toRuleset(marked)).toEqual(base);
  });

  it('applies a patch into a new ruleset, leaving the old one untouched', () => {
    const next = applyPatch(base, { flags: { a: { key: 'a', enabled: false }, b: null, c: { key: 'c', enabled: true } }, cohorts: { beta: null } }, 5);
    expect(next).toEqual({
      environment: 'prod',
      revision: 5,
      flags: { a: { key: 'a', enabled: false }, c: { key: 'c', enabled: true } },
      cohorts: {},
    });
    expect(base.flags['b']).toBeDefined();
    expect(base.revision).toBe(4);
  });

  it('reports changed flags and cohorts, and flags switched off', () => {
    const next = applyPatch(base, { flags: { a: { key: 'a', enabled: false }, c: { key: 'c', enabled: false } }, cohorts: { beta: { key: 'beta', included: [] } } }, 5);
    expect(diffRulesets(base, next)).toEqual({ flags: ['a', 'c'], cohorts: ['beta'], killed: ['a'] });
    expect(diffRulesets(base, structuredClone(base))).toEqual({ flags: [], cohorts: [], killed: [] });
    // The same data with members in another order (a hand-written bootstrap against the server's JSON) is no change.
    expect(diffRulesets(base, { ...base, flags: { b: { enabled: true, key: 'b' }, a: { enabled: true, key: 'a' } } })).toEqual({ flags: [], cohorts: [], killed: [] });
  });

  it.each<[string, RulesetPatch]>([
    ['a kill', { flags: { a: { key: 'a', enabled: false } } }],
    ['a new flag, switched off', { flags: { c: { key: 'c', enabled: false } } }],
    ['a removal and a removal of nothing', { flags: { b: null, ghost: null } }],
    ['the same flag again', { flags: { a: { key: 'a', enabled: true } } }],
    ['the same flag with its members in another order', { flags: { a: { enabled: true, key: 'a' } } }],
    ['a change inside a nested list', { cohorts: { beta: { key: 'beta', included: ['u1', 'u2'] } } }],
    ['the same cohort again', { cohorts: { beta: { key: 'beta', included: ['u1'] } } }],
    ['flags and cohorts at once, out of order', { flags: { z: { key: 'z', enabled: true }, a: { key: 'a', enabled: false }, b: null }, cohorts: { beta: null, alpha: { key: 'alpha' } } }],
    ['nothing', {}],
    ['empty maps', { flags: {}, cohorts: {} }],
  ])('tells from the patch alone what %s changed, as a whole-ruleset diff would', (_name, patch) => {
    const { ruleset, diff } = patchRuleset(base, patch, 5);
    expect(ruleset).toEqual(applyPatch(base, patch, 5));
    expect(diff).toEqual(diffRulesets(base, ruleset));
  });

  it('reuses what a patch does not touch and leaves the base alone', () => {
    const { ruleset } = patchRuleset(base, { flags: { a: { key: 'a', enabled: false } } }, 5);
    expect(ruleset.cohorts).toBe(base.cohorts);
    expect(ruleset.flags['b']).toBe(base.flags['b']);
    expect(base.flags['a']).toEqual({ key: 'a', enabled: true });
  });

  it.each([
    [{ a: 1, b: [1, { c: null }] }, { b: [1, { c: null }], a: 1 }, true],
    [{ a: 1, b: undefined }, { a: 1 }, true],
    [{ a: 1 }, { a: 1, b: 2 }, false],
    [{ a: 1, b: 2 }, { a: 1, c: 2 }, false],
    [[1, 2], [2, 1], false],
    [[1], { 0: 1 }, false],
    ['1', 1, false],
    [null, {}, false],
  ])('sameJson(%j, %j) is %s', (a, b, expected) => {
    expect(sameJson(a, b)).toBe(expected);
    expect(sameJson(b, a)).toBe(expected);
  });

  it.each([
    [base, true],
    [{ ...base, cohorts: undefined }, true],
    [{ ...base, revision: '4' }, false],
    [{ ...base, flags: [] }, false],
    [null, false],
    ['ruleset', false],
  ])('isRuleset(%j) is %s', (value, expected) => {
    expect(isRuleset(value)).toBe(expected);
  });

  it('takes the revision from the event id and fills missing parts', () => {
    expect(toRuleset({ flags: {}, revision: 3 }, 7)).toEqual({ flags: {}, revision: 7, environment: '', cohorts: {} });
    expect(toRuleset({ flags: {} })).toBeUndefined();
    expect(toPatch({ flags: [] })).toBeUndefined();
    expect(toPatch({ revision: 1.5 })).toBeUndefined();
    expect(toPatch({ flags: { a: null } })).toEqual({ flags: { a: null } });
  });
});
