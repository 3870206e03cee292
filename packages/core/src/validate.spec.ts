import { describe, expect, it } from 'vitest';
import { validateCohort, validateFlag } from './validate.js';
import type { Ruleset } from './types.js';

const ruleset: Ruleset = {
  environment: 'production',
  revision: 1,
  flags: { base: { key: 'base', enabled: true, prerequisites: [{ flag: 'top' }] }, top: { key: 'top', enabled: true } },
  cohorts: { beta: { key: 'beta', included: ['u1'] } },
};

describe('validateFlag', () => {
  it('accepts a sound flag', () => {
    expect(
      validateFlag(
        {
          enabled: true,
          variants: [{ key: 'a', weight: 1 }, { key: 'b', weight: 3 }],
          rules: [{ id: 'r1', conditions: [{ attribute: 'country', operator: 'in', values: ['NL'] }], cohorts: ['beta'], rollout: { percentage: 12.5 }, split: [{ variant: 'a', weight: 1 }] }],
        },
        { strict: true, ruleset, key: 'x' },
      ),
    ).toEqual([]);
  });

  it.each([
    [{ enabled: 'yes' }, 'enabled'],
    [{ enabled: true, rules: [{ id: 'r', rollout: { percentage: 101 } }] }, 'rules[0].rollout.percentage'],
    [{ enabled: true, rules: [{ id: 'r', rollout: { percentage: -1 } }] }, 'rules[0].rollout.percentage'],
    [{ enabled: true, variants: [{ key: 'a', weight: 1.5 }] }, 'variants[0].weight'],
    [{ enabled: true, variants: [{ key: 'a' }, { key: 'a' }] }, 'variants[1].key'],
    [{ enabled: true, rules: [{ id: 'r', variant: 'nope' }] }, 'rules[0].variant'],
    [{ enabled: true, rules: [{ id: 'r', conditions: [{}, { attribute: 'a', operator: 'in', values: [{}] }] }] }, 'rules[0].conditions[1].values'],
    [{ enabled: true, rules: [{ id: 'r', split: [{ variant: 'a', weight: -1 }] }], variants: [{ key: 'a' }] }, 'rules[0].split[0].weight'],
    [{ enabled: true, prerequisites: [{ flag: 1 }] }, 'prerequisites[0].flag'],
  ])('structural problem %j is reported at %s', (flag, path) => {
    expect(validateFlag(flag).map((i) => i.path)).toContain(path);
  });

  it.each([
    [{ id: 'r', rollout: { percentage: 12.3456 } }, 'rules[0].rollout.percentage', 'three decimals'],
    [{ id: 'r', conditions: [{ attribute: 'a', operator: 'nope', values: ['x'] }] }, 'rules[0].conditions[0].operator', 'unknown operator'],
    [{ id: 'r', conditions: [{ attribute: 'a', operator: 'matches', values: ['(a)\\1'] }] }, 'rules[0].conditions[0].values', 'back-references are not supported (RE2 syntax)'],
    [{ id: 'r', conditions: [{ attribute: 'a', operator: 'matches', values: ['('] }] }, 'rules[0].conditions[0].values', 'missing closing ) (RE2 syntax)'],
    [{ id: 'r', conditions: [{ attribute: 'a', operator: 'matches', values: ['a'.repeat(257)] }] }, 'rules[0].conditions[0].values', 'longer than 256'],
    [{ id: 'r', conditions: [{ attribute: 'a', operator: 'semverGt', values: ['v1.0.0'] }] }, 'rules[0].conditions[0].values', 'SemVer'],
    [{ id: 'r', conditions: [{ attribute: 'a', operator: 'inCidr', values: ['10.0.0.0/33'] }] }, 'rules[0].conditions[0].values[0]', 'CIDR'],
    [{ id: 'r', conditions: [{ attribute: 'a', operator: 'after', values: ['yesterday'] }] }, 'rules[0].conditions[0].values', 'ISO-8601'],
    [{ id: 'r', conditions: [{ attribute: 'a', operator: 'numGt', values: ['ten'] }] }, 'rules[0].conditions[0].values', 'number'],
    [{ id: 'r', cohorts: ['gamma'] }, 'rules[0].cohorts[0]', 'no cohort "gamma"'],
  ])('strict mode refuses rule %j at %s', (rule, path, message) => {
    const issues = validateFlag({ enabled: true, rules: [rule] }, { strict: true, ruleset, key: 'x' });
    expect(issues).toContainEqual({ path, message: expect.stringContaining(message) });
  });

  it('finds prerequisite cycles and missing prerequisites', () => {
    expect(validateFlag({ enabled: true, prerequisites: [{ flag: 'base' }] }, { strict: true, ruleset, key: 'top' })).toContainEqual({
      path: 'prerequisites',
      message: 'prerequisite cycle: top -> base -> top',
    });
    expect(validateFlag({ enabled: true, prerequisites: [{ flag: 'ghost' }] }, { strict: true, ruleset, key: 'x' })[0]?.path).toBe('prerequisites[0].flag');
  });
});

