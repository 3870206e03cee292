/**
 * The rollout plan state machine (docs/rollouts.md), free of I/O so it can be tested alone:
 * which action may move a plan from which state, the fields each transition changes, what follows
 * a step's hold, and whether a guarded step may widen.
 */

import { capitalized, withArticle } from '../common/english.js';

export const PLAN_STATES = ['pending', 'running', 'paused', 'awaiting-approval', 'completed', 'rolled-back', 'cancelled'] as const;
export type PlanState = (typeof PLAN_STATES)[number];

/** At most one plan per flag and environment is in one of these. */
export const ACTIVE_STATES = ['pending', 'running', 'paused', 'awaiting-approval'] as const satisfies readonly PlanState[];
/** The canary serves traffic in these, so the guard keeps watching (also while paused or waiting). */
export const GUARDED_STATES = ['running', 'paused', 'awaiting-approval'] as const satisfies readonly PlanState[];

export const PLAN_ACTIONS = ['start', 'pause', 'resume', 'approve', 'cancel', 'rollback'] as const;
export type PlanAction = (typeof PLAN_ACTIONS)[number];

const TRANSITIONS: Record<PlanAction, { from: readonly PlanState[]; to: PlanState }> = {
  start: { from: ['pending'], to: 'running' },
  pause: { from: ['running'], to: 'paused' },
  resume: { from: ['paused'], to: 'running' },
  approve: { from: ['awaiting-approval'], to: 'running' },
  cancel: { from: ACTIVE_STATES, to: 'cancelled' },
  rollback: { from: ACTIVE_STATES, to: 'rolled-back' },
};

export interface PlanStep {
  percentage: number;
  holdSeconds: number;
  /** How long a guarded step may hold, waiting for the guard's verdict, before the plan pauses. */
  maxHoldSeconds?: number;
}

/** What a guarded step does when its hold ends before the guard could judge it. */
export const INSUFFICIENT_DATA_POLICIES = ['pause', 'continue'] as const;
export type InsufficientDataPolicy = (typeof INSUFFICIENT_DATA_POLICIES)[number];

/** A step's longest hold when neither the step nor the plan sets one: this many times the hold. */
export const DEFAULT_MAX_HOLD_FACTOR = 4;

/** The columns of a `rollout_plans` row that transitions move. */
export interface PlanFields {
  state: PlanState;
  step_index: number | null;
  started_at: Date | null;
  step_started_at: Date | null;
  next_step_at: Date | null;
  /** bigint: pg answers a string. */
  paused_remaining_ms: string | null;
  next_check_at: Date | null;
  reason: string | null;
  finished_at: Date | null;
  /** Past this, a guarded step still without the guard's verdict pauses the plan (`gate`). */
  evidence_deadline_at: Date | null;
}

/** What one transition changes; the service applies it to the row and saves it. */
export type PlanChanges = Partial<PlanFields>;

export type FinalState = 'completed' | 'cancelled' | 'rolled-back';

export class PlanTransitionError extends Error {
  constructor(
    readonly state: PlanState,
    readonly action: PlanAction,
  ) {
    const allowed = TRANSITIONS[action].from.join(', ');
    super(`${capitalized(withArticle(state))} plan cannot ${action}: only a plan that is ${allowed} can`);
    this.name = 'PlanTransitionError';
  }
}

/** The state an action leads to; throws `PlanTransitionError` when it does not apply. */
export function transition(state: PlanState, action: PlanAction): PlanState {
  const rule = TRANSITIONS[action];
  if (!rule.from.includes(state)) throw new PlanTransitionError(state, action);
  return rule.to;
}

/** The actions a plan in this state accepts, in PLAN_ACTIONS order (the dashboard shows these). */
export function actionsFrom(state: PlanState): PlanAction[] {
  return PLAN_ACTIONS.filter((action) => TRANSITIONS[action].from.includes(state));
}

export function isActive(state: PlanState): boolean {
  return (ACTIVE_STATES as readonly PlanState[]).includes(state);
}

export function isGuarded(state: PlanState): boolean {
  return (GUARDED_STATES as readonly PlanState[]).includes(state);
}

export type HoldOutcome = { next: 'complete' } | { next: 'await-approval' } | { next: 'step'; stepIndex: number };

/** What follows when the current step's hold is over. */
export function afterHold(plan: { stepIndex: number; steps: readonly PlanStep[]; requireApproval: boolean }): HoldOutcome {
  if (plan.stepIndex >= plan.steps.length - 1) return { next: 'complete' };
  if (plan.requireApproval) return { next: 'await-approval' };
  return { next: 'step', stepIndex: plan.stepIndex + 1 };
}

/** Steps must only widen the rollout: the first step that narrows it, or undefined. */
export function firstNarrowingStep(steps: readonly PlanStep[]): number | undefined {
  const index = steps.findIndex((step, i) => i > 0 && step.percentage < steps[i - 1]!.percentage);
  return index < 0 ? undefined : index;
}

