import { Inject, Injectable } from '@nestjs/common';
import { evaluateGuard, evaluateMeanGuard, sampleRatioPvalue } from '@aviary/guard';
import type { EntityManager } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { BUCKET_MS, bucketOf, MetricsService } from '../metrics/metrics.service.js';
import type { GuardLookView, GuardVerdictView } from './dto/rollout-plan.dto.js';
import { guardLabel, isMeanGuard, type PlanRow, type StoredGuard, trafficEvent } from './rollout-plan.js';
import { RolloutPlansRepository } from './rollout-plans.repository.js';

/** Exposures per arm this unlikely under the step's percentage raise `sample-ratio-mismatch`. */
const SRM_P_VALUE = 0.001;
/** Steps holding at least this long leave their first bucket (SDKs catching up) out of the SRM check. */
const SRM_GRACE_MIN_HOLD_S = 30;

export interface GuardLook {
  verdict: GuardVerdictView;
  /** The first guard that breached, with its look. */
  breach?: { guard: StoredGuard; look: GuardLookView };
  /** The plan's next look, and its look count and verdict when this look was a new one. */
  changes: Pick<PlanRow, 'next_check_at'> & Partial<Pick<PlanRow, 'looks' | 'verdict'>>;
}

export interface StepWarning {
  code: 'no-traffic' | 'sample-ratio-mismatch';
  message: string;
}

/** What a plan's metrics say: the guard's verdict on the counts since the plan started, and the
 *  warnings of a step whose hold is over. Reads only; the service applies what it answers. */
@Injectable()
export class GuardMonitor {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: MetricsService,
    private readonly plans: RolloutPlansRepository,
  ) {}

  /** One look of every guard at the counts since the plan started, every scheduler tick: the test
   *  is always valid, so looking more often costs no false alarms. Unchanged counts are not a new
   *  look. The plan's verdict is `breach` when any guard breached, `insufficient-data` while any
   *  has not judged yet, else `ok`; its top fields are the deciding guard's. */
  async look(manager: EntityManager, plan: PlanRow, now: Date): Promise<GuardLook> {
    const next_check_at = new Date(now.getTime() + this.config.schedulerIntervalMs);
    const since = await this.countFrom(manager, plan);
    const looks: GuardLookView[] = [];
    for (const guard of plan.guards) looks.push(await this.lookAt(manager, plan, guard, since));
    const breached = looks.findIndex((l) => l.breached);
    const breach = breached >= 0 ? { guard: plan.guards[breached]!, look: looks[breached]! } : undefined;
    const last = plan.verdict;
    if (last && sameArms(last.guards ?? [last], looks)) return { verdict: last, breach, changes: { next_check_at } };
    const waiting = looks.find((l) => l.status === 'insufficient-data');
    const deciding = breach?.look ?? waiting ?? looks[0]!;
    const status = breach ? 'breach' : waiting ? 'insufficient-data' : 'ok';
    const count = status === 'insufficient-data' ? plan.looks : plan.looks + 1;
    const verdict: GuardVerdictView = { ...deciding, status, breached: status === 'breach', guards: looks, looks: count, at: now.toISOString() };
    return { verdict, breach, changes: { next_check_at, looks: count, verdict } };
  }

  private async lookAt(manager: EntityManager, plan: PlanRow, guard: StoredGuard, since: Date): Promise<GuardLookView> {
    const guardName = guardLabel(guard);
    if (isMeanGuard(guard)) {
      const { exposed, control } = await this.metrics.metricMoments(manager, plan.environment_id, plan.flag_id, guard.metric, since, guard.sources);
      return { guard: guardName, ...evaluateMeanGuard(guard, exposed, control) };
    }
    const { exposed, control } = await this.metrics.guardCounts(manager, plan.environment_id, plan.flag_id, guard, since, guard.sources);
    return { guard: guardName, ...evaluateGuard(guard, exposed, control) };
  }

  /** Warnings when a step's hold ends: no traffic, or exposures per arm off the step's percentage. */
  async stepWarnings(manager: EntityManager, plan: PlanRow): Promise<StepWarning[]> {
    const index = plan.step_index!;
    const { percentage, holdSeconds } = plan.steps[index]!;
    if (holdSeconds === 0) return [];
    const warnings: StepWarning[] = [];
    const stepStart = bucketOf(plan.step_started_at!.getTime());
    const guard = plan.guards[0];
    const traffic = guard
      ? await this.metrics.eventCount(manager, plan.environment_id, plan.flag_id, trafficEvent(guard), new Date(stepStart), guard.sources)
      : sum(await this.metrics.exposureCounts(manager, plan.environment_id, plan.flag_id, new Date(stepStart)));
    if (traffic === 0) {
      const what = guard ? `"${trafficEvent(guard)}" events` : 'exposures';
      warnings.push({ code: 'no-traffic', message: `step ${index + 1} (${percentage} %) held ${holdSeconds} s with no ${what}` });
    }
    if (percentage <= 0 || percentage >= 100 || !(await this.splitIsExact(manager, plan))) return warnings;
    const since = stepStart + (holdSeconds >= SRM_GRACE_MIN_HOLD_S ? BUCKET_MS : 0);
    const counts = await this.metrics.exposureCounts(manager, plan.environment_id, plan.flag_id, new Date(since), guard?.sources);
    const p = sampleRatioPvalue(counts.exposed, counts.control, percentage / 100);
    if (p < SRM_P_VALUE) {
      warnings.push({
        code: 'sample-ratio-mismatch',
        message: `step ${index + 1}: ${counts.exposed} exposed vs ${counts.control} control exposures where ${percentage} % exposed was expected (chi-square p = ${p.toExponential(2)})`,
      });
    }
    return warnings;
  }

  /** Where the guard starts counting: the 10 s bucket holding the plan's start, or, when an
   *  earlier plan on this flag finished in or after that bucket, the bucket after it, so that a
   *  retried rollout is not judged on the previous canary's traffic. */
  private async countFrom(manager: EntityManager, plan: PlanRow): Promise<Date> {
    const start = bucketOf(plan.started_at!.getTime());
    const previous = await this.plans.previousFinish(manager, plan, new Date(start));
    return previous ? new Date(bucketOf(previous.getTime()) + BUCKET_MS) : plan.started_at!;
  }

  /** The exposed share equals the step's percentage only when the plan's rule is the flag's only
   *  rule, has no conditions or cohorts, the flag has no prerequisites and is on. */
  private async splitIsExact(manager: EntityManager, plan: PlanRow): Promise<boolean> {
    const config = await this.plans.flagConfig(manager, plan.environment_id, plan.flag_id);
    const rule = config?.rules.length === 1 ? config.rules[0] : undefined;
    return Boolean(config?.enabled && rule?.id === plan.rule_id && !rule.conditions?.length && !rule.cohorts?.length && !config.prerequisites.length);
  }
}

type Arms = Pick<GuardLookView, 'exposed' | 'control'>;

/** Whether two looks saw the same counts, guard by guard (stored verdicts are jsonb: key order differs). */
function sameArms(a: readonly Arms[], b: readonly Arms[]): boolean {
  const key = (arm: Arms['exposed']) => ('numerator' in arm ? `${arm.numerator}/${arm.denominator}` : `${arm.count}/${arm.sum}/${arm.sumSquares}`);
  return a.length === b.length && a.every((l, i) => key(l.exposed) === key(b[i]!.exposed) && key(l.control) === key(b[i]!.control));
}

function sum(counts: { exposed: number; control: number }): number {
  return counts.exposed + counts.control;
}
