import { randomUUID } from 'node:crypto';
import { BadRequestException, ConflictException, HttpException, Inject, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Rule } from '@aviary/core';
import type { DataSource } from 'typeorm';
import type { Actor } from '../common/actor.js';
import { type Page, type PageQuery, toPage } from '../common/paging.js';
import { type FieldError, ValidationFailedException } from '../common/validation-failed.exception.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { AuditService } from '../audit/audit.service.js';
import { type RolloutStepAction, ServerMetrics } from '../observability/server-metrics.js';
import { ChangeLogService } from '../changes/change-log.service.js';
import type { WriteTransaction } from '../changes/write-transaction.js';
import { pgCode, PG_UNIQUE_VIOLATION, sql } from '../database/sql.js';
import type { FlagConfigView } from '../flags/dto/flag-config.dto.js';
import { FlagConfigsService } from '../flags/flag-configs.service.js';
import { findLiveFlag } from '../flags/flags.service.js';
import { BUCKET_MS, bucketOf, MetricsService } from '../metrics/metrics.service.js';
import type { CreateRolloutPlanDto, GuardVerdictView, PlanWarningView, RolloutPlanView } from './dto/rollout-plan.dto.js';
import {
  ACTIVE_STATES, afterHold, firstNarrowingStep, isGuarded, lookIntervalMs, MAX_LOOKS, type PlanAction, PlanTransitionError,
  transition,
} from './plan-lifecycle.js';
import { breachReason, type HistoryRow, PLAN_SELECT, type PlanRow, type StoredGuard, toPlanView } from './rollout-plan.js';
import { evaluateGuard, sampleRatioPvalue } from '@aviary/guard';

/** Exposures per arm this unlikely under the step's percentage raise `sample-ratio-mismatch`. */
const SRM_P_VALUE = 0.001;
/** Steps holding at least this long leave their first bucket (SDKs catching up) out of the SRM check. */
const SRM_GRACE_MIN_HOLD_S = 30;

const ACTIVE_SQL = ACTIVE_STATES.map((s) => `'${s}'`).join(', ');
const DUE_SQL = `((p.state = 'running' AND p.next_step_at <= clock_timestamp()) OR p.next_check_at <= clock_timestamp())`;

interface HistoryEntry {
  type: string;
  actor: string;
  stepIndex?: number | null;
  percentage?: number | null;
  revision?: number | null;
  reason?: string | null;
  verdict?: GuardVerdictView | null;
  /** When it took effect on the plan's timeline; the insert's clock time when absent. */
  at?: Date;
}

/** Rollout plans (docs/rollouts.md): each change of a plan is one transaction that locks the plan
 *  row; a step or a kill is an ordinary audited write of the flag config in that same transaction,
 *  by the actor `rollout-plan:<id>`. */
