import { randomUUID } from 'node:crypto';
import { BadRequestException, ConflictException, HttpException, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { Actor } from '../common/actor.js';
import { type Page, type PageQuery, toPage } from '../common/paging.js';
import { type FieldError, ValidationFailedException } from '../common/validation-failed.exception.js';
import { AuditService } from '../audit/audit.service.js';
import { type RolloutStepAction, ServerMetrics } from '../observability/server-metrics.js';
import { ChangeLogService } from '../changes/change-log.service.js';
import type { WriteTransaction } from '../changes/write-transaction.js';
import type { FlagConfigView } from '../flags/dto/flag-config.dto.js';
import { FlagConfigsService } from '../flags/flag-configs.service.js';
import { findLiveFlag } from '../flags/flags.service.js';
import { PlanNotices } from '../stream/plan-notices.js';
import { DEFAULT_FALSE_ALARM_RATE } from '@aviary/guard';
import type { CreateRolloutPlanDto, GuardLookView, GuardVerdictView, PlanWarningView, RolloutPlanView } from './dto/rollout-plan.dto.js';
import { GuardMonitor } from './guard-monitor.js';
import {
  afterHold, approved, awaitingApproval, finished, firstNarrowingStep, gate, held, isGuarded, maxHoldMs, type PlanAction, type PlanChanges, paused,
  type PlanStep, PlanTransitionError, resumed, started, stepped, transition,
} from './plan-lifecycle.js';
import { breachReason, type PlanRow, type StoredGuard, toPlanView, trafficEvent } from './rollout-plan.js';
import { type HistoryEntry, RolloutPlansRepository } from './rollout-plans.repository.js';

/** Rollout plans (docs/rollouts.md): each change of a plan is one transaction that locks the plan
 *  row; a step or a kill is an ordinary audited write of the flag config in that same transaction,
 *  by the actor `rollout-plan:<id>`. The state machine is `plan-lifecycle.ts`, the SQL
 *  `rollout-plans.repository.ts`, the guard's statistics `guard-monitor.ts`; this service puts
 *  them together. */
@Injectable()
export class RolloutPlansService {
  private readonly logger = new Logger('RolloutPlans');

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly changes: ChangeLogService,
    private readonly plans: RolloutPlansRepository,
    private readonly monitor: GuardMonitor,
    private readonly configs: FlagConfigsService,
    private readonly audit: AuditService,
    private readonly serverMetrics: ServerMetrics,
    private readonly notices: PlanNotices,
  ) {}

  /** Writes that already announce their plan once they commit. */
  private readonly announced = new WeakSet<WriteTransaction>();

  create(actor: Actor, environmentKey: string, flagKey: string, dto: CreateRolloutPlanDto): Promise<RolloutPlanView> {
    checkPlan(dto);
    const id = randomUUID();
    return this.changes.write(planActor(id, actor), async (tx) => {
      const environmentId = await this.plans.environmentId(tx.manager, environmentKey);
      if (!environmentId) throw new NotFoundException(`No environment "${environmentKey}"`);
      const flag = await findLiveFlag(tx.manager, flagKey);
      const config = await this.plans.flagConfig(tx.manager, environmentId, flag.id);
      if (!(config?.rules ?? []).some((rule) => rule.id === dto.ruleId)) {
        throw new ValidationFailedException([{ path: 'ruleId', message: `names no rule of flag "${flagKey}" in "${environmentKey}" ("${dto.ruleId}")` }]);
      }
      const active = await this.plans.activePlan(tx.manager, environmentId, flag.id);
      if (active) throw activePlanConflict(flagKey, environmentKey, active);
      const inserted = await this.plans.insert(tx.manager, {
        id,
        environmentId,
        flagId: flag.id,
        ruleId: dto.ruleId,
        steps: dto.steps.map(({ percentage, holdSeconds, maxHoldSeconds }) => ({ percentage, holdSeconds, ...(maxHoldSeconds === undefined ? {} : { maxHoldSeconds }) })),
        guards: (dto.guards ?? (dto.guard ? [dto.guard] : [])).map((guard) => ({ falseAlarmRate: DEFAULT_FALSE_ALARM_RATE, ...guard }) as StoredGuard),
        requireApproval: dto.requireApproval ?? false,
        maxHoldSeconds: dto.maxHoldSeconds ?? null,
        onInsufficientData: dto.onInsufficientData ?? 'pause',
        createdBy: actor.name,
      });
      // Another plan for this flag was created at the same moment.
      if (!inserted) throw activePlanConflict(flagKey, environmentKey);
      const plan = await this.lock(tx, id);
      const now = await this.plans.now(tx.manager);
      await this.history(tx, plan, { type: 'created', actor: actor.name, reason: dto.reason });
      if (dto.start) await this.start(tx, plan, now, actor.name, dto.reason);
      const view = await this.save(tx, plan, now);
      await this.recordAction(tx, actor, 'create', plan, null, view, dto.reason);
      return view;
    });
  }

  /** One flag's plans, or with no flag every plan of the environment; newest first. */
  async list(environmentKey: string, flagKey: string | undefined, query: PageQuery): Promise<Page<RolloutPlanView>> {
    const limit = query.limit ?? 100;
    if (query.cursor !== undefined && !UUID.test(query.cursor)) throw new BadRequestException('cursor: must be the nextCursor of a previous page');
    const manager = this.dataSource.manager;
    const environmentId = await this.plans.environmentId(manager, environmentKey);
    if (!environmentId) throw new NotFoundException(`No environment "${environmentKey}"`);
    const flagId = flagKey === undefined ? null : (await findLiveFlag(manager, flagKey)).id;
    const rows = await this.plans.list(manager, environmentId, flagId, query.cursor ?? null, limit + 1);
    return toPage(rows.map((row) => toPlanView(row)), limit, (last) => last.id);
  }

  async get(id: string): Promise<RolloutPlanView> {
    const manager = this.dataSource.manager;
    const row = await this.plans.find(manager, id);
    if (!row) throw new NotFoundException(`No rollout plan "${id}"`);
    return toPlanView(row, await this.plans.history(manager, id));
  }

  /** start, pause, resume, approve, cancel, rollback; 409 when the plan's state does not allow it. */
  act(actor: Actor, id: string, action: PlanAction, reason?: string): Promise<RolloutPlanView> {
    return this.changes.write(planActor(id, actor), async (tx) => {
      const plan = await this.lock(tx, id);
      const before = toPlanView(plan);
      const now = await this.plans.now(tx.manager);
      try {
        transition(plan.state, action);
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
          apply(plan, paused(plan, now, reason ?? null));
          await this.history(tx, plan, { type: 'paused', actor: by, reason });
          break;
        case 'resume':
          apply(plan, resumed({ ...plan, maxHoldSeconds: plan.max_hold_seconds }, now, plan.guards.length > 0, reason ?? null));
          await this.history(tx, plan, { type: 'resumed', actor: by, reason });
          break;
        case 'approve':
          apply(plan, approved(reason ?? null));
          await this.history(tx, plan, { type: 'approved', actor: by, reason, stepIndex: plan.step_index! + 1 });
          await this.step(tx, plan, plan.step_index! + 1, now, plan.verdict, `approved by ${by}${reason ? `: ${reason}` : ''}`);
          break;
        case 'cancel':
          apply(plan, finished('cancelled', now, reason ?? null));
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
  duePlans(limit: number): Promise<string[]> {
    return this.plans.due(this.dataSource.manager, limit);
  }

  /** Does the plan's due work, if it is still due and no other instance holds it: the guard look,
   *  then the step. A step the flag config refuses (its rule was removed, the flag archived)
   *  pauses the plan with a `step-failed` warning instead of failing again every tick. */
  async runDue(id: string): Promise<void> {
    try {
      await this.changes.write(planActor(id), (tx) => this.advance(tx, id));
    } catch (err) {
      if (!(err instanceof HttpException) || err.getStatus() >= 500) throw err;
      await this.changes.write(planActor(id), (tx) => this.suspend(tx, id, err.message));
    }
  }

  private async advance(tx: WriteTransaction, id: string): Promise<void> {
    const plan = await this.plans.lockIfDue(tx.manager, id);
    if (!plan) return;
    const before = toPlanView(plan);
    const system = planActor(id);
    const now = await this.plans.now(tx.manager);
    const stepDue = plan.state === 'running' && plan.next_step_at !== null && plan.next_step_at <= now;
    const lookDue = plan.next_check_at !== null && plan.next_check_at <= now;
    let verdict = plan.verdict;
    if (plan.guards.length > 0 && isGuarded(plan.state) && (stepDue || lookDue)) {
      const look = await this.monitor.look(tx.manager, plan, now);
      apply(plan, look.changes);
      verdict = look.verdict;
      if (look.breach) {
        const reason = breachReason(look.breach.guard, look.breach.look);
        await this.rollBack(tx, plan, now, reason, system.name, verdict);
        await this.recordAction(tx, system, 'rollback', plan, before, await this.save(tx, plan, now), reason);
        return;
      }
    } else if (lookDue) {
      plan.next_check_at = null;
    }
    if (stepDue && !(await this.flagEnabled(tx, plan))) {
      // Someone killed the flag: widening it now would expose more users the moment it is revived.
      const reason = `flag "${plan.flag}" is off in "${plan.environment}": revive it, then resume the plan`;
      await this.hold(tx, plan, now, 'flag-disabled', reason);
      await this.recordHold(tx, plan, before, now, reason);
      return;
    }
    if (!stepDue) {
      await this.save(tx, plan, now);
      return;
    }
    const index = plan.step_index!;
    const outcome = afterHold({ stepIndex: index, steps: plan.steps, requireApproval: plan.require_approval });
    const gated = plan.guards.length > 0 && outcome.next !== 'complete';
    if (gated) {
      const step = plan.steps[index]!;
      const deadline = plan.evidence_deadline_at ?? new Date(plan.step_started_at!.getTime() + maxHoldMs(step, plan.max_hold_seconds));
      const decision = gate({ judged: verdict?.status === 'ok', policy: plan.on_insufficient_data, now, deadline, nextCheckAt: plan.next_check_at });
      if (decision.next === 'extend') {
        plan.next_step_at = decision.until;
        const waitS = (deadline.getTime() - plan.step_started_at!.getTime()) / 1000;
        await this.warn(tx, plan, now, 'insufficient-data', `step ${index + 1} (${step.percentage} %) held ${step.holdSeconds} s without the guard's verdict: it waits for evidence up to ${waitS} s before widening`);
        await this.save(tx, plan, now);
        return;
      }
      if (decision.next === 'pause') {
        const reason = `insufficient-data: ${insufficientEvidence(plan, step, index, verdict, now)}`;
        await this.hold(tx, plan, now, 'insufficient-data', reason);
        await this.recordHold(tx, plan, before, now, reason);
        return;
      }
    }
    for (const warning of await this.monitor.stepWarnings(tx.manager, plan)) {
      // On a gated step no traffic is no evidence: the gate above already waited for it.
      if (!(gated && warning.code === 'no-traffic' && plan.on_insufficient_data === 'pause')) await this.warn(tx, plan, now, warning.code, warning.message);
    }
    let action: string;
    if (outcome.next === 'complete') {
      apply(plan, finished('completed', now, null));
      tx.afterCommit(() => this.logger.log(`Rollout plan ${id} (${plan.flag} in ${plan.environment}) completed`));
      await this.history(tx, plan, { type: 'completed', actor: system.name, stepIndex: plan.step_index, verdict });
      action = 'complete';
    } else if (outcome.next === 'await-approval') {
      apply(plan, awaitingApproval());
      await this.history(tx, plan, { type: 'awaiting-approval', actor: system.name, stepIndex: index + 1, verdict });
      action = 'await-approval';
    } else {
      const config = await this.step(tx, plan, outcome.stepIndex, now, verdict);
      const { percentage } = plan.steps[outcome.stepIndex]!;
      tx.afterCommit(() =>
        this.logger.debug(`Rollout plan ${id} wrote step ${outcome.stepIndex + 1}/${plan.steps.length} (${percentage} %) at revision ${config.revision}`),
      );
      action = 'step';
    }
    await this.recordAction(tx, system, action, plan, before, await this.save(tx, plan, now));
  }

  /** A plan the scheduler paused is audited as a pause by the system (a `rollout.paused` event). */
  private async recordHold(tx: WriteTransaction, plan: PlanRow, before: RolloutPlanView, now: Date, reason: string): Promise<void> {
    const after = await this.save(tx, plan, now);
    if (before.state !== after.state) await this.recordAction(tx, planActor(plan.id), 'pause', plan, before, after, reason);
  }

  private async suspend(tx: WriteTransaction, id: string, message: string): Promise<void> {
    const plan = await this.lock(tx, id);
    if (!isGuarded(plan.state)) return;
    const before = toPlanView(plan);
    const now = await this.plans.now(tx.manager);
    await this.hold(tx, plan, now, 'step-failed', message);
    await this.recordHold(tx, plan, before, now, message);
  }

  /** Pauses a plan that cannot go on by itself, with a warning saying why (`held`). */
  private async hold(tx: WriteTransaction, plan: PlanRow, now: Date, code: PlanWarningView['code'], message: string): Promise<void> {
    const wasRunning = plan.state === 'running';
    apply(plan, held(plan.state, message));
    await this.warn(tx, plan, now, code, message);
    if (wasRunning) await this.history(tx, plan, { type: 'paused', actor: planActor(plan.id).name, reason: message });
  }

  private async flagEnabled(tx: WriteTransaction, plan: PlanRow): Promise<boolean> {
    const config = await this.plans.flagConfig(tx.manager, plan.environment_id, plan.flag_id);
    return config?.enabled === true;
  }

  private async start(tx: WriteTransaction, plan: PlanRow, now: Date, by: string, reason?: string): Promise<void> {
    apply(plan, started(now, plan.guards.length > 0));
    await this.history(tx, plan, { type: 'started', actor: by, reason });
    const config = await this.step(tx, plan, 0, now, null, reason);
    if (!config.enabled) {
      await this.warn(tx, plan, now, 'flag-disabled', `flag "${plan.flag}" is off in "${plan.environment}": no one is exposed until it is revived`);
    }
  }

  /** Writes step `index`'s percentage through the rollout dial, in this transaction. */
  private async step(tx: WriteTransaction, plan: PlanRow, index: number, now: Date, verdict: GuardVerdictView | null, note?: string): Promise<FlagConfigView> {
    const { percentage } = plan.steps[index]!;
    const reason = `rollout plan step ${index + 1}/${plan.steps.length}: ${percentage} %${note ? ` (${note})` : ''}`;
    const config = await this.configs.rolloutIn(tx, plan.environment, plan.flag, { percentage, ruleId: plan.rule_id, reason });
    apply(plan, stepped(plan.steps, index, now, plan.max_hold_seconds));
    // Its hold counts from `now`, and so does its history entry: the gaps between steps read
    // exactly as the holds.
    await this.history(tx, plan, { type: 'step', actor: tx.actor.name, stepIndex: index, percentage, revision: config.revision, reason: note, verdict, at: now });
    return config;
  }

  private async rollBack(tx: WriteTransaction, plan: PlanRow, now: Date, reason: string, by: string, verdict: GuardVerdictView | null): Promise<void> {
    const config = await this.configs.killIn(tx, plan.environment, plan.flag, reason);
    apply(plan, finished('rolled-back', now, reason));
    await this.history(tx, plan, { type: 'rolled-back', actor: by, stepIndex: plan.step_index, revision: config.revision, reason, verdict });
    tx.afterCommit(() => this.logger.warn(`Rollout plan ${plan.id} (${plan.flag} in ${plan.environment}) rolled back: ${reason}`));
  }

  private async warn(tx: WriteTransaction, plan: PlanRow, now: Date, code: PlanWarningView['code'], message: string): Promise<void> {
    const stepIndex = plan.step_index;
    if (plan.warnings.some((w) => w.code === code && w.stepIndex === stepIndex && w.message === message)) return;
    plan.warnings = [...plan.warnings, { code, stepIndex, at: now.toISOString(), message }];
    await this.history(tx, plan, { type: 'warning', actor: planActor(plan.id).name, stepIndex, reason: `${code}: ${message}` });
    tx.afterCommit(() => this.logger.warn(`Rollout plan ${plan.id} (${plan.flag} in ${plan.environment}): ${code}: ${message}`));
  }

  private async lock(tx: WriteTransaction, id: string): Promise<PlanRow> {
    const plan = await this.plans.lock(tx.manager, id);
    if (!plan) throw new NotFoundException(`No rollout plan "${id}"`);
    return plan;
  }

  private async history(tx: WriteTransaction, plan: PlanRow, entry: HistoryEntry): Promise<void> {
    const counted = STEP_ACTIONS[entry.type];
    if (counted) tx.afterCommit(() => this.serverMetrics.rolloutSteps.inc({ environment: plan.environment, action: counted }));
    await this.plans.addHistory(tx.manager, plan.id, entry);
    // Whatever goes into the history is a change the dashboard shows: tell it once, after commit,
    // with the state the write ends in.
    if (!this.announced.has(tx)) {
      this.announced.add(tx);
      tx.afterCommit(() =>
        this.notices.committed({ environment: plan.environment, environmentId: plan.environment_id, plan: plan.id, flag: plan.flag, state: plan.state }),
      );
    }
  }

  private async save(tx: WriteTransaction, plan: PlanRow, now: Date): Promise<RolloutPlanView> {
    plan.updated_at = now;
    await this.plans.save(tx.manager, plan);
    return toPlanView(plan);
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The plan history entries counted in `aviary_rollout_steps_total`, by their action label. */
const STEP_ACTIONS: Partial<Record<string, RolloutStepAction>> = {
  started: 'started',
  step: 'advanced',
  'awaiting-approval': 'awaiting-approval',
  completed: 'completed',
  paused: 'paused',
  'rolled-back': 'rolled-back',
};

/** Who writes a plan's steps and kills, in the audit log; the request id ties it to the call. */
function planActor(id: string, caller?: Actor): Actor {
  return { keyId: null, name: `rollout-plan:${id}`, requestId: caller?.requestId };
}

function checkPlan(dto: CreateRolloutPlanDto): void {
  const issues: FieldError[] = [];
  const narrowing = firstNarrowingStep(dto.steps);
  if (narrowing !== undefined) {
    issues.push({ path: `steps[${narrowing}].percentage`, message: `must not be below the previous step's (${dto.steps[narrowing - 1]!.percentage})` });
  }
  dto.steps.forEach((step, i) => {
    if (step.maxHoldSeconds !== undefined && step.maxHoldSeconds < step.holdSeconds) {
      issues.push({ path: `steps[${i}].maxHoldSeconds`, message: `must be at least the step's holdSeconds (${step.holdSeconds})` });
    }
  });
  const longest = dto.steps.findIndex((step) => step.maxHoldSeconds === undefined && dto.maxHoldSeconds !== undefined && dto.maxHoldSeconds < step.holdSeconds);
  if (longest >= 0) {
    issues.push({ path: 'maxHoldSeconds', message: `must be at least the holdSeconds of every step that sets no maxHoldSeconds (steps[${longest}].holdSeconds is ${dto.steps[longest]!.holdSeconds})` });
  }
  if (dto.guard && dto.guards) issues.push({ path: 'guards', message: 'give either guard or guards, not both' });
  const guards = dto.guards ? dto.guards.map((g, i) => [g, `guards[${i}]`] as const) : dto.guard ? [[dto.guard, 'guard'] as const] : [];
  for (const [guard, path] of guards) {
    if (guard.metric !== undefined) {
      for (const field of ['numerator', 'denominator'] as const) {
        if (guard[field] !== undefined) issues.push({ path: `${path}.${field}`, message: 'a mean guard (with metric) has no numerator or denominator' });
      }
    } else if (guard.numerator === guard.denominator) {
      issues.push({ path: `${path}.denominator`, message: 'must name another event than the numerator' });
    }
  }
  if (issues.length > 0) throw new ValidationFailedException(issues);
}

/** Why a step could not be judged, with the counts: `step 1 (1 %) held 240 s without the guard's
 *  verdict: exposed 12 of 100 "request" events needed, control 900 of 100`. */
function insufficientEvidence(plan: PlanRow, step: PlanStep, index: number, verdict: GuardVerdictView | null, now: Date): string {
  const held = (now.getTime() - plan.step_started_at!.getTime()) / 1000;
  const looks = verdict ? (verdict.guards ?? [verdict]) : [];
  const waiting = plan.guards.flatMap((guard, i) => {
    const look = looks[i];
    if (!look || look.status !== 'insufficient-data') return [];
    const n = (arm: GuardLookView['exposed']) => ('count' in arm ? arm.count : arm.denominator);
    return [`exposed ${n(look.exposed)} of ${guard.minSamples} "${trafficEvent(guard)}" events needed, control ${n(look.control)} of ${guard.minSamples}`];
  });
  const counts = waiting.length > 0 ? waiting.join('; ') : 'no look yet';
  return `step ${index + 1} (${step.percentage} %) held ${Math.round(held)} s without the guard's verdict (${counts}); paused instead of widening`;
}

function activePlanConflict(flag: string, environment: string, active?: { id: string; state: string }): ConflictException {
  const which = active ? `: ${active.id} (${active.state})` : '';
  return new ConflictException(`Flag "${flag}" already has an active rollout plan in "${environment}"${which}; cancel it or let it finish first`);
}

function apply(plan: PlanRow, changes: PlanChanges): void {
  Object.assign(plan, changes);
}
