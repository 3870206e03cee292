/**
 * The rollout plan state machine (docs/rollouts.md), free of I/O so it can be tested alone:
 * which action may move a plan from which state, what follows a step's hold, and how often the
 * guard may look.
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

/** Looks the guard's false-alarm rate is split over (docs/rollouts.md: threshold ≈ 4.26 at 1 %). */
export const MAX_LOOKS = 1000;

export interface PlanStep {
  percentage: number;
  holdSeconds: number;
}

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

/** How often the guard may look: every scheduler tick, but no more often than spreads the
 *  planned holds over `MAX_LOOKS` looks, so the per-look threshold keeps its false-alarm rate. */
export function lookIntervalMs(steps: readonly PlanStep[], tickMs: number, maxLooks = MAX_LOOKS): number {
  const plannedMs = steps.reduce((sum, step) => sum + step.holdSeconds * 1000, 0);
  return Math.max(tickMs, Math.ceil(plannedMs / maxLooks));
}