@Injectable()
export class RolloutPlansService {
  private readonly logger = new Logger('RolloutPlans');
  /** Log lines of each open write, printed once it commits. */
  private readonly logs = new WeakMap<WriteTransaction, Array<() => void>>();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly changes: ChangeLogService,
    private readonly configs: FlagConfigsService,
    private readonly metrics: MetricsService,
    private readonly audit: AuditService,
    private readonly serverMetrics: ServerMetrics,
  ) {}

  create(actor: Actor, environmentKey: string, flagKey: string, dto: CreateRolloutPlanDto): Promise<RolloutPlanView> {
    checkPlan(dto);
    const id = randomUUID();
    return this.write(planActor(id, actor), async (tx) => {
      const [env] = await sql<{ id: string }>(tx.manager, 'SELECT id FROM environments WHERE key = $1', [environmentKey]);
      if (!env) throw new NotFoundException(`No environment "${environmentKey}"`);
      const flag = await findLiveFlag(tx.manager, flagKey);
      const [config] = await sql<{ rules: Rule[] }>(tx.manager, 'SELECT rules FROM flag_configs WHERE environment_id = $1 AND flag_id = $2', [env.id, flag.id]);
      if (!(config?.rules ?? []).some((rule) => rule.id === dto.ruleId)) {
        throw new ValidationFailedException([{ path: 'ruleId', message: `names no rule of flag "${flagKey}" in "${environmentKey}" ("${dto.ruleId}")` }]);
      }
      const [active] = await sql<{ id: string; state: string }>(
        tx.manager,
        `SELECT id, state FROM rollout_plans WHERE environment_id = $1 AND flag_id = $2 AND state IN (${ACTIVE_SQL})`,
        [env.id, flag.id],
      );
      if (active) throw activePlanConflict(flagKey, environmentKey, active);
      const guard: StoredGuard | null = dto.guard ? { falseAlarmRate: 0.01, ...dto.guard } : null;
      try {
        await sql(
          tx.manager,
          `INSERT INTO rollout_plans (id, environment_id, flag_id, rule_id, state, steps, guard, require_approval, created_by)
           VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7, $8)`,
          [id, env.id, flag.id, dto.ruleId, JSON.stringify(dto.steps.map(({ percentage, holdSeconds }) => ({ percentage, holdSeconds }))),
            guard && JSON.stringify(guard), dto.requireApproval ?? false, actor.name],
        );
      } catch (err) {
        // Another plan for this flag was created at the same moment.
        if (pgCode(err) === PG_UNIQUE_VIOLATION) throw activePlanConflict(flagKey, environmentKey);
        throw err;
      }
      const plan = await this.lock(tx, id);
      const now = await this.now(tx);
      await this.history(tx, plan, { type: 'created', actor: actor.name, reason: dto.reason });
      if (dto.start) await this.start(tx, plan, now, actor.name, dto.reason);
      const view = await this.save(tx, plan, now);
      await this.recordAction(tx, actor, 'create', plan, null, view, dto.reason);
      return view;
    });
  }

  async list(environmentKey: string, flagKey: string, query: PageQuery): Promise<Page<RolloutPlanView>> {
    const limit = query.limit ?? 100;
    if (query.cursor !== undefined && !UUID.test(query.cursor)) throw new BadRequestException('cursor: must be the nextCursor of a previous page');
    const manager = this.dataSource.manager;
    const [env] = await sql<{ id: string }>(manager, 'SELECT id FROM environments WHERE key = $1', [environmentKey]);
    if (!env) throw new NotFoundException(`No environment "${environmentKey}"`);
    const flag = await findLiveFlag(manager, flagKey);
    const rows = await sql<PlanRow>(
      manager,
      `${PLAN_SELECT} WHERE p.environment_id = $1 AND p.flag_id = $2
          AND ($3::uuid IS NULL OR (p.created_at, p.id) < (SELECT created_at, id FROM rollout_plans WHERE id = $3))
        ORDER BY p.created_at DESC, p.id DESC LIMIT $4`,
      [env.id, flag.id, query.cursor ?? null, limit + 1],
    );
    return toPage(rows.map((row) => toPlanView(row)), limit, (last) => last.id);
  }

  async get(id: string): Promise<RolloutPlanView> {
    const manager = this.dataSource.manager;
    const [row] = await sql<PlanRow>(manager, `${PLAN_SELECT} WHERE p.id = $1`, [id]);
    if (!row) throw new NotFoundException(`No rollout plan "${id}"`);
    const history = await sql<HistoryRow>(
      manager,
      'SELECT at, type, step_index, percentage, revision, actor, reason, verdict FROM rollout_plan_history WHERE plan_id = $1 ORDER BY id',
      [id],
    );
    return toPlanView(row, history);
  }

  /** start, pause, resume, approve, cancel, rollback; 409 when the plan's state does not allow it. */
  act(actor: Actor, id: string, action: PlanAction, reason?: string): Promise<RolloutPlanView> {
    return this.write(planActor(id, actor), async (tx) => {
      const plan = await this.lock(tx, id);
      const before = toPlanView(plan);
      const now = await this.now(tx);
      let next;
      try {
        next = transition(plan.state, action);
      } catch (err) {
        if (err instanceof PlanTransitionError) throw new ConflictException(err.message);
        throw err;
      }
      const by = actor.name;
      switch (action) {
        case 'start':
          await this.start(tx, plan, now, by, reason);
          break;
        case 'pause':
          plan.state = next;
          plan.paused_remaining_ms = String(Math.max(0, (plan.next_step_at?.getTime() ?? now.getTime()) - now.getTime()));
          plan.next_step_at = null;
          plan.reason = reason ?? null;
          await this.history(tx, plan, { type: 'paused', actor: by, reason });
          break;
        case 'resume':
          plan.state = next;
          plan.next_step_at = new Date(now.getTime() + Number(plan.paused_remaining_ms ?? 0));
          plan.paused_remaining_ms = null;
          plan.next_check_at = plan.guard ? now : null;
          plan.reason = reason ?? null;
          await this.history(tx, plan, { type: 'resumed', actor: by, reason });
          break;
        case 'approve':
          plan.reason = reason ?? null;
          await this.history(tx, plan, { type: 'approved', actor: by, reason, stepIndex: plan.step_index! + 1 });
          await this.step(tx, plan, plan.step_index! + 1, now, plan.verdict, `approved by ${by}${reason ? `: ${reason}` : ''}`);
          break;
        case 'cancel':
          finish(plan, 'cancelled', now, reason ?? null);
          await this.history(tx, plan, { type: 'cancelled', actor: by, reason });
          break;
        case 'rollback':
          await this.rollBack(tx, plan, now, `rolled back by ${by}${reason ? `: ${reason}` : ''}`, by, plan.verdict);
          break;
      }
      const after = await this.save(tx, plan, now);
      await this.recordAction(tx, actor, action, plan, before, after, reason);
      return after;
    });
  }

  /** What a person did to a plan goes to the audit log under their own key; the writes the plan
   *  makes are audited separately, by `rollout-plan:<id>`. */
  private recordAction(tx: WriteTransaction, actor: Actor, action: string, plan: PlanRow, before: RolloutPlanView | null, after: RolloutPlanView, reason?: string): Promise<void> {
    return this.audit.record(tx.manager, actor, {
      action: `rollout-plan.${action}`,
      resourceType: 'rollout-plan',
      resourceKey: plan.flag,
      environment: plan.environment,
      before,
      after,
      reason,
    });
  }

  /** Plans with a step or a guard look due, for the scheduler. */
  async duePlans(limit: number): Promise<string[]> {
    const rows = await sql<{ id: string }>(
      this.dataSource.manager,
      `SELECT p.id FROM rollout_plans p WHERE ${DUE_SQL}
        ORDER BY LEAST(COALESCE(p.next_step_at, 'infinity'), COALESCE(p.next_check_at, 'infinity')) LIMIT $1`,
      [limit],
    );
    return rows.map((r) => r.id);
  }

  /** Does the plan's due work, if it is still due and no other instance holds it: the guard look,
   *  then the step. A step the flag config refuses (its rule was removed, the flag archived)
   *  pauses the plan with a `step-failed` warning instead of failing again every tick. */
  async runDue(id: string): Promise<void> {
    try {
      await this.write(planActor(id), (tx) => this.advance(tx, id));
    } catch (err) {
      if (!(err instanceof HttpException) || err.getStatus() >= 500) throw err;
      await this.write(planActor(id), (tx) => this.suspend(tx, id, err.message));
    }
  }

  private async advance(tx: WriteTransaction, id: string): Promise<void> {
    // SKIP LOCKED: a plan another instance is working on is its business; once it commits, the
    // plan is no longer due, so each step fires exactly once.
    const [plan] = await sql<PlanRow>(tx.manager, `${PLAN_SELECT} WHERE p.id = $1 AND ${DUE_SQL} FOR UPDATE OF p SKIP LOCKED`, [id]);
    if (!plan) return;
    const now = await this.now(tx);
    const stepDue = plan.state === 'running' && plan.next_step_at !== null && plan.next_step_at <= now;
    const lookDue = plan.next_check_at !== null && plan.next_check_at <= now;
    let verdict = plan.verdict;
    if (plan.guard && isGuarded(plan.state) && (stepDue || lookDue)) {
      verdict = await this.look(tx, plan, plan.guard, now);
      if (verdict.breached) {
        await this.rollBack(tx, plan, now, breachReason(plan.guard, verdict), planActor(id).name, verdict);
        await this.save(tx, plan, now);
        return;
      }
    } else if (lookDue) {
      plan.next_check_at = null;
    }
    if (stepDue && !(await this.flagEnabled(tx, plan))) {
      // Someone killed the flag: widening it now would expose more users the moment it is revived.
      await this.hold(tx, plan, now, 'flag-disabled', `flag "${plan.flag}" is off in "${plan.environment}": revive it, then resume the plan`);
      await this.save(tx, plan, now);
      return;
    }
    if (stepDue) {
      await this.checkStep(tx, plan, now);
      const outcome = afterHold({ stepIndex: plan.step_index!, steps: plan.steps, requireApproval: plan.require_approval });
      if (outcome.next === 'complete') {
        finish(plan, 'completed', now, null);
        this.afterCommit(tx, () => this.logger.log(`Rollout plan ${id} (${plan.flag} in ${plan.environment}) completed`));
        await this.history(tx, plan, { type: 'completed', actor: planActor(id).name, stepIndex: plan.step_index, verdict });
      } else if (outcome.next === 'await-approval') {
        plan.state = 'awaiting-approval';
        plan.next_step_at = null;
        await this.history(tx, plan, { type: 'awaiting-approval', actor: planActor(id).name, stepIndex: plan.step_index! + 1, verdict });
      } else {
        const config = await this.step(tx, plan, outcome.stepIndex, now, verdict);
        const { percentage } = plan.steps[outcome.stepIndex]!;
        this.afterCommit(tx, () =>
          this.logger.debug(`Rollout plan ${id} wrote step ${outcome.stepIndex + 1}/${plan.steps.length} (${percentage} %) at revision ${config.revision}`),
        );
      }
    }
    await this.save(tx, plan, now);
  }

  private async suspend(tx: WriteTransaction, id: string, message: string): Promise<void> {
    const plan = await this.lock(tx, id);
    if (!isGuarded(plan.state)) return;
    const now = await this.now(tx);
    await this.hold(tx, plan, now, 'step-failed', message);
    await this.save(tx, plan, now);
  }

  /** Pauses a plan that cannot go on by itself, with a warning saying why; the next step fires
   *  as soon as someone resumes it. Guard looks stop too until then. */
  private async hold(tx: WriteTransaction, plan: PlanRow, now: Date, code: PlanWarningView['code'], message: string): Promise<void> {
    plan.next_check_at = null;
    plan.reason = message;
    await this.warn(tx, plan, now, code, message);
    if (plan.state === 'running') {
      plan.state = 'paused';
      plan.paused_remaining_ms = '0';
      plan.next_step_at = null;
      await this.history(tx, plan, { type: 'paused', actor: planActor(plan.id).name, reason: message });
    }
  }

  private async flagEnabled(tx: WriteTransaction, plan: PlanRow): Promise<boolean> {
    const [row] = await sql<{ enabled: boolean }>(
      tx.manager,
      'SELECT enabled FROM flag_configs WHERE flag_id = $1 AND environment_id = $2',
      [plan.flag_id, plan.environment_id],
    );
    return row?.enabled === true;
  }

  private async start(tx: WriteTransaction, plan: PlanRow, now: Date, by: string, reason?: string): Promise<void> {
    plan.state = 'running';
    plan.started_at = now;
    plan.reason = null;
    await this.history(tx, plan, { type: 'started', actor: by, reason });
    const config = await this.step(tx, plan, 0, now, null, reason);
    plan.next_check_at = plan.guard ? now : null;
    if (!config.enabled) {
      await this.warn(tx, plan, now, 'flag-disabled', `flag "${plan.flag}" is off in "${plan.environment}": no one is exposed until it is revived`);
    }
  }

  /** Writes step `index`'s percentage through the rollout dial, in this transaction. */
  private async step(tx: WriteTransaction, plan: PlanRow, index: number, now: Date, verdict: GuardVerdictView | null, note?: string): Promise<FlagConfigView> {
    const { percentage, holdSeconds } = plan.steps[index]!;
    const reason = `rollout plan step ${index + 1}/${plan.steps.length}: ${percentage} %${note ? ` (${note})` : ''}`;
    const config = await this.configs.rolloutIn(tx, plan.environment, plan.flag, { percentage, ruleId: plan.rule_id, reason });
    plan.state = 'running';
    plan.step_index = index;
    plan.step_started_at = now;
    plan.next_step_at = new Date(now.getTime() + Math.round(holdSeconds * 1000));
    // Its hold counts from `now`, and so does its history entry: the gaps between steps read
    // exactly as the holds.
    await this.history(tx, plan, { type: 'step', actor: tx.actor.name, stepIndex: index, percentage, revision: config.revision, reason: note, verdict, at: now });
    return config;
  }

  private async rollBack(tx: WriteTransaction, plan: PlanRow, now: Date, reason: string, by: string, verdict: GuardVerdictView | null): Promise<void> {
    const config = await this.configs.killIn(tx, plan.environment, plan.flag, reason);
    finish(plan, 'rolled-back', now, reason);
    await this.history(tx, plan, { type: 'rolled-back', actor: by, stepIndex: plan.step_index, revision: config.revision, reason, verdict });
    this.afterCommit(tx, () => this.logger.warn(`Rollout plan ${plan.id} (${plan.flag} in ${plan.environment}) rolled back: ${reason}`));
  }

  /** One look of the guard at the counts since the plan started. Unchanged counts are not a new
   *  look: only looks that could decide spend the false-alarm budget. */
  private async look(tx: WriteTransaction, plan: PlanRow, guard: StoredGuard, now: Date): Promise<GuardVerdictView> {
    plan.next_check_at = new Date(now.getTime() + lookIntervalMs(plan.steps, this.config.schedulerIntervalMs));
    const since = await this.countFrom(tx, plan);
    const { exposed, control } = await this.metrics.guardCounts(tx.manager, plan.environment_id, plan.flag_id, guard, since, guard.sources);
    const last = plan.verdict;
    if (last && sameCounts(last.exposed, exposed) && sameCounts(last.control, control)) return last;
    const verdict = evaluateGuard({ ...guard, maxLooks: MAX_LOOKS }, exposed, control);
    if (verdict.status !== 'insufficient-data') plan.looks += 1;
    plan.verdict = { ...verdict, looks: plan.looks, at: now.toISOString() };
    return plan.verdict;
  }

  /** Where the guard starts counting: the 10 s bucket holding the plan's start, or, when an
   *  earlier plan on this flag finished in or after that bucket, the bucket after it, so that a
   *  retried rollout is not judged on the previous canary's traffic. */
  private async countFrom(tx: WriteTransaction, plan: PlanRow): Promise<Date> {
    const start = bucketOf(plan.started_at!.getTime());
    const [previous] = await sql<{ finished: Date | null }>(
      tx.manager,
      'SELECT max(finished_at) AS finished FROM rollout_plans WHERE flag_id = $1 AND environment_id = $2 AND id <> $3 AND finished_at >= $4',
      [plan.flag_id, plan.environment_id, plan.id, new Date(start)],
    );
    return previous?.finished ? new Date(bucketOf(previous.finished.getTime()) + BUCKET_MS) : plan.started_at!;
  }

  /** Warnings when a step's hold ends: no traffic, or exposures per arm off the step's percentage. */
  private async checkStep(tx: WriteTransaction, plan: PlanRow, now: Date): Promise<void> {
    const index = plan.step_index!;
    const { percentage, holdSeconds } = plan.steps[index]!;
    if (holdSeconds === 0) return;
    const stepStart = bucketOf(plan.step_started_at!.getTime());
    const traffic = plan.guard
      ? await this.metrics.eventCount(tx.manager, plan.environment_id, plan.flag_id, plan.guard.denominator, new Date(stepStart), plan.guard.sources)
      : sum(await this.metrics.exposureCounts(tx.manager, plan.environment_id, plan.flag_id, new Date(stepStart)));
    if (traffic === 0) {
      const what = plan.guard ? `"${plan.guard.denominator}" events` : 'exposures';
      await this.warn(tx, plan, now, 'no-traffic', `step ${index + 1} (${percentage} %) held ${holdSeconds} s with no ${what}`);
    }
    if (percentage <= 0 || percentage >= 100 || !(await this.splitIsExact(tx, plan))) return;
    const since = stepStart + (holdSeconds >= SRM_GRACE_MIN_HOLD_S ? BUCKET_MS : 0);
    const counts = await this.metrics.exposureCounts(tx.manager, plan.environment_id, plan.flag_id, new Date(since), plan.guard?.sources);
    const p = sampleRatioPvalue(counts.exposed, counts.control, percentage / 100);
    if (p < SRM_P_VALUE) {
      await this.warn(
        tx,
        plan,
        now,
        'sample-ratio-mismatch',
        `step ${index + 1}: ${counts.exposed} exposed vs ${counts.control} control exposures where ${percentage} % exposed was expected (chi-square p = ${p.toExponential(2)})`,
      );
    }
  }

  /** The exposed share equals the step's percentage only when the plan's rule is the flag's only
   *  rule, has no conditions or cohorts, the flag has no prerequisites and is on. */
  private async splitIsExact(tx: WriteTransaction, plan: PlanRow): Promise<boolean> {
    const [config] = await sql<{ enabled: boolean; rules: Rule[]; prerequisites: unknown[] }>(
      tx.manager,
      'SELECT enabled, rules, prerequisites FROM flag_configs WHERE environment_id = $1 AND flag_id = $2',
      [plan.environment_id, plan.flag_id],
    );
    const rule = config?.rules.length === 1 ? config.rules[0] : undefined;
    return Boolean(config?.enabled && rule?.id === plan.rule_id && !rule.conditions?.length && !rule.cohorts?.length && !config.prerequisites.length);
  }

  private async warn(tx: WriteTransaction, plan: PlanRow, now: Date, code: PlanWarningView['code'], message: string): Promise<void> {
    const stepIndex = plan.step_index;
    if (plan.warnings.some((w) => w.code === code && w.stepIndex === stepIndex && w.message === message)) return;
    plan.warnings = [...plan.warnings, { code, stepIndex, at: now.toISOString(), message }];
    await this.history(tx, plan, { type: 'warning', actor: planActor(plan.id).name, stepIndex, reason: `${code}: ${message}` });
    this.afterCommit(tx, () => this.logger.warn(`Rollout plan ${plan.id} (${plan.flag} in ${plan.environment}): ${code}: ${message}`));
  }

  /** One write through the change log; what it logs is printed only once it has committed. */
  private async write<T>(actor: Actor, work: (tx: WriteTransaction) => Promise<T>): Promise<T> {
    const logs: Array<() => void> = [];
    const result = await this.changes.write(actor, (tx) => {
      this.logs.set(tx, logs);
      return work(tx);
    });
    for (const log of logs) log();
    return result;
  }

  private afterCommit(tx: WriteTransaction, log: () => void): void {
    this.logs.get(tx)?.push(log);
  }

  private async lock(tx: WriteTransaction, id: string): Promise<PlanRow> {
    const [plan] = await sql<PlanRow>(tx.manager, `${PLAN_SELECT} WHERE p.id = $1 FOR UPDATE OF p`, [id]);
    if (!plan) throw new NotFoundException(`No rollout plan "${id}"`);
    return plan;
  }

  /** The database's clock, shared by every instance. */
  private async now(tx: WriteTransaction): Promise<Date> {
    const [row] = await sql<{ now: Date }>(tx.manager, 'SELECT clock_timestamp() AS now');
    return row.now;
  }

  private async history(tx: WriteTransaction, plan: PlanRow, entry: HistoryEntry): Promise<void> {
    const counted = STEP_ACTIONS[entry.type];
    if (counted) this.afterCommit(tx, () => this.serverMetrics.rolloutSteps.inc({ environment: plan.environment, action: counted }));
    await sql(
      tx.manager,
      `INSERT INTO rollout_plan_history (plan_id, type, step_index, percentage, revision, actor, reason, verdict, at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, COALESCE($9, clock_timestamp()))`,
      [plan.id, entry.type, entry.stepIndex ?? null, entry.percentage ?? null, entry.revision ?? null, entry.actor, entry.reason ?? null,
        entry.verdict ? JSON.stringify(entry.verdict) : null, entry.at ?? null],
    );
  }

  private async save(tx: WriteTransaction, plan: PlanRow, now: Date): Promise<RolloutPlanView> {
    plan.updated_at = now;
    await sql(
      tx.manager,
      `UPDATE rollout_plans SET state = $2, step_index = $3, started_at = $4, step_started_at = $5, next_step_at = $6,
              paused_remaining_ms = $7, next_check_at = $8, looks = $9, verdict = $10, warnings = $11, reason = $12,
              finished_at = $13, updated_at = $14
        WHERE id = $1`,
      [plan.id, plan.state, plan.step_index, plan.started_at, plan.step_started_at, plan.next_step_at, plan.paused_remaining_ms,
        plan.next_check_at, plan.looks, plan.verdict && JSON.stringify(plan.verdict), JSON.stringify(plan.warnings), plan.reason,
        plan.finished_at, now],
    );
    return toPlanView(plan);
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Who writes a plan's steps and kills, in the audit log; the request id ties it to the call. */
/** The plan history entries counted in `aviary_rollout_steps_total`, by their action label. */
const STEP_ACTIONS: Partial<Record<string, RolloutStepAction>> = {
  started: 'started',
  step: 'advanced',
  'awaiting-approval': 'awaiting-approval',
  completed: 'completed',
  paused: 'paused',
  'rolled-back': 'rolled-back',
};

function planActor(id: string, caller?: Actor): Actor {
  return { keyId: null, name: `rollout-plan:${id}`, requestId: caller?.requestId };
}

function finish(plan: PlanRow, state: 'completed' | 'cancelled' | 'rolled-back', now: Date, reason: string | null): void {
  plan.state = state;
  plan.finished_at = now;
  plan.next_step_at = null;
  plan.next_check_at = null;
  plan.paused_remaining_ms = null;
  plan.reason = reason;
}

function checkPlan(dto: CreateRolloutPlanDto): void {
  const issues: FieldError[] = [];
  const narrowing = firstNarrowingStep(dto.steps);
  if (narrowing !== undefined) {
    issues.push({ path: `steps[${narrowing}].percentage`, message: `must not be below the previous step's (${dto.steps[narrowing - 1]!.percentage})` });
  }
  if (dto.guard && dto.guard.numerator === dto.guard.denominator) {
    issues.push({ path: 'guard.denominator', message: 'must name another event than the numerator' });
  }
  if (issues.length > 0) throw new ValidationFailedException(issues);
}

function activePlanConflict(flag: string, environment: string, active?: { id: string; state: string }): ConflictException {
  const which = active ? `: ${active.id} (${active.state})` : '';
  return new ConflictException(`Flag "${flag}" already has an active rollout plan in "${environment}"${which}; cancel it or let it finish first`);
}

function sameCounts(a: { numerator: number; denominator: number }, b: { numerator: number; denominator: number }): boolean {
  return a.numerator === b.numerator && a.denominator === b.denominator;
}

function sum(counts: { exposed: number; control: number }): number {
  return counts.exposed + counts.control;
}
