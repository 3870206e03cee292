import type { GuardLookView, GuardVerdictView, PlanHistoryView, PlanWarningView, RolloutPlanView } from './dto/rollout-plan.dto.js';
import { METRIC_SOURCES, type MetricSource } from '../metrics/metric-source.js';
import { actionsFrom, type InsufficientDataPolicy, isActive, type PlanFields, type PlanStep } from './plan-lifecycle.js';
import type { GuardSpec, MeanGuardSpec } from '@aviary/guard';

/** A guard as stored: the request's, with the false-alarm rate filled in. Without `sources` it
 *  counts every source (the default; the view shows it filled in). A ratio guard has `numerator`
 *  and `denominator`, a mean guard `metric`. */
export type StoredRatioGuard = Required<GuardSpec> & { sources?: MetricSource[] };
export type StoredMeanGuard = Required<MeanGuardSpec> & { sources?: MetricSource[] };
export type StoredGuard = StoredRatioGuard | StoredMeanGuard;

export function isMeanGuard(guard: StoredGuard): guard is StoredMeanGuard {
  return 'metric' in guard && typeof guard.metric === 'string';
}

/** How verdicts and reasons name a guard: `error/request`, `mean latency`. */
export function guardLabel(guard: StoredGuard): string {
  return isMeanGuard(guard) ? `mean ${guard.metric}` : `${guard.numerator}/${guard.denominator}`;
}

/** The event whose count is a guard's traffic: the denominator, or the metric's values. */
export function trafficEvent(guard: StoredGuard): string {
  return isMeanGuard(guard) ? guard.metric : guard.denominator;
}

/** A `rollout_plans` row with its environment's and flag's keys. */
export interface PlanRow extends PlanFields {
  id: string;
  environment_id: string;
  flag_id: string;
  environment: string;
  flag: string;
  rule_id: string;
  steps: PlanStep[];
  /** The `guard` column: a list since several guards per plan (empty: unguarded). */
  guards: StoredGuard[];
  require_approval: boolean;
  /** double precision: pg answers a number. */
  max_hold_seconds: number | null;
  on_insufficient_data: InsufficientDataPolicy;
  looks: number;
  verdict: GuardVerdictView | null;
  warnings: PlanWarningView[];
  created_by: string;
  created_at: Date;
  updated_at: Date;
}

export interface HistoryRow {
  at: Date;
  type: string;
  step_index: number | null;
  percentage: number | null;
  revision: string | null;
  actor: string;
  reason: string | null;
  verdict: GuardVerdictView | null;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function toPlanView(row: PlanRow, history?: HistoryRow[]): RolloutPlanView {
  return {
    id: row.id,
    environment: row.environment,
    flag: row.flag,
    ruleId: row.rule_id,
    state: row.state,
    actions: actionsFrom(row.state),
    stepIndex: row.step_index,
    steps: row.steps,
    guard: row.guards[0] ? { sources: [...METRIC_SOURCES], ...row.guards[0] } : null,
    guards: row.guards.map((guard) => ({ sources: [...METRIC_SOURCES], ...guard })),
    requireApproval: row.require_approval,
    maxHoldSeconds: row.max_hold_seconds,
    onInsufficientData: row.on_insufficient_data,
    evidenceDeadlineAt: row.guards.length > 0 && row.state === 'running' ? iso(row.evidence_deadline_at) : null,
    startedAt: iso(row.started_at),
    stepStartedAt: iso(row.step_started_at),
    nextStepAt: iso(row.next_step_at),
    verdict: row.verdict,
    warnings: row.warnings,
    outcome: isActive(row.state) ? null : row.state,
    reason: row.reason,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    finishedAt: iso(row.finished_at),
    ...(history ? { history: history.map(toHistoryView) } : {}),
  };
}

function toHistoryView(row: HistoryRow): PlanHistoryView {
  return {
    at: row.at.toISOString(),
    type: row.type,
    stepIndex: row.step_index,
    percentage: row.percentage,
    revision: row.revision === null ? null : Number(row.revision),
    actor: row.actor,
    reason: row.reason,
    verdict: row.verdict,
  };
}

/** The kill reason of a breach, naming the guard and the numbers: `guard error/request: exposed
 *  0.1500 (30/200) vs control 0.0100 (20/2000), z = 5.30, always-valid p = 2.0e-4 ≤ 0.01 (mSPRT)`,
 *  or for a mean guard `guard mean latency: exposed 275.31 (n = 200) vs control 183.02 (n = 2000), …`. */
export function breachReason(guard: StoredGuard, look: GuardLookView): string {
  const test = `z = ${look.z.toFixed(2)}, always-valid p = ${look.pValue.toExponential(1)} ≤ ${guard.falseAlarmRate} (mSPRT)`;
  if (isMeanGuard(guard)) {
    const n = (arm: GuardLookView['exposed']) => ('count' in arm ? arm.count : 0);
    return `guard ${guardLabel(guard)}: exposed ${look.exposedMean!.toFixed(2)} (n = ${n(look.exposed)}) vs control ${look.controlMean!.toFixed(2)} (n = ${n(look.control)}), ${test}`;
  }
  const arm = (ratio: number, counts: GuardLookView['exposed']) =>
    'numerator' in counts ? `${ratio.toFixed(4)} (${counts.numerator}/${counts.denominator})` : ratio.toFixed(4);
  return `guard ${guardLabel(guard)}: exposed ${arm(look.exposedRatio!, look.exposed)} vs control ${arm(look.controlRatio!, look.control)}, ${test}`;
}
