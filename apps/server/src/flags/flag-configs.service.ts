import { Injectable, NotFoundException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type Flag, type Prerequisite, type Rule, validateFlag } from '@aviary/core';
import type { DataSource } from 'typeorm';
import type { Actor } from '../common/actor.js';
import { assertVersion } from '../common/if-match.js';
import { type FieldError, ValidationFailedException } from '../common/validation-failed.exception.js';
import { ChangeLogService } from '../changes/change-log.service.js';
import type { ChangeKind } from '../changes/change.js';
import type { EnvironmentRow, WriteTransaction } from '../changes/write-transaction.js';
import { sql } from '../database/sql.js';
import { storedPatterns } from '../patterns/stored-patterns.js';
import { FLAG_CONFIG_DEFAULTS, RulesetService, toSdkFlag } from '../ruleset/ruleset.service.js';
import type { FlagConfigDto, FlagConfigView, RolloutDialDto } from './dto/flag-config.dto.js';
import { findLiveFlag, type FlagRow, plain } from './flags.service.js';

interface ConfigRow {
  enabled: boolean;
  salt: string;
  rules: Rule[];
  prerequisites: Prerequisite[];
  version: number;
  updated_at: Date | null;
}

interface Edit {
  action: string;
  kind: ChangeKind;
  reason?: string;
  /** The new config from the current one; omitted fields keep their value. */
  change: (current: ConfigRow) => Partial<Pick<ConfigRow, 'enabled' | 'salt' | 'rules' | 'prerequisites'>>;
}

/** A flag's config in one environment: enabled (the kill switch), rules, prerequisites, salt,
 *  and the `version` that `If-Match` guards. */
