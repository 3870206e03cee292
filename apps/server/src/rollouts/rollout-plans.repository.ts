import { Injectable } from '@nestjs/common';
import type { Rule } from '@aviary/core';
import type { EntityManager } from 'typeorm';
import { pgCode, PG_UNIQUE_VIOLATION, sql } from '../database/sql.js';
import type { GuardVerdictView } from './dto/rollout-plan.dto.js';
import { ACTIVE_STATES, type InsufficientDataPolicy, type PlanState, type PlanStep } from './plan-lifecycle.js';
import type { HistoryRow, PlanRow, StoredGuard } from './rollout-plan.js';

const PLAN_SELECT = `SELECT p.*, COALESCE(p.guard, '[]'::jsonb) AS guards, e.key AS environment, f.key AS flag
                       FROM rollout_plans p
                       JOIN environments e ON e.id = p.environment_id
                       JOIN flags f ON f.id = p.flag_id`;
const ACTIVE_SQL = ACTIVE_STATES.map((s) => `'${s}'`).join(', ');
const DUE_SQL = `((p.state = 'running' AND p.next_step_at <= clock_timestamp()) OR p.next_check_at <= clock_timestamp())`;

export interface NewPlan {
  id: string;
  environmentId: string;
  flagId: string;
  ruleId: string;
  steps: PlanStep[];
  guards: StoredGuard[];
  requireApproval: boolean;
  maxHoldSeconds: number | null;
  onInsufficientData: InsufficientDataPolicy;
  createdBy: string;
}

export interface HistoryEntry {
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

/** The flag config columns a plan reads about its flag. */
export interface PlanFlagConfig {
  enabled: boolean;
  rules: Rule[];
  prerequisites: unknown[];
}

/** The SQL of rollout plans and their history. Every method runs on the manager it is given (a
 *  write's transaction, or the data source's for reads); none decides an HTTP status. */
@Injectable()
export class RolloutPlansRepository {
  async environmentId(manager: EntityManager, key: string): Promise<string | undefined> {
    const [env] = await sql<{ id: string }>(manager, 'SELECT id FROM environments WHERE key = $1', [key]);
    return env?.id;
  }

  async flagConfig(manager: EntityManager, environmentId: string, flagId: string): Promise<PlanFlagConfig | undefined> {
    const [config] = await sql<PlanFlagConfig>(
      manager,
      'SELECT enabled, rules, prerequisites FROM flag_configs WHERE environment_id = $1 AND flag_id = $2',
      [environmentId, flagId],
    );
    return config;
  }

  /** The flag's plan in an active state, if any. */
  async activePlan(manager: EntityManager, environmentId: string, flagId: string): Promise<{ id: string; state: PlanState } | undefined> {
    const [active] = await sql<{ id: string; state: PlanState }>(
      manager,
      `SELECT id, state FROM rollout_plans WHERE environment_id = $1 AND flag_id = $2 AND state IN (${ACTIVE_SQL})`,
      [environmentId, flagId],
    );
    return active;
  }

  /** Inserts a pending plan; false when the flag has an active plan already (created at the same moment). */
  async insert(manager: EntityManager, plan: NewPlan): Promise<boolean> {
    try {
      await sql(
        manager,
        `INSERT INTO rollout_plans (id, environment_id, flag_id, rule_id, state, steps, guard, require_approval, created_by,
                                    max_hold_seconds, on_insufficient_data)
         VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7, $8, $9, $10)`,
        [plan.id, plan.environmentId, plan.flagId, plan.ruleId, JSON.stringify(plan.steps), plan.guards.length > 0 ? JSON.stringify(plan.guards) : null,
          plan.requireApproval, plan.createdBy, plan.maxHoldSeconds, plan.onInsufficientData],
      );
      return true;
    } catch (err) {
      if (pgCode(err) === PG_UNIQUE_VIOLATION) return false;
      throw err;
    }
  }

  /** One page of a flag's plans (all flags' with `flagId` null), newest first, after the plan `cursor` names. */
  list(manager: EntityManager, environmentId: string, flagId: string | null, cursor: string | null, limit: number): Promise<PlanRow[]> {
    return sql<PlanRow>(
      manager,
      `${PLAN_SELECT} WHERE p.environment_id = $1 AND ($2::uuid IS NULL OR p.flag_id = $2)
          AND ($3::uuid IS NULL OR (p.created_at, p.id) < (SELECT created_at, id FROM rollout_plans WHERE id = $3))
        ORDER BY p.created_at DESC, p.id DESC LIMIT $4`,
      [environmentId, flagId, cursor, limit],
    );
  }

