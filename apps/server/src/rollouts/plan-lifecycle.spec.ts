import { describe, expect, it } from 'vitest';
import {
  actionsFrom, afterHold, approved, awaitingApproval, finished, firstNarrowingStep, gate, held, isActive, isGuarded, maxHoldMs, PLAN_ACTIONS, PLAN_STATES,
  type PlanAction, type PlanState, PlanTransitionError, paused, resumed, started, stepped, transition,
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

  it.each(PLAN_STATES)('actionsFrom(%s) is the table\'s row', (state) => {
    expect(actionsFrom(state)).toEqual(PLAN_ACTIONS.filter((action) => table[state][action] !== undefined));
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

describe('field changes of each transition', () => {
  const now = new Date('2026-01-01T00:00:00.000Z');
  const at = (ms: number) => new Date(now.getTime() + ms);

  it('start: running from now, a guarded plan looks at once', () => {
    expect(started(now, true)).toEqual({ state: 'running', started_at: now, reason: null, next_check_at: now });
    expect(started(now, false).next_check_at).toBeNull();
  });

  it('a step is live from now and holds for its seconds', () => {
    const steps = [{ percentage: 1, holdSeconds: 60 }, { percentage: 50, holdSeconds: 0.25 }];
    expect(stepped(steps, 0, now)).toEqual({ state: 'running', step_index: 0, step_started_at: now, next_step_at: at(60_000), evidence_deadline_at: at(240_000) });
    expect(stepped(steps, 1, now).next_step_at).toEqual(at(250));
    expect(stepped(steps, 0, now, 90).evidence_deadline_at).toEqual(at(90_000));
  });

  it('pause keeps the rest of the hold, and resume counts it again from its own now', () => {
    const pausedChanges = paused({ next_step_at: at(42_000) }, now, 'lunch');
    expect(pausedChanges).toEqual({ state: 'paused', paused_remaining_ms: '42000', next_step_at: null, reason: 'lunch' });
    const later = at(3_600_000);
    const plan = { step_index: 0, steps: [{ percentage: 1, holdSeconds: 60 }], maxHoldSeconds: null };
    expect(resumed({ ...plan, paused_remaining_ms: pausedChanges.paused_remaining_ms! }, later, true, null)).toEqual({
      state: 'running',
      next_step_at: new Date(later.getTime() + 42_000),
      paused_remaining_ms: null,
      next_check_at: later,
      // The rest of the hold, then the step's whole wait for evidence (4 × 60 s − 60 s) again.
      evidence_deadline_at: new Date(later.getTime() + 42_000 + 180_000),
      reason: null,
    });
    expect(resumed({ ...plan, paused_remaining_ms: '0' }, now, false, 'go').next_check_at).toBeNull();
  });

  it('pause after the hold is over keeps nothing, never a negative rest', () => {
    expect(paused({ next_step_at: at(-5_000) }, now, null).paused_remaining_ms).toBe('0');
    expect(paused({ next_step_at: null }, now, null).paused_remaining_ms).toBe('0');
  });

  it('the state each action leads to is the one `transition` names', () => {
    const plan = { next_step_at: at(1000), paused_remaining_ms: '1000', step_index: 0, steps: [{ percentage: 5, holdSeconds: 1 }], maxHoldSeconds: null };
    expect(started(now, true).state).toBe(transition('pending', 'start'));
    expect(paused(plan, now, null).state).toBe(transition('running', 'pause'));
    expect(resumed(plan, now, true, null).state).toBe(transition('paused', 'resume'));
    expect(stepped([{ percentage: 5, holdSeconds: 1 }], 0, now).state).toBe(transition('awaiting-approval', 'approve'));
    expect(finished('cancelled', now, null).state).toBe(transition('running', 'cancel'));
    expect(finished('rolled-back', now, 'breach').state).toBe(transition('paused', 'rollback'));
  });

  it('approve changes only the reason; awaiting approval stops the step clock', () => {
    expect(approved('looks good')).toEqual({ reason: 'looks good' });
    expect(awaitingApproval()).toEqual({ state: 'awaiting-approval', next_step_at: null });
  });

  it('a held plan stops looking; a running one pauses with nothing left of its hold', () => {
    expect(held('running', 'flag is off')).toEqual({ next_check_at: null, reason: 'flag is off', state: 'paused', paused_remaining_ms: '0', next_step_at: null });
    expect(held('awaiting-approval', 'step failed')).toEqual({ next_check_at: null, reason: 'step failed' });
  });

  it('a finished plan has nothing due', () => {
    expect(finished('completed', now, null)).toEqual({
      state: 'completed', finished_at: now, next_step_at: null, next_check_at: null, paused_remaining_ms: null, reason: null,
    });
  });
});

describe('evidence before widening', () => {
  const now = new Date('2026-01-01T00:00:00.000Z');
  const at = (ms: number) => new Date(now.getTime() + ms);

  it.each([
    [{ percentage: 1, holdSeconds: 60 }, null, 240_000],
    [{ percentage: 1, holdSeconds: 60 }, 100, 100_000],
    [{ percentage: 1, holdSeconds: 60, maxHoldSeconds: 70 }, 100, 70_000],
    [{ percentage: 1, holdSeconds: 60 }, 30, 60_000], // never shorter than the hold
    [{ percentage: 100, holdSeconds: 0 }, null, 0],
  ])('longest hold of %o with the plan\'s %s: %i ms', (step, planMax, expected) => {
    expect(maxHoldMs(step, planMax)).toBe(expected);
  });

  it.each([
    ['judged: widen', { judged: true, policy: 'pause', deadline: at(1000), nextCheckAt: at(500) }, { next: 'widen' }],
    ['continue widens blind', { judged: false, policy: 'continue', deadline: at(-1), nextCheckAt: null }, { next: 'widen' }],
    ['not judged: wait until the next look', { judged: false, policy: 'pause', deadline: at(1000), nextCheckAt: at(500) }, { next: 'extend', until: at(500) }],
    ['but never past the deadline', { judged: false, policy: 'pause', deadline: at(1000), nextCheckAt: at(5000) }, { next: 'extend', until: at(1000) }],
    ['no look planned: the deadline', { judged: false, policy: 'pause', deadline: at(1000), nextCheckAt: null }, { next: 'extend', until: at(1000) }],
    ['the deadline is here: pause', { judged: false, policy: 'pause', deadline: now, nextCheckAt: at(500) }, { next: 'pause' }],
    ['no deadline: pause', { judged: false, policy: 'pause', deadline: null, nextCheckAt: at(500) }, { next: 'pause' }],
  ] as const)('%s', (_name, input, expected) => {
    expect(gate({ ...input, now })).toEqual(expected);
  });
});
