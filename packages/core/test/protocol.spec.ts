/**
 * The protocol module against its vectors (vectors/protocol.json, one event per step) and the
 * rules that only show in batches (the events of one received chunk, applied together).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { evaluate, type Ruleset } from '../src/index.js';
import {
  applyMessages,
  applyPatch,
  diffRulesets,
  initialState,
  parseRevision,
  patchRuleset,
  resumeRevision,
  sameJson,
  toRuleset,
  type Applied,
  type ProtocolState,
  type RulesetPatch,
  type StreamMessage,
} from '../src/protocol/index.js';

interface Send {
  event?: string;
  id?: string;
  data?: unknown;
  text?: string;
}
interface Expect {
  revision: number | null;
  flags: Record<string, boolean | null>;
  events: [string, unknown][];
  reload: boolean;
}
interface Vector {
  name: string;
  steps: { send: Send; expect: Expect }[];
}

const file = JSON.parse(readFileSync(new URL('../vectors/protocol.json', import.meta.url), 'utf8')) as {
  version: number;
  context: { key: string };
  vectors: Vector[];
};

const message = (send: Send): StreamMessage => ({ event: send.event, id: send.id, data: send.text ?? JSON.stringify(send.data) });

/** What a step shows, in the vectors' terms, from the state before and the outcome. */
function observe(before: ProtocolState, applied: Applied, flags: string[]): Expect {
  const { ruleset } = applied.state;
  const events: [string, unknown][] = [...applied.events];
  // The SDKs say `ready` when the first ruleset is in place (here: nothing was held before).
  if (before.ruleset === undefined && ruleset !== undefined) events.push(['ready', { revision: ruleset.revision }]);
  for (const _problem of applied.problems) events.push(['error', { code: 'PROTOCOL' }]);
  const states: Record<string, boolean | null> = {};
  for (const flag of flags) {
    const result = ruleset ? evaluate(ruleset, flag, file.context) : undefined;
    states[flag] = result === undefined || result.reason === 'FLAG_NOT_FOUND' ? null : result.enabled;
  }
  return { revision: ruleset?.revision ?? null, flags: states, events, reload: applied.needsReload };
}

describe('protocol vectors (vectors/protocol.json)', () => {
  it('has vectors, each step with one event', () => {
    expect(file.vectors.length).toBeGreaterThanOrEqual(25);
    for (const vector of file.vectors) for (const { send } of vector.steps) expect(send.data === undefined).toBe(send.text !== undefined);
  });

  it.each(file.vectors.map((vector) => [vector.name, vector] as const))('%s', (_name, vector) => {
    let state = initialState();
    vector.steps.forEach(({ send, expect: expected }, i) => {
      const applied = applyMessages(state, [message(send)]);
      expect(observe(state, applied, Object.keys(expected.flags)), `step ${i + 1}`).toEqual(expected);
      // The reload decision is also in the state: it resumes without a revision until a whole ruleset arrives.
      if (expected.reload) expect(resumeRevision(applied.state)).toBeUndefined();
      state = applied.state;
    });
  });
});

const flag = (key: string, enabled = true) => ({ key, enabled });
const base: Ruleset = {
  environment: 'prod',
  revision: 10,
  flags: { a: flag('a'), b: flag('b') },
  cohorts: { beta: { key: 'beta', included: ['u1'] } },
};
const held = initialState(base, true);
const event = (type: string, id: number | string, data: unknown): StreamMessage => ({ event: type, id: String(id), data: JSON.stringify(data) });