  async find(manager: EntityManager, id: string): Promise<PlanRow | undefined> {
    const [row] = await sql<PlanRow>(manager, `${PLAN_SELECT} WHERE p.id = $1`, [id]);
    return row;
  }

  /** Locks the plan's row for this write. */
  async lock(manager: EntityManager, id: string): Promise<PlanRow | undefined> {
    const [row] = await sql<PlanRow>(manager, `${PLAN_SELECT} WHERE p.id = $1 FOR UPDATE OF p`, [id]);
    return row;
  }

  /** Locks the plan's row if it still has work due and no other instance holds it. */
  async lockIfDue(manager: EntityManager, id: string): Promise<PlanRow | undefined> {
    // SKIP LOCKED: a plan another instance is working on is its business; once it commits, the
    // plan is no longer due, so each step fires exactly once.
    const [row] = await sql<PlanRow>(manager, `${PLAN_SELECT} WHERE p.id = $1 AND ${DUE_SQL} FOR UPDATE OF p SKIP LOCKED`, [id]);
    return row;
  }

  /** Plans with a step or a guard look due, soonest first. */
  async due(manager: EntityManager, limit: number): Promise<string[]> {
    const rows = await sql<{ id: string }>(
      manager,
      `SELECT p.id FROM rollout_plans p WHERE ${DUE_SQL}
        ORDER BY LEAST(COALESCE(p.next_step_at, 'infinity'), COALESCE(p.next_check_at, 'infinity')) LIMIT $1`,
      [limit],
    );
    return rows.map((r) => r.id);
  }

  /** When another plan on the same flag last finished, at or after `since`. */
  async previousFinish(manager: EntityManager, plan: PlanRow, since: Date): Promise<Date | null> {
    const [previous] = await sql<{ finished: Date | null }>(
      manager,
      'SELECT max(finished_at) AS finished FROM rollout_plans WHERE flag_id = $1 AND environment_id = $2 AND id <> $3 AND finished_at >= $4',
      [plan.flag_id, plan.environment_id, plan.id, since],
    );
    return previous?.finished ?? null;
  }

  history(manager: EntityManager, id: string): Promise<HistoryRow[]> {
    return sql<HistoryRow>(
      manager,
      'SELECT at, type, step_index, percentage, revision, actor, reason, verdict FROM rollout_plan_history WHERE plan_id = $1 ORDER BY id',
      [id],
    );
  }

  async addHistory(manager: EntityManager, planId: string, entry: HistoryEntry): Promise<void> {
    await sql(
      manager,
      `INSERT INTO rollout_plan_history (plan_id, type, step_index, percentage, revision, actor, reason, verdict, at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, COALESCE($9, clock_timestamp()))`,
      [planId, entry.type, entry.stepIndex ?? null, entry.percentage ?? null, entry.revision ?? null, entry.actor, entry.reason ?? null,
        entry.verdict ? JSON.stringify(entry.verdict) : null, entry.at ?? null],
    );
  }

  /** Writes the plan's mutable columns back, `updated_at` included. */
  async save(manager: EntityManager, plan: PlanRow): Promise<void> {
    await sql(
      manager,
      `UPDATE rollout_plans SET state = $2, step_index = $3, started_at = $4, step_started_at = $5, next_step_at = $6,
              paused_remaining_ms = $7, next_check_at = $8, looks = $9, verdict = $10, warnings = $11, reason = $12,
              finished_at = $13, updated_at = $14, evidence_deadline_at = $15
        WHERE id = $1`,
      [plan.id, plan.state, plan.step_index, plan.started_at, plan.step_started_at, plan.next_step_at, plan.paused_remaining_ms,
        plan.next_check_at, plan.looks, plan.verdict && JSON.stringify(plan.verdict), JSON.stringify(plan.warnings), plan.reason,
        plan.finished_at, plan.updated_at, plan.evidence_deadline_at],
    );
  }

  /** The database's clock, shared by every instance. */
  async now(manager: EntityManager): Promise<Date> {
    const [row] = await sql<{ now: Date }>(manager, 'SELECT clock_timestamp() AS now');
    return row!.now;
  }
}
