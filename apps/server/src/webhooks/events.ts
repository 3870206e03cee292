import { randomUUID } from 'node:crypto';
import type { AuditEntry } from '../audit/audit.service.js';
import type { Actor } from '../common/actor.js';

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
  /** `webhook.test` only for `POST /api/v1/webhooks/:id/test`, which no one subscribes to. */
  type: WebhookEventType | 'webhook.test';
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
  /** The dashboard's page for it (`AVIARY_PUBLIC_URL`); added when the event is delivered. */
  link?: string;
}

/** What a subscriber receives for an audit entry. */
export function webhookPayload(type: WebhookPayload['type'], actor: Actor, entry: AuditEntry, at: Date): WebhookPayload {
  return {
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
}

/** The dashboard's page of an event's resource, under `publicUrl` (docs/webhooks.md lists them). */
export function dashboardLink(publicUrl: string, event: Pick<WebhookPayload, 'resource' | 'environment' | 'before' | 'after'>): string {
  const key = encodeURIComponent(event.resource.key);
  const env = event.environment === null ? '' : `?env=${encodeURIComponent(event.environment)}`;
  switch (event.resource.type) {
    case 'flag':
    case 'flag-config':
      return `${publicUrl}/flags/${key}${env}`;
    case 'cohort':
    case 'cohort-members':
      return `${publicUrl}/cohorts/${key}`;
    case 'rollout-plan': {
      // Audited under the flag's key; the plan's view carries its id.
      const plan = (event.after ?? event.before) as { id?: unknown } | null;
      return typeof plan?.id === 'string' ? `${publicUrl}/rollouts/${encodeURIComponent(plan.id)}` : `${publicUrl}/flags/${key}${env}`;
    }
    case 'api-key':
      return `${publicUrl}/api-keys`;
    case 'person':
      return `${publicUrl}/people`;
    case 'webhook':
      return `${publicUrl}/webhooks/${key}`;
    default:
      return `${publicUrl}/audit`;
  }
}

/** The webhook event an audit entry is, if it is one. */
export function webhookEventOf(actor: Actor, entry: AuditEntry, at: Date): WebhookPayload | undefined {
  const type = EVENT_OF_ACTION[entry.action] ?? (roleChanged(entry) ? 'person.role-changed' : undefined);
  return type === undefined ? undefined : webhookPayload(type, actor, entry, at);
}

/**
 * The outbox, as the tail of the statement that writes the event's audit entry (`AuditService`):
 * when some enabled subscription wants the event, one event row and one delivery row per such
 * subscription, in the write's own transaction. So a write that rolls back sends nothing, a
 * committed one is delivered even if this instance dies right after the commit, and a write
 * costs no extra round trip. Its parameters (`outboxParams`) start at `$first`.
 */
export function outboxStatement(first: number): string {
  const [id, type, environment, payload] = [first, first + 1, first + 2, first + 3].map((n) => `$${n}`);
  return `targets AS (
       SELECT id FROM webhooks
        WHERE enabled AND (${type} = ANY(events) OR '*' = ANY(events))
          AND (environments IS NULL OR ${environment}::text IS NULL OR ${environment} = ANY(environments))
     ), event AS (
       INSERT INTO webhook_events (id, type, environment, payload)
       SELECT ${id}, ${type}, ${environment}, ${payload} WHERE EXISTS (SELECT 1 FROM targets)
       RETURNING id, seq
     )
     INSERT INTO webhook_deliveries (webhook_id, event_id, seq)
     SELECT targets.id, event.id, event.seq FROM targets, event`;
}

export function outboxParams(event: WebhookPayload): unknown[] {
  return [event.id, event.type, event.environment, JSON.stringify(event)];
}

function roleChanged(entry: AuditEntry): boolean {
  const role = (value: unknown) => (value as { role?: unknown } | null | undefined)?.role;
  return entry.resourceType === 'person' && entry.before !== undefined && role(entry.before) !== role(entry.after);
}

function actorOf(actor: Actor): WebhookPayload['actor'] {
  if (actor.personId) return { type: 'person', id: actor.personId, name: actor.name, ...(actor.email ? { email: actor.email } : {}) };
  return { type: actor.keyId === null ? 'system' : 'key', id: actor.keyId, name: actor.name };
}
