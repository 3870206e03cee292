import { describe, expect, it } from 'vitest';
import type { Ruleset } from '@aviary/core';
import { applyPatch, diffRulesets, isRuleset, toPatch, toRuleset } from './ruleset.js';

const base: Ruleset = {
  environment: 'prod',
  revision: 4,
  flags: { a: { key: 'a', enabled: true }, b: { key: 'b', enabled: true } },
  cohorts: { beta: { key: 'beta', included: ['u1'] } },
};

describe('ruleset', () => {
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