describe('matches patterns (RE2 syntax)', () => {
  const problems = (pattern: string) => validateFlag({ enabled: true, rules: [{ id: 'r', conditions: [{ attribute: 'email', operator: 'matches', values: [pattern] }] }] }, { strict: true });

  it.each([
    ['(a)\\1', 'back-references are not supported (RE2 syntax): \\1'],
    ['(?P<x>a)(?P=x)', 'back-references are not supported (RE2 syntax): (?P='],
    ['a(?=b)', 'lookahead and lookbehind are not supported (RE2 syntax): (?='],
    ['(?<!a)b', 'lookahead and lookbehind are not supported (RE2 syntax): (?<!'],
    ['\\p{Greek}', 'Unicode classes such as \\p{L} are not supported'],
    ['\\u0041', 'invalid escape'],
    ['[a-', 'missing closing ] (RE2 syntax): [a-'],
    ['a)', 'unexpected ) (RE2 syntax): )'],
    ['*a', 'nothing to repeat (RE2 syntax): *'],
    ['a**', 'a repetition cannot repeat a repetition directly'],
    ['a{1001}', 'invalid repeat count'],
    ['(a{100}){11}', 'invalid repeat count'],
    ['(?:abcdefghij){101}', 'pattern too large once its repetitions are expanded (at most 1000 steps)'],
    ['[z-a]', 'invalid character class range (RE2 syntax): z-a'],
    ['[[:alphabet:]]', 'unknown POSIX class'],
    ['(?x)a', 'unsupported group syntax'],
    ['(?P<a>x)(?P<a>y)', 'duplicate group name'],
    ['a\\', 'trailing backslash'],
  ])('refuses %s: %s', (pattern, message) => {
    expect(problems(pattern)).toEqual([{ path: 'rules[0].conditions[0].values', message: expect.stringContaining(message) }]);
  });

  it.each(['(a+)+$', '(a|a)*$', '^(a?){25}a{25}$', '(?i)^user-\\d+$', '[[:alpha:]]+', '(?s).', '\\x{1F680}', '\\Qa.b\\E', '^(?P<tier>pro|free)$', 'a{1000}'])(
    'accepts %s (linear whatever it is)',
    (pattern) => {
      expect(problems(pattern)).toEqual([]);
    },
  );

  it('does not refuse again a stored pattern that no longer compiles, so a kill or the dial never fails on it', () => {
    const flag = { enabled: true, rules: [{ id: 'r', conditions: [{ attribute: 'email', operator: 'matches', values: ['^(?=x)'] }] }] };
    expect(validateFlag(flag, { strict: true })).toHaveLength(1);
    expect(validateFlag(flag, { strict: true, storedPatterns: new Set(['^(?=x)']) })).toEqual([]);
    expect(validateCohort({ key: 'c', conditions: flag.rules[0]!.conditions }, true, new Set(['^(?=x)']))).toEqual([]);
  });
});

describe('prerequisite depth', () => {
  const chain = (n: number): Ruleset => ({
    environment: 'e',
    revision: 1,
    cohorts: {},
    flags: Object.fromEntries(
      Array.from({ length: n }, (_, i) => [`f${i}`, { key: `f${i}`, enabled: true, prerequisites: i + 1 < n ? [{ flag: `f${i + 1}` }] : [] }]),
    ),
  });

  it('accepts a chain of 10 prerequisite levels and refuses 11, naming the chain', () => {
    // A flag on top of f0..f9 has 10 levels below it; on top of f0..f10, 11.
    expect(validateFlag({ enabled: true, prerequisites: [{ flag: 'f0' }] }, { strict: true, ruleset: chain(10), key: 'top' })).toEqual([]);
    const issues = validateFlag({ enabled: true, prerequisites: [{ flag: 'f0' }] }, { strict: true, ruleset: chain(11), key: 'top' });
    expect(issues).toEqual([{ path: 'prerequisites', message: expect.stringMatching(/^prerequisite chain deeper than 10 levels: top -> f0 -> .* -> f10$/) }]);
  });
});

describe('validateCohort', () => {
  it('reports lists that are not lists of keys', () => {
    expect(validateCohort({ key: 'c', included: [1], excluded: 'x' }).map((i) => i.path)).toEqual(['included', 'excluded']);
    expect(validateCohort({ key: 'c', included: ['a'], conditions: [] })).toEqual([]);
  });
});
