import { randomUUID } from 'node:crypto';
import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { Actor } from '../common/actor.js';
import { type Page, type PageQuery, toPage } from '../common/paging.js';
import { ChangeLogService } from '../changes/change-log.service.js';
import type { EnvironmentRow, WriteTransaction } from '../changes/write-transaction.js';
import { sql } from '../database/sql.js';
import type { CreateEnvironmentDto, EnvironmentView, UpdateEnvironmentDto } from './dto/environment.dto.js';

const COLUMNS = 'id, key, name, description, revision::int AS revision, created_at, updated_at';

@Injectable()
export class EnvironmentsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly changes: ChangeLogService,
  ) {}

  async list(query: PageQuery): Promise<Page<EnvironmentView>> {
    const limit = query.limit ?? 100;
    const rows = await sql<EnvironmentRow>(
      this.dataSource.manager,
      `SELECT ${COLUMNS} FROM environments WHERE ($1::text IS NULL OR key > $1) ORDER BY key LIMIT $2`,
      [query.cursor ?? null, limit + 1],
    );
    return toPage(rows.map(toView), limit, (last) => last.key);
  }

  async get(key: string): Promise<EnvironmentView> {
    const [row] = await sql<EnvironmentRow>(this.dataSource.manager, `SELECT ${COLUMNS} FROM environments WHERE key = $1`, [key]);
    if (!row) throw new NotFoundException(`No environment "${key}"`);
    return toView(row);
  }

  create(actor: Actor, dto: CreateEnvironmentDto): Promise<EnvironmentView> {
    return this.changes.write(actor, (tx) => this.createIn(tx, dto));
  }

  /** Also used on first start. A new environment is at revision 1, a `ruleset` change: its
   *  flags all start disabled. */
  async createIn(tx: WriteTransaction, dto: CreateEnvironmentDto): Promise<EnvironmentView> {
    await tx.lockEnvironmentSet();
    const [existing] = await sql(tx.manager, 'SELECT 1 FROM environments WHERE key = $1', [dto.key]);
    if (existing) throw new ConflictException(`An environment "${dto.key}" already exists`);
    const [row] = await sql<EnvironmentRow>(
      tx.manager,
      `INSERT INTO environments (id, key, name, description) VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`,
      [randomUUID(), dto.key, dto.name ?? dto.key, dto.description ?? ''],
    );
    row.revision = await tx.commitRevision(row, 'ruleset', {});
    const view = toView(row);
    await tx.record({
      action: 'environment.create',
      resourceType: 'environment',
      resourceKey: row.key,
      environment: row.key,
      revision: row.revision,
      after: view,
      reason: dto.reason,
    });
    return view;
  }

  update(actor: Actor, key: string, dto: UpdateEnvironmentDto): Promise<EnvironmentView> {
    return this.changes.write(actor, async (tx) => {
      const before = await tx.lockEnvironment(key);
      const [row] = await sql<EnvironmentRow>(
        tx.manager,
        `UPDATE environments SET name = COALESCE($2, name), description = COALESCE($3, description), updated_at = now()
          WHERE id = $1 RETURNING ${COLUMNS}`,
        [before.id, dto.name ?? null, dto.description ?? null],
      );
      row.revision = await tx.commitRevision(row, 'change', {});
      const view = toView(row);
      await tx.record({
        action: 'environment.update',
        resourceType: 'environment',
        resourceKey: key,
        environment: key,
        revision: row.revision,
        before: toView(before),
        after: view,
        reason: dto.reason,
      });
      return view;
    });
  }

  /** Deletes the environment with its flag configs and change log. Refused while API keys are
   *  bound to it: revoke them first. */
  remove(actor: Actor, key: string, reason?: string): Promise<void> {
    return this.changes.write(actor, async (tx) => {
      await tx.lockEnvironmentSet();
      const env = await tx.lockEnvironment(key);
      const [keys] = await sql<{ n: number }>(
        tx.manager,
        'SELECT count(*)::int AS n FROM api_keys WHERE environment_id = $1 AND revoked_at IS NULL',
        [env.id],
      );
      if (keys.n > 0) throw new ConflictException(`Environment "${key}" still has ${keys.n} active API key(s): revoke them first`);
      await sql(tx.manager, 'DELETE FROM environments WHERE id = $1', [env.id]);
      await tx.record({
        action: 'environment.delete',
        resourceType: 'environment',
        resourceKey: key,
        environment: key,
        revision: env.revision,
        before: toView(env),
        reason,
      });
    });
  }
}

export function toView(row: EnvironmentRow): EnvironmentView {
  return {
    key: row.key,
    name: row.name,
    description: row.description,
    revision: Number(row.revision),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}