describe('batches: the events of one received chunk', () => {
  it('applies them all and lists every kill first, then one change per revision', () => {
    const applied = applyMessages(held, [
      event('change', 11, { flags: { c: flag('c') } }),
      event('kill', 12, { flags: { b: flag('b', false) } }),
      event('change', 13, { flags: { a: flag('a', false) } }),
    ]);
    expect(applied.state.revision).toBe(13);
    expect(applied.events).toEqual([
      ['kill', { revision: 12, flags: ['b'] }],
      ['kill', { revision: 13, flags: ['a'] }],
      ['change', { revision: 11, flags: ['c'], cohorts: [] }],
      ['change', { revision: 12, flags: ['b'], cohorts: [] }],
      ['change', { revision: 13, flags: ['a'], cohorts: [] }],
    ]);
  });

  it('applies nothing after a missed revision but a whole ruleset, which makes the reload unnecessary', () => {
    const gapped = applyMessages(held, [event('change', 11, { flags: { c: flag('c') } }), event('change', 13, {}), event('change', 12, {}), event('kill', 14, {})]);
    expect(gapped).toMatchObject({ state: { revision: 11, reload: true }, needsReload: true });
    expect(resumeRevision(gapped.state)).toBeUndefined();

    const reloaded = applyMessages(held, [event('change', 12, {}), event('ruleset', 12, { ...base, flags: {} })]);
    expect(reloaded).toMatchObject({ state: { revision: 12, reload: false }, needsReload: false });
    expect(reloaded.events).toEqual([['change', { revision: 12, flags: ['a', 'b'], cohorts: [] }]]);
  });

  it('diffs each whole ruleset against the step before it', () => {
    const applied = applyMessages(held, [
      event('ruleset', 11, { ...base, flags: { a: flag('a', false), b: flag('b') } }),
      event('change', 12, { flags: { b: null } }),
      event('ruleset', 13, { ...base, flags: { b: flag('b') } }),
    ]);
    expect(applied.events).toEqual([
      ['kill', { revision: 11, flags: ['a'] }],
      ['change', { revision: 11, flags: ['a'], cohorts: [] }],
      ['change', { revision: 12, flags: ['b'], cohorts: [] }],
      ['change', { revision: 13, flags: ['a', 'b'], cohorts: [] }],
    ]);
  });

  it('reports nothing when no ruleset was held (the first one is `ready`), and takes any revision then', () => {
    const bootstrap = initialState({ ...base, revision: 50 });
    expect(bootstrap.revision).toBeUndefined();
    const applied = applyMessages(initialState(), [event('ruleset', 3, base), event('change', 4, { flags: { a: null } })]);
    expect(applied).toMatchObject({ state: { revision: 4 }, events: [] });
    // A bootstrap is held but not trusted: the server's ruleset replaces it whatever its revision, and what differs is told.
    expect(applyMessages(bootstrap, [event('ruleset', 3, { ...base, flags: { a: flag('a', false) } })]).events).toEqual([
      ['kill', { revision: 3, flags: ['a'] }],
      ['change', { revision: 3, flags: ['a', 'b'], cohorts: [] }],
    ]);
  });

  it('takes a lower ruleset only when marked as a reset, and the revision from the id over the data', () => {
    expect(applyMessages(held, [event('ruleset', 4, { ...base, revision: 77, reset: true })]).state).toMatchObject({ revision: 4, ruleset: { revision: 4 } });
    expect(applyMessages(held, [event('ruleset', 4, { ...base, revision: 4 })]).state).toEqual(held);
  });

  it('leaves the state passed in as it was, and shares what a patch does not touch', () => {
    const snapshot = structuredClone(held);
    const applied = applyMessages(held, [event('kill', 11, { flags: { a: flag('a', false) } })]);
    expect(held).toEqual(snapshot);
    expect(applied.state.ruleset!.cohorts).toBe(base.cohorts);
    expect(applied.state.ruleset!.flags['b']).toBe(base.flags['b']);
  });

  it('ignores what it does not know and reports what breaks the protocol', () => {
    const applied = applyMessages(held, [{ data: '{}' }, { event: 'ping', data: '{}' }, event('ruleset', 11, { flags: 3 }), { event: 'ruleset', id: '12', data: 'nope' }]);
    expect(applied).toMatchObject({ state: held, events: [], needsReload: false });
    expect(applied.problems).toEqual(['the "ruleset" event 11 is not a ruleset', 'the "ruleset" event 12 is not JSON']);
    expect(applyMessages(held, [{ event: 'change', data: '{"flags":{}}' }]).problems).toEqual(['the "change" event (no id) is not a patch with a revision']);
  });
});

describe('a polled ruleset: a ruleset event without an id', () => {
  const polled = (state: ProtocolState, body: unknown) => applyMessages(state, [{ event: 'ruleset', data: JSON.stringify(body) }]);

  it('follows the rules of a ruleset event', () => {
    expect(polled(held, { ...base, revision: 11 }).state.revision).toBe(11);
    expect(polled(held, { ...base, revision: 9 }).state).toEqual(held);
    expect(polled(held, { ...base, revision: 9, reset: true }).state.revision).toBe(9);
    expect(polled(held, { revision: 11 }).problems).toEqual(['the "ruleset" event (no id) is not a ruleset']);
    expect(applyMessages(held, [{ event: 'ruleset', data: '<html>' }]).problems).toEqual(['the "ruleset" event (no id) is not JSON']);
    // It answers a pending reload too.
    expect(polled({ ...held, reload: true }, base).state).toEqual(held);
  });
});

