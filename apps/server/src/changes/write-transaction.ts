import { NotFoundException } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { AuditEntry, AuditService } from '../audit/audit.service.js';
import type { Actor } from '../common/actor.js';
import { sql } from '../database/sql.js';
import type { ChangeKind, RulesetChange, RulesetPatch } from './change.js';

export interface EnvironmentRow {
  id: string;
  key: string;
  name: string;
  description: string;
  revision: number;
  created_at: Date;
  updated_at: Date;
}

const ENV_COLUMNS = 'id, key, name, description, revision::int AS revision, created_at, updated_at';

/** One write: its rows, one revision per environment it moves, its change-log rows and its audit
 *  event, all in one database transaction. Environments are always locked first, in id order,
 *  so concurrent writes serialise per environment and never deadlock. */
export class WriteTransaction {
  constructor(
    readonly manager: EntityManager,
    readonly actor: Actor,
    private readonly audit: AuditService,
    private readonly changes: RulesetChange[],
  ) {}

  /** Locks one environment for this write; 404 when it does not exist. */
  async lockEnvironment(key: string): Promise<EnvironmentRow> {
    const [env] = await sql<EnvironmentRow>(this.manager, `SELECT ${ENV_COLUMNS} FROM environments WHERE key = $1 FOR UPDATE`, [key]);
    if (!env) throw new NotFoundException(`No environment "${key}"`);
    return env;
  }

  /** Locks every environment, for writes that change all rulesets (flags, cohorts). */
  async lockAllEnvironments(): Promise<EnvironmentRow[]> {
    return sql<EnvironmentRow>(this.manager, `SELECT ${ENV_COLUMNS} FROM environments ORDER BY id FOR UPDATE`);
  }

  /** Excludes every other write while environments are created or deleted, so a concurrent
   *  flag or cohort write never misses an environment. */
  async lockEnvironmentSet(): Promise<void> {
    await sql(this.manager, 'LOCK TABLE environments IN EXCLUSIVE MODE');
  }

  /** Bumps the environment's revision by exactly one and logs the patch for the stream. */
  async commitRevision(env: { id: string; key: string }, kind: ChangeKind, body: Omit<RulesetPatch, 'revision'>): Promise<number> {
    // One statement: the bump and its change-log row (the patch gets its revision in SQL).
    const [row] = await sql<{ revision: number }>(
      this.manager,
      `WITH bumped AS (UPDATE environments SET revision = revision + 1 WHERE id = $1 RETURNING revision)
       INSERT INTO changes (environment_id, revision, kind, patch)
       SELECT $1, revision, $2, jsonb_build_object('revision', revision) || $3::jsonb FROM bumped
       RETURNING revision::int AS revision`,
      [env.id, kind, JSON.stringify(body)],
    );
    const patch: RulesetPatch = { revision: row.revision, ...body };
    this.changes.push({ environment: env.key, environmentId: env.id, revision: row.revision, kind, patch });
    return row.revision;
  }

  /** Moves every given environment by one revision with a patch built for each. */
  async commitRevisions(
    envs: Array<{ id: string; key: string }>,
    kind: ChangeKind,
    bodyFor: (env: { id: string; key: string }) => Promise<Omit<RulesetPatch, 'revision'>> | Omit<RulesetPatch, 'revision'>,
  ): Promise<Record<string, number>> {
    const revisions: Record<string, number> = {};
    for (const env of envs) revisions[env.key] = await this.commitRevision(env, kind, await bodyFor(env));
    return revisions;
  }

  async record(entry: AuditEntry): Promise<void> {
    await this.audit.record(this.manager, this.actor, entry);
  }

  /** Work for once this write has committed (log lines, counters), in the order given; a write
   *  that rolls back never runs it. */
  afterCommit(fn: () => void): void {
    this.afterCommitted.push(fn);
  }

  /** Runs the after-commit work; ChangeLogService calls it once the transaction has committed.
   *  A failing callback is reported to `onError` and the rest still run: committed is committed. */
  runAfterCommit(onError: (err: unknown) => void): void {
    for (const fn of this.afterCommitted) {
      try {
        fn();
      } catch (err) {
        onError(err);
      }
    }
  }

  /** For writes whose author is known only inside them (a person's first single sign-on). */
  async recordAs(actor: Actor, entry: AuditEntry): Promise<void> {
    await this.audit.record(this.manager, { ...actor, requestId: this.actor.requestId }, entry);
  }

  private readonly afterCommitted: Array<() => void> = [];
}
