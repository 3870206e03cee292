import { BadRequestException, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { Actor } from '../common/actor.js';
import { type Page, toPage } from '../common/paging.js';
import { sql } from '../database/sql.js';
import { isUuid } from '../common/uuid.js';
import { outboxParams, outboxStatement, webhookEventOf } from '../webhooks/events.js';
import type { AuditQuery } from './dto/audit-query.dto.js';

/** One audit entry as a write describes it. */
export interface AuditEntry {
  action: string;
  resourceType: 'environment' | 'flag' | 'flag-config' | 'cohort' | 'cohort-members' | 'api-key' | 'rollout-plan' | 'webhook' | 'person';
  resourceKey: string;
  environment?: string | null;
  revision?: number | null;
  /** For writes that move several environments: each environment's new revision. */
  revisions?: Record<string, number> | null;
  before?: unknown;
  after?: unknown;
  reason?: string | null;
}

export interface AuditEvent extends Required<Omit<AuditEntry, 'resourceType'>> {
  id: string;
  createdAt: string;
  /** A person's id and email (through a session), or a key's id and name, or the system. */
  actor: { via: 'session' | 'key' | 'system'; personId: string | null; email: string | null; keyId: string | null; name: string };
  resourceType: string;
  requestId: string | null;
}

interface AuditRow {
  id: string;
  created_at: Date;
  actor_key_id: string | null;
  actor_name: string;
  actor_person_id: string | null;
  actor_email: string | null;
  actor_via: 'session' | 'key' | 'system' | null;
  action: string;
  resource_type: string;
  resource_key: string;
  environment: string | null;
  revision: string | null;
  revisions: Record<string, number> | null;
  before: unknown;
  after: unknown;
  reason: string | null;
  request_id: string | null;
}

@Injectable()
export class AuditService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Records an entry inside the write's own transaction, and in the same statement the webhook
   *  event it is, if any. */
  async record(manager: EntityManager, actor: Actor, entry: AuditEntry): Promise<void> {
    const insert = `INSERT INTO audit_events (actor_key_id, actor_name, action, resource_type, resource_key, environment,
         revision, revisions, before, after, reason, request_id, actor_person_id, actor_email, actor_via)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`;
    const params = [
      actor.keyId,
      actor.name,
      entry.action,
      entry.resourceType,
      entry.resourceKey,
      entry.environment ?? null,
      entry.revision ?? null,
      entry.revisions ? JSON.stringify(entry.revisions) : null,
      entry.before === undefined ? null : JSON.stringify(entry.before),
      entry.after === undefined ? null : JSON.stringify(entry.after),
      entry.reason ?? null,
      actor.requestId ?? null,
      actor.personId ?? null,
      actor.email ?? null,
      actor.via ?? (actor.keyId ? 'key' : 'system'),
    ];
    const event = webhookEventOf(actor, entry, new Date());
    if (event === undefined) await sql(manager, insert, params);
    else await sql(manager, `WITH audited AS (${insert} RETURNING id), ${outboxStatement(params.length + 1)}`, [...params, ...outboxParams(event)]);
  }

  /** Newest first, filtered, paged by id. */
  async list(query: AuditQuery): Promise<Page<AuditEvent>> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (clause: string, value: unknown) => {
      params.push(value);
      where.push(clause.replaceAll('?', `$${params.length}`));
    };
    if (query.cursor !== undefined) {
      if (!/^\d{1,18}$/.test(query.cursor)) throw new BadRequestException('cursor: must be the nextCursor of a previous page');
      add('id < ?', query.cursor);
    }
    if (query.action) add('action = ?', query.action);
    if (query.resourceType) add('resource_type = ?', query.resourceType);
    if (query.resource) add('resource_key = ?', query.resource);
    if (query.environment) add('environment = ?', query.environment);
    if (query.actor) add('(actor_name = ? OR actor_key_id::text = ?)', query.actor);
    if (query.person) add(isUuid(query.person) ? 'actor_person_id = ?::uuid' : 'lower(actor_email) = lower(?)', query.person);
    if (query.since) add('created_at >= ?', query.since);
    if (query.until) add('created_at < ?', query.until);
    const limit = query.limit ?? 100;
    params.push(limit + 1);
    const rows = await sql<AuditRow>(
      this.dataSource.manager,
      `SELECT * FROM audit_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT $${params.length}`,
      params,
    );
    return toPage(rows.map(toEvent), limit, (last) => last.id);
  }
}

function toEvent(row: AuditRow): AuditEvent {
  return {
    id: String(row.id),
    createdAt: row.created_at.toISOString(),
    actor: {
      // Rows from before people existed have no via: a key wrote them, or the system.
      via: row.actor_via ?? (row.actor_key_id ? 'key' : 'system'),
      personId: row.actor_person_id,
      email: row.actor_email,
      keyId: row.actor_key_id,
      name: row.actor_name,
    },
    action: row.action,
    resourceType: row.resource_type,
    resourceKey: row.resource_key,
    environment: row.environment,
    revision: row.revision === null ? null : Number(row.revision),
    revisions: row.revisions,
    before: row.before,
    after: row.after,
    reason: row.reason,
    requestId: row.request_id,
  };
}