/** `start`: running from `now`, a guarded plan's first look at once; step 0 follows (`stepped`). */
export function started(now: Date, guarded: boolean): PlanChanges {
  return { state: 'running', started_at: now, reason: null, next_check_at: guarded ? now : null };
}

/** `pause`: the rest of the current hold is kept for `resumed`. */
export function paused(plan: Pick<PlanFields, 'next_step_at'>, now: Date, reason: string | null): PlanChanges {
  const remaining = Math.max(0, (plan.next_step_at?.getTime() ?? now.getTime()) - now.getTime());
  return { state: 'paused', paused_remaining_ms: String(remaining), next_step_at: null, reason };
}

/** `resume`: the kept rest of the hold counts again from `now`; a guarded plan looks at once. The
 *  step's wait for evidence starts over after the rest of the hold, so a plan paused for
 *  `insufficient-data` gets as long again to gather it. */
export function resumed(
  plan: Pick<PlanFields, 'paused_remaining_ms' | 'step_index'> & { steps: readonly PlanStep[]; maxHoldSeconds: number | null },
  now: Date,
  guarded: boolean,
  reason: string | null,
): PlanChanges {
  const next = now.getTime() + Number(plan.paused_remaining_ms ?? 0);
  const step = plan.step_index === null ? undefined : plan.steps[plan.step_index];
  const extension = step ? maxHoldMs(step, plan.maxHoldSeconds) - holdMs(step) : 0;
  return {
    state: 'running',
    next_step_at: new Date(next),
    paused_remaining_ms: null,
    next_check_at: guarded ? now : null,
    evidence_deadline_at: new Date(next + extension),
    reason,
  };
}

/** `approve`: only the reason; the next step follows (`stepped`). */
export function approved(reason: string | null): PlanChanges {
  return { reason };
}

/** Step `index` is live from `now`; its hold, and its longest hold, count from then. */
export function stepped(steps: readonly PlanStep[], index: number, now: Date, planMaxHoldSeconds: number | null = null): PlanChanges {
  const step = steps[index]!;
  return {
    state: 'running',
    step_index: index,
    step_started_at: now,
    next_step_at: new Date(now.getTime() + holdMs(step)),
    evidence_deadline_at: new Date(now.getTime() + maxHoldMs(step, planMaxHoldSeconds)),
  };
}

const holdMs = (step: PlanStep) => Math.round(step.holdSeconds * 1000);

/** A step's longest hold: its own `maxHoldSeconds`, else the plan's, else 4 × its hold; never
 *  shorter than the hold. */
export function maxHoldMs(step: PlanStep, planMaxHoldSeconds: number | null): number {
  const seconds = step.maxHoldSeconds ?? planMaxHoldSeconds ?? DEFAULT_MAX_HOLD_FACTOR * step.holdSeconds;
  return Math.max(holdMs(step), Math.round(seconds * 1000));
}

/** Where a guarded step whose hold is over stands: the guard judged it (`widen`), it may wait for
 *  evidence until `until` (`extend`), or its longest hold is over without a verdict (`pause`). */
export type GateOutcome = { next: 'widen' } | { next: 'extend'; until: Date } | { next: 'pause' };

/**
 * Evidence before widening: a guarded step widens only once the guard judged it (`judged`: both
 * arms reached `minSamples` and no breach). Until then its hold extends, up to the evidence
 * deadline; the next look comes at `nextCheckAt`. `continue` keeps the old behaviour: widen when
 * the hold is over, judged or not.
 */
export function gate(input: {
  judged: boolean;
  policy: InsufficientDataPolicy;
  now: Date;
  deadline: Date | null;
  nextCheckAt: Date | null;
}): GateOutcome {
  if (input.judged || input.policy === 'continue') return { next: 'widen' };
  const deadline = input.deadline ?? input.now;
  if (input.now.getTime() >= deadline.getTime()) return { next: 'pause' };
  const nextLook = input.nextCheckAt ?? deadline;
  return { next: 'extend', until: nextLook.getTime() < deadline.getTime() ? nextLook : deadline };
}

/** The last hold ended with approval required: nothing is due until someone approves. */
export function awaitingApproval(): PlanChanges {
  return { state: 'awaiting-approval', next_step_at: null };
}

/** A plan that cannot go on by itself (the flag is off, a step failed): guard looks stop, and a
 *  running plan pauses with nothing left of its hold, so the next step fires as soon as someone
 *  resumes it. */
export function held(state: PlanState, reason: string): PlanChanges {
  const changes: PlanChanges = { next_check_at: null, reason };
  return state === 'running' ? { ...changes, state: 'paused', paused_remaining_ms: '0', next_step_at: null } : changes;
}

/** Completed, cancelled or rolled back: nothing is due any more. */
export function finished(state: FinalState, now: Date, reason: string | null): PlanChanges {
  return { state, finished_at: now, next_step_at: null, next_check_at: null, paused_remaining_ms: null, reason };
}
