import { describe, expect, it } from 'vitest';
import { RulesetSnapshot, clientPatch, publicPatch, type RulesetPatch } from './snapshot.js';

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

  it('sends client keys each matches pattern parsed (the browser SDK has no parser), server keys the flags as stored', () => {
    const email = { attribute: 'email', operator: 'matches' as const, values: ['^[a-z]+@example\\.com$'] };
    const parsed = [2, 0, [4, [0, 97, 122], 1, -1], '@example.com', 1];
    const flag = { key: 'open', enabled: true, rules: [{ id: 'r', conditions: [email, { attribute: 'country', operator: 'in' as const, values: ['NL'] }] }] };
    const snapshot = new RulesetSnapshot(
      { environment: 'e', revision: 1, flags: { open: flag }, cohorts: { staff: { key: 'staff', conditions: [email, { ...email, values: ['(a'] }] } } },
      new Set(['open']),
    );
    const client = snapshot.forClient('u1');
    expect(client.flags.open!.rules![0]!.conditions).toEqual([{ ...email, parsed }, flag.rules[0]!.conditions[1]]);
    // A refused pattern goes without a parsed form: false in the browser, as everywhere.
    expect(client.cohorts.staff!.conditions).toEqual([{ ...email, parsed }, { ...email, values: ['(a'] }]);
    expect(snapshot.forClient('u2').flags.open).toBe(client.flags.open);
    expect(snapshot.toJSON()).not.toContain('parsed');
    expect(clientPatch({ revision: 2, flags: { open: flag } }, snapshot, 'u1')!.flags!.open!.rules![0]!.conditions![0]).toEqual({ ...email, parsed });
    expect(publicPatch({ revision: 2, flags: { open: flag } }).flags!.open).toBe(flag);
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

  it("cuts one change for each of many users: each gets its own key from the lists that name it, nobody else's", () => {
    const keys = Array.from({ length: 5000 }, (_, i) => `u${i}`);
    const delta: RulesetPatch = { revision: 8, members: { big: { include: keys, remove: ['gone'] } } };
    const whole: RulesetPatch = { revision: 8, cohorts: { beta: { key: 'beta', included: keys, excluded: ['u3'] } } };
    for (const user of ['u0', 'u4999', 'gone', 'u3', 'stranger', undefined]) {
      const own = (list: string[] | undefined) => (user !== undefined && list?.includes(user) ? [user] : []);
      expect(clientPatch(delta, base, user)).toEqual({
        revision: 8,
        members: { big: user === undefined ? {} : { ...(own(keys).length ? { include: own(keys) } : {}), ...(user === 'gone' ? { remove: ['gone'] } : {}) } },
      });
      expect(clientPatch(whole, base, user)!.cohorts!.beta).toEqual({ key: 'beta', included: own(keys), excluded: own(['u3']), conditions: [] });
    }
  });

  it('never names a hidden flag to clients: created, changed or archived, it is not in their patch', () => {
    const patches: RulesetPatch[] = [
      { revision: 8, flags: { hush: { key: 'hush', enabled: true } }, clientVisible: { hush: false } },
      { revision: 8, flags: { secret: { key: 'secret', enabled: false } }, clientVisible: { secret: false } },
      { revision: 8, flags: { secret: null } },
    ];
    for (const patch of patches) {
      expect(clientPatch(patch, base.apply(patch)!, 'u1')).toEqual({ revision: 8, flags: {} });
    }
  });

  it('removes a flag from clients when it is hidden or archived; a replay that cannot tell asks for the whole ruleset', () => {
    const hide = { revision: 8, flags: { open: { key: 'open', enabled: true } }, clientVisible: { open: false } };
    const hidden = base.apply(hide)!;
    expect(clientPatch(hide, hidden, 'u1')).toEqual({ revision: 8, flags: { open: null } });
    const archive = { revision: 8, flags: { open: null } };
    expect(clientPatch(archive, base.apply(archive)!, 'u1')).toEqual({ revision: 8, flags: { open: null } });
    // Replayed against a later snapshot, the visibility before revision 8 is unknown.
    const later = hidden.apply({ revision: 9, cohorts: {} })!;
    expect(clientPatch(hide, later, 'u1')).toBeUndefined();
    expect(clientPatch({ revision: 8, flags: { secret: { key: 'secret', enabled: false } }, clientVisible: { secret: false } }, later, 'u1')).toBeUndefined();
  });
});
