import { evaluate, type Flag, type Ruleset } from '@aviary/core';
import { describe, expect, it } from 'vitest';
import { toContext } from './ofrep-context.js';
import { toOfrep } from './ofrep-result.js';

const flag = (f: Omit<Flag, 'key'>): Flag => ({ key: 'f', ...f });
const answer = (f: Flag, context: Record<string, unknown> = { key: 'user-1' }) => {
  const ruleset: Ruleset = { environment: 'e', revision: 7, flags: { f }, cohorts: {} };
  return toOfrep('f', f, evaluate(ruleset, 'f', context as never), 7);
};
const colours = [{ key: 'red', value: 'red', weight: 1 }, { key: 'blue', value: 'blue', weight: 1 }];

describe('toOfrep', () => {
  it.each([
    ['a boolean flag on for everyone', flag({ enabled: true }), { value: true, reason: 'STATIC' }],
    ['a boolean flag off', flag({ enabled: false }), { value: false, reason: 'DISABLED' }],
    ['a boolean flag whose rule does not match', flag({ enabled: true, rules: [{ id: 'r', conditions: [{ attribute: 'x', operator: 'exists' }] }] }), { value: false, reason: 'TARGETING_MATCH' }],
    ['a fixed variant by a rule', flag({ enabled: true, variants: colours, rules: [{ id: 'r', variant: 'blue' }] }), { value: 'blue', variant: 'blue', reason: 'TARGETING_MATCH' }],
    ['a variant picked by a weighted split', flag({ enabled: true, variants: colours }), { reason: 'SPLIT' }],
    ['one weighted arm is no split', flag({ enabled: true, variants: [{ key: 'only', value: 3, weight: 1 }] }), { value: 3, variant: 'only', reason: 'STATIC' }],
    ['a variant without a value answers its key', flag({ enabled: true, variants: [{ key: 'only', weight: 1 }] }), { value: 'only', variant: 'only' }],
  ])('%s', (_what, f, expected) => {
    const { status, body } = answer(f);
    expect(status).toBe(200);
    expect(body).toMatchObject({ key: 'f', ...expected, metadata: { revision: 7 } });
  });

  it('an off flag with variants answers in code-default form: no value, no variant', () => {
    const { status, body } = answer(flag({ enabled: false, variants: colours }));
    expect(status).toBe(200);
    expect(body).toEqual({ key: 'f', reason: 'DISABLED', metadata: { revision: 7, aviaryReason: 'DISABLED' } });
  });

  it('an array value answers in code-default form', () => {
    const { body } = answer(flag({ enabled: true, variants: [{ key: 'list', value: [1, 2], weight: 1 }] }));
    expect(body).not.toHaveProperty('value');
    expect(body).toMatchObject({ variant: 'list' });
  });

  it('an unknown flag is a 404 FLAG_NOT_FOUND; an evaluation error a 400 with its OFREP code', () => {
    const ruleset: Ruleset = { environment: 'e', revision: 1, flags: {}, cohorts: {} };
    expect(toOfrep('x', undefined, evaluate(ruleset, 'x', {}), 1)).toMatchObject({ status: 404, body: { key: 'x', errorCode: 'FLAG_NOT_FOUND' } });
    const f = flag({ enabled: true });
    expect(toOfrep('f', f, { enabled: false, reason: 'ERROR', errorCode: 'GENERAL', errorMessage: 'cycle' }, 1)).toMatchObject({ status: 400, body: { key: 'f', errorCode: 'GENERAL', errorDetails: 'cycle' } });
    expect(toOfrep('f', f, { enabled: false, reason: 'ERROR', errorCode: 'INVALID_FLAG' }, 1)).toMatchObject({ status: 400, body: { errorCode: 'PARSE_ERROR' } });
  });
});

describe('toContext', () => {
  it('targetingKey becomes key; primitives pass, nested values are dropped', () => {
    expect(toContext({ context: { targetingKey: 'u', key: 'ignored', country: 'NL', age: 3, beta: true, none: null, nested: { a: 1 }, list: [1] } })).toEqual({
      context: { key: 'u', country: 'NL', age: 3, beta: true, none: null },
    });
  });

  it.each([
    [null, 'PARSE_ERROR'],
    ['x', 'PARSE_ERROR'],
    [{}, 'INVALID_CONTEXT'],
    [{ context: 'x' }, 'INVALID_CONTEXT'],
    [{ context: {} }, 'TARGETING_KEY_MISSING'],
    [{ context: { targetingKey: 1 } }, 'INVALID_CONTEXT'],
  ])('%j is refused with %s', (body, errorCode) => {
    expect(toContext(body)).toMatchObject({ problem: { errorCode } });
  });
});