@Injectable()
export class FlagConfigsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly changes: ChangeLogService,
    private readonly rulesets: RulesetService,
  ) {}

  async get(environmentKey: string, flagKey: string): Promise<FlagConfigView> {
    return this.dataSource.transaction('REPEATABLE READ', async (manager) => {
      const [env] = await sql<EnvironmentRow>(manager, 'SELECT id, key, revision::int AS revision FROM environments WHERE key = $1', [environmentKey]);
      if (!env) throw new NotFoundException(`No environment "${environmentKey}"`);
      const flag = await findLiveFlag(manager, flagKey);
      return toView(env, flag, await readConfig(manager, env.id, flag));
    });
  }

  /** PUT: replace the given fields. */
  update(actor: Actor, env: string, flag: string, ifMatch: number | undefined, dto: FlagConfigDto): Promise<FlagConfigView> {
    const given = plain({ enabled: dto.enabled, salt: dto.salt, rules: dto.rules, prerequisites: dto.prerequisites }) as Partial<ConfigRow>;
    return this.edit(actor, env, flag, ifMatch, {
      action: 'flag-config.update',
      kind: given.enabled === false ? 'kill' : 'change',
      reason: dto.reason,
      change: () => given,
    });
  }

  kill(actor: Actor, env: string, flag: string, ifMatch: number | undefined, reason?: string): Promise<FlagConfigView> {
    return this.edit(actor, env, flag, ifMatch, killEdit(reason));
  }

  /** The kill switch inside a write that is already open (a rollout plan's guard). */
  killIn(tx: WriteTransaction, env: string, flag: string, reason?: string): Promise<FlagConfigView> {
    return this.editIn(tx, env, flag, undefined, killEdit(reason));
  }

  revive(actor: Actor, env: string, flag: string, ifMatch: number | undefined, reason?: string): Promise<FlagConfigView> {
    return this.edit(actor, env, flag, ifMatch, { action: 'flag-config.revive', kind: 'change', reason, change: () => ({ enabled: true }) });
  }

  /** The canary dial: sets one rule's rollout percentage. With no rule id, the flag's only rule;
   *  a flag without rules gets one rule `rollout` for everyone at that percentage. */
  rollout(actor: Actor, env: string, flag: string, ifMatch: number | undefined, dto: RolloutDialDto): Promise<FlagConfigView> {
    return this.edit(actor, env, flag, ifMatch, rolloutEdit(dto));
  }

  /** The canary dial inside a write that is already open (a rollout plan's step). */
  rolloutIn(tx: WriteTransaction, env: string, flag: string, dto: RolloutDialDto): Promise<FlagConfigView> {
    return this.editIn(tx, env, flag, undefined, rolloutEdit(dto));
  }

  private edit(actor: Actor, environmentKey: string, flagKey: string, ifMatch: number | undefined, edit: Edit): Promise<FlagConfigView> {
    return this.changes.write(actor, (tx) => this.editIn(tx, environmentKey, flagKey, ifMatch, edit));
  }

  private async editIn(tx: WriteTransaction, environmentKey: string, flagKey: string, ifMatch: number | undefined, edit: Edit): Promise<FlagConfigView> {
    const { env, flag, current } = await lockForEdit(tx, environmentKey, flagKey);
    assertVersion(ifMatch, current.version);
    const changed = edit.change(current);
    const next: ConfigRow = {
      enabled: changed.enabled ?? current.enabled,
      salt: changed.salt ?? current.salt,
      rules: changed.rules ?? current.rules,
      prerequisites: changed.prerequisites ?? current.prerequisites,
      version: current.version + 1,
      updated_at: null,
    };
    await this.validate(tx, env, flag, next, storedPatterns(current.rules.map((r) => r.conditions)));
    const [saved] = await sql<ConfigRow>(
      tx.manager,
      `INSERT INTO flag_configs (environment_id, flag_id, enabled, salt, rules, prerequisites, version)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (environment_id, flag_id) DO UPDATE SET enabled = $3, salt = $4, rules = $5, prerequisites = $6,
              version = $7, updated_at = now()
       RETURNING enabled, salt, rules, prerequisites, version, updated_at`,
      [env.id, flag.id, next.enabled, next.salt, JSON.stringify(next.rules), JSON.stringify(next.prerequisites), next.version],
    );
    const sdkFlag = toSdkFlag({ key: flag.key, variants: flag.variants, ...saved });
    env.revision = await tx.commitRevision(env, edit.kind, { flags: { [flag.key]: sdkFlag }, clientVisible: { [flag.key]: flag.client_visible } });
    await tx.record({
      action: edit.action,
      resourceType: 'flag-config',
      resourceKey: flag.key,
      environment: env.key,
      revision: env.revision,
      before: toSdkFlag({ key: flag.key, variants: flag.variants, ...current }),
      after: sdkFlag,
      reason: edit.reason,
    });
    return toView(env, flag, saved);
  }

  /** Semantic checks through `@aviary/core` against the environment as it is inside this
   *  transaction, plus what core cannot see: prerequisite variants exist. */
  private async validate(tx: WriteTransaction, env: EnvironmentRow, flag: FlagRow, next: ConfigRow, stored: ReadonlySet<string>): Promise<void> {
    const candidate: Flag = toSdkFlag({ key: flag.key, variants: flag.variants, ...next });
    const references = await this.rulesets.references(tx.manager, env.id, candidate);
    references.flags[flag.key] = candidate;
    const issues: FieldError[] = validateFlag(candidate, { strict: true, ruleset: references, key: flag.key, storedPatterns: stored });
    next.prerequisites.forEach((p, i) => {
      const target = references.flags[p.flag];
      if (!target || !p.variants) return;
      const known = new Set((target.variants ?? []).map((v) => v.key));
      p.variants.forEach((v, j) => {
        if (!known.has(v)) issues.push({ path: `prerequisites[${i}].variants[${j}]`, message: `names no variant of flag "${p.flag}" ("${v}")` });
      });
    });
    if (flag.client_visible && next.prerequisites.length > 0) {
      // Browsers get only client-visible flags: they could not evaluate a hidden prerequisite.
      const hidden = await sql<{ key: string }>(
        tx.manager,
        'SELECT key FROM flags WHERE key = ANY($1) AND NOT client_visible AND archived_at IS NULL',
        [next.prerequisites.map((p) => p.flag)],
      );
      const hiddenKeys = new Set(hidden.map((h) => h.key));
      next.prerequisites.forEach((p, i) => {
        if (hiddenKeys.has(p.flag)) {
          issues.push({ path: `prerequisites[${i}].flag`, message: `flag "${p.flag}" is not client-visible, so browsers could not evaluate this client-visible flag: make it client-visible too` });
        }
      });
    }
    if (issues.length > 0) throw new ValidationFailedException(dedupe(issues));
  }
}