describe('patches', () => {
  it('applies a patch into a new ruleset, leaving the old one untouched', () => {
    const next = applyPatch(base, { flags: { a: flag('a', false), b: null, c: flag('c') }, cohorts: { beta: null } }, 11);
    expect(next).toEqual({ environment: 'prod', revision: 11, flags: { a: flag('a', false), c: flag('c') }, cohorts: {} });
    expect(base.flags['b']).toBeDefined();
    expect(base.revision).toBe(10);
  });

  it('reports changed flags and cohorts, and flags switched off', () => {
    const next = applyPatch(base, { flags: { a: flag('a', false), c: flag('c', false) }, cohorts: { beta: { key: 'beta', included: [] } } }, 11);
    expect(diffRulesets(base, next)).toEqual({ flags: ['a', 'c'], cohorts: ['beta'], killed: ['a'] });
    expect(diffRulesets(base, structuredClone(base))).toEqual({ flags: [], cohorts: [], killed: [] });
    expect(diffRulesets(base, { ...base, flags: { b: { enabled: true, key: 'b' }, a: { enabled: true, key: 'a' } } })).toEqual({ flags: [], cohorts: [], killed: [] });
  });

  it.each<[string, RulesetPatch]>([
    ['a kill', { flags: { a: flag('a', false) } }],
    ['a new flag, switched off', { flags: { c: flag('c', false) } }],
    ['a removal and a removal of nothing', { flags: { b: null, ghost: null } }],
    ['the same flag again', { flags: { a: flag('a') } }],
    ['the same flag with its members in another order', { flags: { a: { enabled: true, key: 'a' } } }],
    ['a change inside a nested list', { cohorts: { beta: { key: 'beta', included: ['u1', 'u2'] } } }],
    ['the same cohort again', { cohorts: { beta: { key: 'beta', included: ['u1'] } } }],
    ['flags and cohorts at once, out of order', { flags: { z: flag('z'), a: flag('a', false), b: null }, cohorts: { beta: null, alpha: { key: 'alpha' } } }],
    ['nothing', {}],
    ['empty maps', { flags: {}, cohorts: {} }],
  ])('tells from the patch alone what %s changed, as a whole-ruleset diff would', (_name, patch) => {
    const { ruleset, diff } = patchRuleset(base, patch, 11);
    expect(diff).toEqual(diffRulesets(base, ruleset));
  });

  it.each([
    [{ a: 1, b: [1, { c: null }] }, { b: [1, { c: null }], a: 1 }, true],
    [{ a: 1, b: undefined }, { a: 1 }, true],
    [{ a: 1 }, { a: 1, b: 2 }, false],
    [{ a: 1, b: 2 }, { a: 1, c: 2 }, false],
    [[1, 2], [2, 1], false],
    [[1, 2], [1, 2, 3], false],
    [[1], { 0: 1 }, false],
    ['1', 1, false],
    [null, {}, false],
    [{ constructor: 1 }, {}, false],
  ])('sameJson(%j, %j) is %s', (a, b, expected) => {
    expect(sameJson(a, b)).toBe(expected);
    expect(sameJson(b, a)).toBe(expected);
  });
});

describe('parsing', () => {
  it.each([
    ['12', 12],
    [' 7 ', 7],
    ['0', 0],
    ['', undefined],
    [undefined, undefined],
    ['-1', undefined],
    ['1.5', undefined],
    ['1e3', undefined],
    ['99999999999999999999', undefined],
  ])('parseRevision(%j) is %s', (id, revision) => {
    expect(parseRevision(id)).toBe(revision);
  });

  it('takes the revision from the event id, fills missing parts and drops the reset mark', () => {
    expect(toRuleset({ flags: {}, revision: 3, reset: true }, 7)).toEqual({ flags: {}, revision: 7, environment: '', cohorts: {} });
    expect(toRuleset({ flags: {} })).toBeUndefined();
    expect(toRuleset({ flags: {}, revision: -1 })).toBeUndefined();
    expect(toRuleset({ flags: {}, cohorts: [] }, 1)).toBeUndefined();
    expect(toRuleset({ flags: [] }, 1)).toBeUndefined();
    expect(toRuleset([], 1)).toBeUndefined();
  });
});
