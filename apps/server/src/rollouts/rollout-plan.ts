import type { GuardVerdictView, PlanHistoryView, PlanWarningView, RolloutPlanView } from './dto/rollout-plan.dto.js';
import { METRIC_SOURCES, type MetricSource } from '../metrics/metric-source.js';
import { type InsufficientDataPolicy, isActive, type PlanFields, type PlanStep } from './plan-lifecycle.js';
import type { GuardSpec } from '@aviary/guard';

/** A guard as stored: the request's, with the false-alarm rate filled in. Without `sources` it
 *  counts every source (the default; the view shows it filled in). */
export type StoredGuard = Required<GuardSpec> & { sources?: MetricSource[] };

/** A `rollout_plans` row with its environment's and flag's keys. */
export interface PlanRow extends PlanFields {
  id: string;
  environment_id: string;
  flag_id: string;
  environment: string;
  flag: string;
  rule_id: string;
  steps: PlanStep[];
  guard: StoredGuard | null;
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
    stepIndex: row.step_index,
    steps: row.steps,
    guard: row.guard && { sources: [...METRIC_SOURCES], ...row.guard },
    requireApproval: row.require_approval,
    maxHoldSeconds: row.max_hold_seconds,
    onInsufficientData: row.on_insufficient_data,
    evidenceDeadlineAt: row.guard && row.state === 'running' ? iso(row.evidence_deadline_at) : null,
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
 *  0.1500 (30/200) vs control 0.0100 (20/2000), z = 5.30, always-valid p = 2.0e-4 ≤ 0.01 (mSPRT)`. */
export function breachReason(guard: StoredGuard, verdict: GuardVerdictView): string {
  const arm = (ratio: number, counts: { numerator: number; denominator: number }) =>
    `${ratio.toFixed(4)} (${counts.numerator}/${counts.denominator})`;
  return (
    `guard ${guard.numerator}/${guard.denominator}: exposed ${arm(verdict.exposedRatio, verdict.exposed)} ` +
    `vs control ${arm(verdict.controlRatio, verdict.control)}, z = ${verdict.z.toFixed(2)}, ` +
    `always-valid p = ${verdict.pValue.toExponential(1)} ≤ ${guard.falseAlarmRate} (mSPRT)`
  );
}
