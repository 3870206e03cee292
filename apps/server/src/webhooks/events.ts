import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { AuditEntry } from '../audit/audit.service.js';
import type { Actor } from '../common/actor.js';
import { sql } from '../database/sql.js';

/** The events a subscription may ask for (`*`: all). */
export const WEBHOOK_EVENTS = [
  'flag.created', 'flag.updated', 'flag.archived', 'flag.config.updated', 'flag.killed', 'flag.revived',
  'cohort.updated', 'rollout.started', 'rollout.step', 'rollout.paused', 'rollout.awaiting-approval',
  'rollout.rolled-back', 'rollout.completed', 'api-key.created', 'api-key.revoked', 'person.invited', 'person.role-changed', 'webhook.disabled',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

/** Audit actions that are webhook events; the others (an environment renamed, a key's origins)
 *  are only audited. */
const EVENT_OF_ACTION: Record<string, WebhookEventType> = {
  'flag.create': 'flag.created',
  'flag.update': 'flag.updated',
  'flag.archive': 'flag.archived',
  'flag-config.update': 'flag.config.updated',
  'flag-config.rollout': 'flag.config.updated',
  'flag-config.kill': 'flag.killed',
  'flag-config.revive': 'flag.revived',
  'cohort.create': 'cohort.updated',
  'cohort.update': 'cohort.updated',
  'cohort.members': 'cohort.updated',
  'cohort.delete': 'cohort.updated',
  'api-key.create': 'api-key.created',
  'api-key.revoke': 'api-key.revoked',
  'webhook.disable': 'webhook.disabled',
  'person.invite': 'person.invited',
  // A person's plan actions; the scheduler's own steps and verdicts are not audited as actions yet.
  'rollout-plan.start': 'rollout.started',
  'rollout-plan.pause': 'rollout.paused',
  'rollout-plan.rollback': 'rollout.rolled-back',
};

/** What every delivery of one event carries (the body of a `standard` delivery). */
export interface WebhookPayload {
  /** The idempotency key: the same on every attempt and redelivery. */
  id: string;
  type: WebhookEventType;
  time: string;
  environment: string | null;
  revision: number | null;
  /** Writes that move several environments (flags, cohorts): each one's new revision. */
  revisions: Record<string, number> | null;
  /** A person (through a session) or an API key; `system` for the server's own work. */
  actor: { type: 'person' | 'key' | 'system'; id: string | null; name: string; email?: string };
  resource: { type: string; key: string };
  action: string;
  reason: string | null;
  before: unknown;
  after: unknown;
  requestId: string | null;
}

/**
 * The outbox: called inside the write's transaction with its audit entry. When the entry is an
 * event some enabled subscription wants, one event row and one delivery row per such subscription
 * are written in the same statement, so a write that rolls back sends nothing and a committed
 * one is delivered even if this instance dies right after the commit.
 */
export async function enqueueWebhookEvent(manager: EntityManager, actor: Actor, entry: AuditEntry, at: Date): Promise<void> {
  const type = EVENT_OF_ACTION[entry.action] ?? (roleChanged(entry) ? 'person.role-changed' : undefined);
  if (type === undefined) return;
  const payload: WebhookPayload = {
    id: randomUUID(),
    type,
    time: at.toISOString(),
    environment: entry.environment ?? null,
    revision: entry.revision ?? null,
    revisions: entry.revisions ?? null,
    actor: actorOf(actor),
    resource: { type: entry.resourceType, key: entry.resourceKey },
    action: entry.action,
    reason: entry.reason ?? null,
    before: entry.before ?? null,
    after: entry.after ?? null,
    requestId: actor.requestId ?? null,
  };
  await sql(
    manager,
    `WITH targets AS (
       SELECT id FROM webhooks
        WHERE enabled AND ($2 = ANY(events) OR '*' = ANY(events))
          AND (environments IS NULL OR $3::text IS NULL OR $3 = ANY(environments))
     ), event AS (
       INSERT INTO webhook_events (id, type, environment, payload)
       SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM targets)
       RETURNING id, seq
     )
     INSERT INTO webhook_deliveries (webhook_id, event_id, seq)
     SELECT targets.id, event.id, event.seq FROM targets, event`,
    [payload.id, type, payload.environment, JSON.stringify(payload)],
  );
}

function roleChanged(entry: AuditEntry): boolean {
  const role = (value: unknown) => (value as { role?: unknown } | null | undefined)?.role;
  return entry.resourceType === 'person' && entry.before !== undefined && role(entry.before) !== role(entry.after);
}

function actorOf(actor: Actor): WebhookPayload['actor'] {
  if (actor.personId) return { type: 'person', id: actor.personId, name: actor.name, ...(actor.email ? { email: actor.email } : {}) };
  return { type: actor.keyId === null ? 'system' : 'key', id: actor.keyId, name: actor.name };
}
