import { describe, expect, it } from 'vitest';
import { RulesetSnapshot, clientPatch, publicPatch } from './snapshot.js';

const base = new RulesetSnapshot(
  {
    environment: 'production',
    revision: 7,
    flags: { open: { key: 'open', enabled: true }, secret: { key: 'secret', enabled: true } },
    cohorts: { beta: { key: 'beta', included: ['u1', 'u2'], excluded: ['u3'], conditions: [] } },
  },
  new Set(['open']),
);

describe('RulesetSnapshot', () => {
  it('applies only the next revision', () => {
    expect(base.apply({ revision: 9, flags: {} })).toBeUndefined();
    const next = base.apply({ revision: 8, flags: { open: null, fresh: { key: 'fresh', enabled: false } }, cohorts: { beta: null } })!;
    expect(next.revision).toBe(8);
    expect(Object.keys(next.ruleset.flags).sort()).toEqual(['fresh', 'secret']);
    expect(next.ruleset.cohorts).toEqual({});
    expect(base.ruleset.flags.open).toBeDefined();
  });

  it('tracks client visibility through patches', () => {
    const next = base.apply({ revision: 8, flags: { secret: { key: 'secret', enabled: true } }, clientVisible: { secret: true, open: false } })!;
    expect([...next.clientVisible]).toEqual(['secret']);
  });

  it('gives a client only visible flags and only its own key in cohort lists', () => {
    expect(base.forClient('u1')).toEqual({
      environment: 'production',
      revision: 7,
      flags: { open: { key: 'open', enabled: true } },
      cohorts: { beta: { key: 'beta', included: ['u1'], excluded: [], conditions: [] } },
    });
    expect(base.forClient('u3').cohorts.beta).toEqual({ key: 'beta', included: [], excluded: ['u3'], conditions: [] });
    expect(JSON.stringify(base.forClient(undefined))).not.toMatch(/u1|u2|u3|secret/);
  });

  it('filters patches for clients and strips bookkeeping for servers', () => {
    const patch = {
      revision: 8,
      flags: { secret: { key: 'secret', enabled: false }, open: { key: 'open', enabled: false } },
      cohorts: { beta: { key: 'beta', included: ['u1', 'u2'] } },
      clientVisible: { open: true },
    };
    const next = base.apply(patch)!;
    expect(clientPatch(patch, next, 'u2')).toEqual({
      revision: 8,
      flags: { open: { key: 'open', enabled: false } },
      cohorts: { beta: { key: 'beta', included: ['u2'], excluded: [], conditions: [] } },
    });
    expect(publicPatch(patch)).not.toHaveProperty('clientVisible');
  });
});
