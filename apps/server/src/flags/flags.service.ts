import { randomUUID } from 'node:crypto';
import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type Flag, type Variant, validateFlag } from '@aviary/core';
import type { DataSource, EntityManager } from 'typeorm';
import type { Actor } from '../common/actor.js';
import { type Page, type PageQuery, toPage } from '../common/paging.js';
import { ValidationFailedException } from '../common/validation-failed.exception.js';
import { ChangeLogService } from '../changes/change-log.service.js';
import type { WriteTransaction } from '../changes/write-transaction.js';
import { sql } from '../database/sql.js';
import { RulesetService } from '../ruleset/ruleset.service.js';
import { assertDefinitionETag } from './definition-etag.js';
import type { CreateFlagDto, FlagView, UpdateFlagDto } from './dto/flag.dto.js';

export interface FlagRow {
  id: string;
  key: string;
  name: string;
  description: string;
  tags: string[];
  variants: Variant[];
  client_visible: boolean;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'id, key, name, description, tags, variants, client_visible, created_at, updated_at';

/** Flag definitions, shared by all environments. Every write moves every environment by one
 *  revision, since each environment's ruleset carries the definition's variants. */
@Injectable()
export class FlagsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly changes: ChangeLogService,
    private readonly rulesets: RulesetService,
  ) {}

  async list(query: PageQuery & { tag?: string }): Promise<Page<FlagView>> {
    const limit = query.limit ?? 100;
    const rows = await sql<FlagRow>(
      this.dataSource.manager,
      `SELECT ${COLUMNS} FROM flags
        WHERE archived_at IS NULL AND ($1::text IS NULL OR key > $1) AND ($2::text IS NULL OR $2 = ANY(tags))
        ORDER BY key LIMIT $3`,
      [query.cursor ?? null, query.tag ?? null, limit + 1],
    );
    return toPage(rows.map(toView), limit, (last) => last.key);
  }

  /** The definition plus, per environment, whether it is on and its config version. */
  async get(key: string): Promise<FlagView & { environments: Record<string, { enabled: boolean; version: number }> }> {
    const row = await findLiveFlag(this.dataSource.manager, key);
    const envs = await sql<{ key: string; enabled: boolean; version: number }>(
      this.dataSource.manager,
      `SELECT e.key, COALESCE(c.enabled, false) AS enabled, COALESCE(c.version, 1) AS version
         FROM environments e LEFT JOIN flag_configs c ON c.environment_id = e.id AND c.flag_id = $1 ORDER BY e.key`,
      [row.id],
    );
    return { ...toView(row), environments: Object.fromEntries(envs.map((e) => [e.key, { enabled: e.enabled, version: e.version }])) };
  }

  create(actor: Actor, dto: CreateFlagDto): Promise<FlagView> {
    return this.changes.write(actor, async (tx) => {
      const envs = await tx.lockAllEnvironments();
      const [existing] = await sql(tx.manager, 'SELECT 1 FROM flags WHERE key = $1 AND archived_at IS NULL', [dto.key]);
      if (existing) throw new ConflictException(`A flag "${dto.key}" already exists`);
      const variants = plain(dto.variants ?? []);
      checkVariants(dto.key, variants);
      const [row] = await sql<FlagRow>(
        tx.manager,
        `INSERT INTO flags (id, key, name, description, tags, variants, client_visible)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
        [randomUUID(), dto.key, dto.name ?? dto.key, dto.description ?? '', dto.tags ?? [], JSON.stringify(variants), dto.clientVisible ?? false],
      );
      const view = toView(row);
      const revisions = await this.publishFlag(tx, envs, row.key, row.client_visible);
      await tx.record({ action: 'flag.create', resourceType: 'flag', resourceKey: row.key, revisions, after: view, reason: dto.reason });
      return view;
    });
  }

  update(actor: Actor, key: string, ifMatch: string | undefined, dto: UpdateFlagDto): Promise<FlagView> {
    return this.changes.write(actor, async (tx) => {
      const envs = await tx.lockAllEnvironments();
      const before = await findLiveFlag(tx.manager, key, true);
      assertDefinitionETag(ifMatch, toView(before));
      const variants = dto.variants === undefined ? before.variants : plain(dto.variants);
      if (dto.variants !== undefined) {
        checkVariants(key, variants);
        await this.assertVariantsUnused(tx.manager, before, variants);
      }
      if (dto.clientVisible !== undefined && dto.clientVisible !== before.client_visible) await this.assertVisibilityConsistent(tx.manager, before, dto.clientVisible);
      const [row] = await sql<FlagRow>(
        tx.manager,
        `UPDATE flags SET name = COALESCE($2, name), description = COALESCE($3, description), tags = COALESCE($4, tags),
                variants = $5, client_visible = COALESCE($6, client_visible), updated_at = now()
          WHERE id = $1 RETURNING ${COLUMNS}`,
        [before.id, dto.name ?? null, dto.description ?? null, dto.tags ?? null, JSON.stringify(variants), dto.clientVisible ?? null],
      );
      const view = toView(row);
      const revisions = await this.publishFlag(tx, envs, key, row.client_visible);
      await tx.record({ action: 'flag.update', resourceType: 'flag', resourceKey: key, revisions, before: toView(before), after: view, reason: dto.reason });
      return view;
    });
  }

  /** Archives the flag: it leaves every ruleset (patch `null`) and frees its key. Refused while
   *  another flag names it as a prerequisite. */
  archive(actor: Actor, key: string, reason?: string): Promise<void> {
    return this.changes.write(actor, async (tx) => {
      const envs = await tx.lockAllEnvironments();
      const row = await findLiveFlag(tx.manager, key, true);
      const dependents = await sql<{ flag: string; environment: string }>(
        tx.manager,
        `SELECT f.key AS flag, e.key AS environment FROM flag_configs c
           JOIN flags f ON f.id = c.flag_id AND f.archived_at IS NULL
           JOIN environments e ON e.id = c.environment_id
          WHERE c.prerequisites @> $1::jsonb`,
        [JSON.stringify([{ flag: key }])],
      );
      if (dependents.length > 0) {
        const list = dependents.map((d) => `${d.flag} (${d.environment})`).join(', ');
        throw new ConflictException(`Flag "${key}" is a prerequisite of ${list}: remove it there first`);
      }
      await sql(tx.manager, 'UPDATE flags SET archived_at = now(), updated_at = now() WHERE id = $1', [row.id]);
      const revisions = await tx.commitRevisions(envs, 'change', () => ({ flags: { [key]: null } }));
      await tx.record({ action: 'flag.archive', resourceType: 'flag', resourceKey: key, revisions, before: toView(row), reason });
    });
  }

  /** Moves every environment by one revision with the flag as it now is there (and whether
   *  client keys may see it, which the stream strips before sending). */
  private publishFlag(tx: WriteTransaction, envs: Array<{ id: string; key: string }>, key: string, clientVisible: boolean): Promise<Record<string, number>> {
    return tx.commitRevisions(envs, 'change', async (env) => {
      const flags = await this.rulesets.flags(tx.manager, env.id, [key]);
      return { flags: { [key]: flags[key] as Flag }, clientVisible: { [key]: clientVisible } };
    });
  }

  /** Browsers get only client-visible flags, so a client-visible flag's prerequisites must be
   *  client-visible too, in every environment. */
  private async assertVisibilityConsistent(manager: EntityManager, flag: FlagRow, visible: boolean): Promise<void> {
    if (visible) {
      const hidden = await sql<{ key: string }>(
        manager,
        `SELECT DISTINCT t.key FROM flag_configs c
           CROSS JOIN LATERAL jsonb_array_elements(c.prerequisites) p
           JOIN flags t ON t.key = p->>'flag' AND t.archived_at IS NULL AND NOT t.client_visible
          WHERE c.flag_id = $1 ORDER BY t.key`,
        [flag.id],
      );
      if (hidden.length > 0) {
        throw new ValidationFailedException([
          { path: 'clientVisible', message: `its prerequisites ${hidden.map((h) => `"${h.key}"`).join(', ')} are not client-visible: make them client-visible first` },
        ]);
      }
    } else {
      const dependents = await sql<{ key: string }>(
        manager,
        `SELECT DISTINCT f.key FROM flag_configs c JOIN flags f ON f.id = c.flag_id AND f.archived_at IS NULL AND f.client_visible
          WHERE c.prerequisites @> $1::jsonb ORDER BY f.key`,
        [JSON.stringify([{ flag: flag.key }])],
      );
      if (dependents.length > 0) {
        throw new ConflictException(`Client-visible flags ${dependents.map((d) => `"${d.key}"`).join(', ')} need "${flag.key}" as a prerequisite: it must stay client-visible`);
      }
    }
  }

  /** Removing a variant that some rule or prerequisite still serves would break those flags. */
  private async assertVariantsUnused(manager: EntityManager, flag: FlagRow, next: Variant[]): Promise<void> {
    const kept = new Set(next.map((v) => v.key));
    const removed = flag.variants.map((v) => v.key).filter((k) => !kept.has(k));
    if (removed.length === 0) return;
    const configs = await sql<{ flag: string; environment: string; rules: Flag['rules']; prerequisites: Flag['prerequisites'] }>(
      manager,
      `SELECT f.key AS flag, e.key AS environment, c.rules, c.prerequisites FROM flag_configs c
         JOIN flags f ON f.id = c.flag_id AND f.archived_at IS NULL
         JOIN environments e ON e.id = c.environment_id
        WHERE c.flag_id = $1 OR c.prerequisites @> $2::jsonb`,
      [flag.id, JSON.stringify([{ flag: flag.key }])],
    );
    const uses: string[] = [];
    for (const c of configs) {
      if (c.flag === flag.key) {
        (c.rules ?? []).forEach((r, i) => {
          if (r.variant && removed.includes(r.variant)) uses.push(`${c.environment}: rules[${i}].variant`);
          (r.split ?? []).forEach((s, j) => removed.includes(s.variant) && uses.push(`${c.environment}: rules[${i}].split[${j}].variant`));
        });
      }
      (c.prerequisites ?? []).forEach((p, i) => {
        if (p.flag === flag.key && (p.variants ?? []).some((v) => removed.includes(v))) {
          uses.push(`${c.environment}: ${c.flag} prerequisites[${i}].variants`);
        }
      });
    }
    if (uses.length > 0) {
      throw new ConflictException(`Variant(s) ${removed.join(', ')} of "${flag.key}" are still used by ${uses.join(', ')}`);
    }
  }
}

export async function findLiveFlag(manager: EntityManager, key: string, lock = false): Promise<FlagRow> {
  const [row] = await sql<FlagRow>(
    manager,
    `SELECT ${COLUMNS} FROM flags WHERE key = $1 AND archived_at IS NULL${lock ? ' FOR UPDATE' : ''}`,
    [key],
  );
  if (!row) throw new NotFoundException(`No flag "${key}"`);
  return row;
}

function checkVariants(key: string, variants: Variant[]): void {
  const issues = validateFlag({ key, enabled: false, variants }, { strict: true }).filter((i) => i.path.startsWith('variants'));
  if (issues.length > 0) throw new ValidationFailedException(issues);
}

/** Strips class instances and undefined fields before a value is stored as JSON. */
export function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

export function toView(row: FlagRow): FlagView {
  return {
    key: row.key,
    name: row.name,
    description: row.description,
    tags: row.tags,
    variants: row.variants,
    clientVisible: row.client_visible,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}