function killEdit(reason?: string): Edit {
  return { action: 'flag-config.kill', kind: 'kill', reason, change: () => ({ enabled: false }) };
}

function rolloutEdit(dto: RolloutDialDto): Edit {
  return {
    action: 'flag-config.rollout',
    kind: 'change',
    reason: dto.reason,
    change: (current) => {
      const rules = plain(current.rules);
      if (rules.length === 0 && dto.ruleId === undefined) {
        return { rules: [{ id: 'rollout', conditions: [], rollout: { percentage: dto.percentage } }] };
      }
      let index: number;
      if (dto.ruleId === undefined) {
        if (rules.length > 1) throw new ValidationFailedException([{ path: 'ruleId', message: `is required: the flag has ${rules.length} rules` }]);
        index = 0;
      } else {
        index = rules.findIndex((r) => r.id === dto.ruleId);
        if (index < 0) throw new ValidationFailedException([{ path: 'ruleId', message: `names no rule of the flag ("${dto.ruleId}")` }]);
      }
      rules[index] = { ...rules[index], rollout: { ...rules[index].rollout, percentage: dto.percentage } };
      return { rules };
    },
  };
}

/** Locks the environment, then reads the flag and its config there in one round trip (a write
 *  holds the environment's lock for as short as it can). The read is its own statement: in READ
 *  COMMITTED only a statement that starts after the lock is granted sees the previous writer's
 *  config (a joined `FOR UPDATE OF` would recheck the environment row but not the config). */
async function lockForEdit(tx: WriteTransaction, environmentKey: string, flagKey: string): Promise<{ env: EnvironmentRow; flag: FlagRow; current: ConfigRow }> {
  const env = await tx.lockEnvironment(environmentKey);
  const [row] = await sql<{ f: FlagRow; c: ConfigRow | null }>(
    tx.manager,
    `SELECT to_jsonb(f) AS f, to_jsonb(c) AS c
       FROM flags f LEFT JOIN flag_configs c ON c.environment_id = $1 AND c.flag_id = f.id
      WHERE f.key = $2 AND f.archived_at IS NULL`,
    [env.id, flagKey],
  );
  if (!row) throw new NotFoundException(`No flag "${flagKey}"`);
  const { f, c } = row;
  const flag: FlagRow = { ...f, created_at: new Date(f.created_at), updated_at: new Date(f.updated_at) };
  const current: ConfigRow = c
    ? { enabled: c.enabled, salt: c.salt, rules: c.rules, prerequisites: c.prerequisites, version: c.version, updated_at: c.updated_at ? new Date(c.updated_at) : null }
    : { ...FLAG_CONFIG_DEFAULTS, salt: flag.key, updated_at: null };
  return { env, flag, current };
}

async function readConfig(manager: WriteTransaction['manager'], environmentId: string, flag: FlagRow): Promise<ConfigRow> {
  const [row] = await sql<ConfigRow>(
    manager,
    'SELECT enabled, salt, rules, prerequisites, version, updated_at FROM flag_configs WHERE environment_id = $1 AND flag_id = $2',
    [environmentId, flag.id],
  );
  return row ?? { ...FLAG_CONFIG_DEFAULTS, salt: flag.key, updated_at: null };
}

function toView(env: Pick<EnvironmentRow, 'key' | 'revision'>, flag: FlagRow, config: ConfigRow): FlagConfigView {
  return {
    flag: flag.key,
    environment: env.key,
    enabled: config.enabled,
    salt: config.salt,
    rules: config.rules as FlagConfigView['rules'],
    prerequisites: config.prerequisites as FlagConfigView['prerequisites'],
    version: Number(config.version),
    revision: Number(env.revision),
    updatedAt: config.updated_at ? config.updated_at.toISOString() : null,
  };
}

function dedupe(issues: FieldError[]): FieldError[] {
  const seen = new Set<string>();
  return issues.filter((i) => (seen.has(i.path) ? false : (seen.add(i.path), true)));
}

