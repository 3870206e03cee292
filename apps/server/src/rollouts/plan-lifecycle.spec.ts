import { describe, expect, it } from 'vitest';
import {
  afterHold, firstNarrowingStep, isActive, isGuarded, lookIntervalMs, PLAN_ACTIONS, PLAN_STATES, type PlanAction, type PlanState,
  PlanTransitionError, transition,
} from './plan-lifecycle.js';

describe('transition', () => {
  // Every (state, action) pair: the state it leads to, or undefined where it is refused.
  const table: Record<PlanState, Partial<Record<PlanAction, PlanState>>> = {
    pending: { start: 'running', cancel: 'cancelled', rollback: 'rolled-back' },
    running: { pause: 'paused', cancel: 'cancelled', rollback: 'rolled-back' },
    paused: { resume: 'running', cancel: 'cancelled', rollback: 'rolled-back' },
    'awaiting-approval': { approve: 'running', cancel: 'cancelled', rollback: 'rolled-back' },
    completed: {},
    'rolled-back': {},
    cancelled: {},
  };
  const cases = PLAN_STATES.flatMap((state) => PLAN_ACTIONS.map((action) => [state, action, table[state][action]] as const));

  it.each(cases)('%s + %s → %s', (state, action, expected) => {
    if (expected) expect(transition(state, action)).toBe(expected);
    else expect(() => transition(state, action)).toThrow(PlanTransitionError);
  });

  it('names what the action needs', () => {
    expect(() => transition('completed', 'pause')).toThrow('A completed plan cannot pause: only a plan that is running can');
    expect(() => transition('awaiting-approval', 'pause')).toThrow('An awaiting-approval plan cannot pause: only a plan that is running can');
  });

  it('active and guarded states', () => {
    expect(PLAN_STATES.filter(isActive)).toEqual(['pending', 'running', 'paused', 'awaiting-approval']);
    expect(PLAN_STATES.filter(isGuarded)).toEqual(['running', 'paused', 'awaiting-approval']);
  });
});

describe('afterHold', () => {
  const steps = [1, 5, 25].map((percentage) => ({ percentage, holdSeconds: 60 }));

  it.each([
    [0, false, { next: 'step', stepIndex: 1 }],
    [1, false, { next: 'step', stepIndex: 2 }],
    [2, false, { next: 'complete' }],
    [0, true, { next: 'await-approval' }],
    [2, true, { next: 'complete' }],
  ] as const)('step %i, requireApproval %s → %o', (stepIndex, requireApproval, outcome) => {
    expect(afterHold({ stepIndex, steps, requireApproval })).toEqual(outcome);
  });

  it('a one-step plan (blue-green) completes after its hold', () => {
    expect(afterHold({ stepIndex: 0, steps: [{ percentage: 100, holdSeconds: 0 }], requireApproval: true })).toEqual({ next: 'complete' });
  });
});

describe('firstNarrowingStep', () => {
  it.each([
    [[1, 5, 25, 100], undefined],
    [[0, 0, 100], undefined],
    [[10, 5], 1],
    [[1, 50, 25, 100], 2],
  ])('%o → %s', (percentages, expected) => {
    expect(firstNarrowingStep(percentages.map((percentage) => ({ percentage, holdSeconds: 1 })))).toBe(expected);
  });
});

describe('lookIntervalMs', () => {
  it('looks every tick while the planned holds allow at most 1,000 looks', () => {
    expect(lookIntervalMs([{ percentage: 1, holdSeconds: 60 }], 1000)).toBe(1000);
  });

  it('spaces looks out over long plans', () => {
    // 1 + 5 + 10 + 10 minutes = 1,560 s: at most 1,000 looks means one every 1.56 s.
    const steps = [60, 300, 600, 600, 0].map((holdSeconds, i) => ({ percentage: i * 25, holdSeconds }));
    expect(lookIntervalMs(steps, 1000)).toBe(1560);
    expect(lookIntervalMs([{ percentage: 1, holdSeconds: 7 * 24 * 3600 }], 1000)).toBe(604_800);
  });
});
