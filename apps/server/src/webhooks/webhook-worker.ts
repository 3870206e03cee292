import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Counter, Gauge } from 'prom-client';
import { Webhook } from 'standardwebhooks';
import type { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { ChangeLogService } from '../changes/change-log.service.js';
import { SYSTEM_ACTOR } from '../common/actor.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { sql } from '../database/sql.js';
import { ServerMetrics } from '../observability/server-metrics.js';
import { dashboardLink, type WebhookPayload } from './events.js';
import { type Attempt, send } from './send.js';
import { SecretBox } from './secrets.js';
import { slackMessage } from './slack.js';

/** Deliveries are retried for this long after their event, then the subscription is disabled. */
export const RETRY_FOR_MS = 24 * 3600_000;
/** Or after this many failed attempts in a row, whichever comes first. */
export const MAX_CONSECUTIVE_FAILURES = 50;
const MAX_BACKOFF_MS = 3600_000;
/** Longer than a delivery's timeout: a claim outlives its attempt unless the instance died. */
const LEASE_SECONDS = 15;
const BATCH = 20;

interface Claimed {
  id: string;
  webhook_id: string;
  attempts: number;
  url: string;
  format: 'standard' | 'slack';
  secret: Buffer;
  /** A rotated-out secret that still signs, until its 24 h are over. */
  previous_secret: Buffer | null;
  payload: WebhookPayload;
  event_created_at: Date;
  consecutive_failures: number;
}

/** The delay before retry `attempt` (1-based): about a second doubling to an hour, with full
 *  jitter over its upper half, so failing receivers are not hit by every instance at once. */
export function backoffMs(attempt: number, baseMs: number, random = Math.random): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * Delivers the outbox, in every instance. Deliveries are claimed with a lease in a short
 * transaction (`FOR UPDATE SKIP LOCKED`, so instances never claim the same one) and sent outside
 * it; an instance that dies mid-delivery leaves a lease that expires, and another one sends the
 * delivery again with the same `webhook-id`. Per subscription and environment only the oldest
 * pending delivery is ever claimed, so receivers see events in revision order.
 */
@Injectable()
export class WebhookWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Webhooks');
  readonly secrets: SecretBox;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private stopped = false;
  /** Whether an enabled subscription existed at the last poll. */
  private subscribed = true;
  private readonly outcomes: Counter<'outcome'>;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    metrics: ServerMetrics,
    private readonly changes: ChangeLogService,
  ) {
    this.secrets = new SecretBox(() => this.dataSource.manager, config.secretKey);
    this.outcomes = new Counter({
      name: 'aviary_webhook_deliveries_total',
      help: 'Webhook delivery attempts by this instance, by outcome (delivered, failed, refused)',
      labelNames: ['outcome'],
      registers: [metrics.registry],
    });
    // One query serves both gauges of a scrape.
    let read: { at: number; rows: Promise<Array<{ depth: number; oldest: number | null }>> } | undefined;
    const queue = () => {
      if (read === undefined || Date.now() - read.at > 1000) {
        read = {
          at: Date.now(),
          rows: sql(
            dataSource.manager,
            "SELECT count(*)::int AS depth, extract(epoch FROM now() - min(created_at))::float AS oldest FROM webhook_deliveries WHERE state = 'pending'",
          ),
        };
      }
      return read.rows;
    };
    new Gauge({
      name: 'aviary_webhook_queue_depth',
      help: 'Webhook deliveries not yet delivered (whole installation)',
      registers: [metrics.registry],
      async collect() {
        this.set((await queue())[0]?.depth ?? 0);
      },
    });
    new Gauge({
      name: 'aviary_webhook_oldest_pending_seconds',
      help: 'Age of the oldest webhook delivery not yet delivered (0: none)',
      registers: [metrics.registry],
      async collect() {
        this.set((await queue())[0]?.oldest ?? 0);
      },
    });
  }

  onApplicationBootstrap(): void {
    // A write's events go out at once (when any subscription exists: a write costs no extra
    // query otherwise); the poll finds retries, other instances' events and new subscriptions.
    this.changes.onCommitted(() => {
      if (this.subscribed) this.wake();
    });
    this.timer = setInterval(() => void this.poll(), this.config.webhooks.pollMs);
    this.timer.unref();
    this.wake();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  private async poll(): Promise<void> {
    try {
      const [row] = await sql<{ any: boolean }>(this.dataSource.manager, 'SELECT EXISTS (SELECT 1 FROM webhooks WHERE enabled) AS any');
      this.subscribed = row?.any === true;
    } catch {
      // Postgres is away: the round below fails too, and says so.
    }
    if (this.subscribed) this.wake();
  }

  /** A subscription was created or enabled here: deliver for it from the next write on. */
  subscriptionAdded(): void {
    this.subscribed = true;
  }

  /** Runs a round now (or right after the current one). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .catch((err: Error) => this.logger.warn(`delivery round failed: ${err.message}`))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  /** Claims and sends until nothing is due. */
  private async drain(): Promise<void> {
    while (!this.stopped) {
      const claimed = await this.claim();
      if (claimed.length === 0) return;
      await Promise.all(claimed.map((delivery) => this.deliver(delivery)));
    }
  }

  private claim(): Promise<Claimed[]> {
    return sql<Claimed>(
      this.dataSource.manager,
      `WITH due AS (
         SELECT d.id FROM webhook_deliveries d
           JOIN webhook_events e ON e.id = d.event_id
           JOIN webhooks w ON w.id = d.webhook_id AND w.enabled
          WHERE d.state = 'pending' AND d.next_attempt_at <= now()
            AND (d.leased_until IS NULL OR d.leased_until < now())
            AND NOT EXISTS (
              SELECT 1 FROM webhook_deliveries p JOIN webhook_events pe ON pe.id = p.event_id
               WHERE p.webhook_id = d.webhook_id AND p.state = 'pending' AND p.seq < d.seq
                 AND pe.environment IS NOT DISTINCT FROM e.environment)
          ORDER BY d.seq LIMIT ${BATCH}
          FOR UPDATE OF d SKIP LOCKED
       )
       UPDATE webhook_deliveries d SET leased_until = now() + interval '${LEASE_SECONDS} seconds', attempts = d.attempts + 1
         FROM due, webhook_events e, webhooks w
        WHERE d.id = due.id AND e.id = d.event_id AND w.id = d.webhook_id
       RETURNING d.id, d.webhook_id, d.attempts, w.url, w.format, w.secret, w.consecutive_failures, e.payload, e.created_at AS event_created_at,
                 CASE WHEN w.previous_secret_until > now() THEN w.previous_secret END AS previous_secret`,
    );
  }

  private async deliver(delivery: Claimed): Promise<void> {
    // The link is made at delivery, so a changed AVIARY_PUBLIC_URL applies to queued events too.
    const event = { ...delivery.payload, link: dashboardLink(this.config.publicUrl, delivery.payload) };
    const body = JSON.stringify(delivery.format === 'slack' ? slackMessage(event) : event);
    const headers = await this.signed(delivery, body);
    const attempt = await send(delivery.url, headers, body, this.config.webhooks.allowPrivate);
    const ok = attempt.status !== undefined && attempt.status >= 200 && attempt.status < 300;
    this.outcomes.inc({ outcome: ok ? 'delivered' : attempt.refused ? 'refused' : 'failed' });
    if (ok) await this.succeeded(delivery, attempt);
    else await this.failed(delivery, attempt);
  }

  /** The Standard Webhooks headers (`standardwebhooks`), the event id as `webhook-id`; after a
   *  rotation, a signature with each of the two secrets, the new one first (a verifier accepts
   *  any one of them). Slack ignores them; they cost nothing there. */
  private async signed(delivery: Claimed, body: string): Promise<Record<string, string>> {
    const at = new Date();
    const secrets = delivery.previous_secret === null ? [delivery.secret] : [delivery.secret, delivery.previous_secret];
    const signatures = await Promise.all(secrets.map(async (sealed) => new Webhook(await this.secrets.open(sealed)).sign(delivery.payload.id, at, body)));
    return {
      'webhook-id': delivery.payload.id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': signatures.join(' '),
    };
  }

  private async succeeded(delivery: Claimed, attempt: Attempt): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await sql(
        manager,
        `UPDATE webhook_deliveries SET state = 'delivered', delivered_at = now(), leased_until = NULL,
                last_status = $2, last_latency_ms = $3, last_response = $4, last_error = NULL WHERE id = $1`,
        [delivery.id, attempt.status, attempt.latencyMs, attempt.response],
      );
      await sql(manager, 'UPDATE webhooks SET consecutive_failures = 0 WHERE id = $1 AND consecutive_failures <> 0', [delivery.webhook_id]);
    });
  }

  private async failed(delivery: Claimed, attempt: Attempt): Promise<void> {
    const error = attempt.error ?? `answered ${attempt.status}`;
    const failures = delivery.consecutive_failures + 1;
    const expired = Date.now() - delivery.event_created_at.getTime() > RETRY_FOR_MS;
    const giveUp = expired || failures >= MAX_CONSECUTIVE_FAILURES;
    const next = new Date(Date.now() + backoffMs(delivery.attempts, this.config.webhooks.retryBaseMs));
    await this.dataSource.transaction(async (manager) => {
      await sql(
        manager,
        `UPDATE webhook_deliveries SET state = $2, next_attempt_at = $3, leased_until = NULL,
                last_status = $4, last_latency_ms = $5, last_response = $6, last_error = $7 WHERE id = $1`,
        [delivery.id, expired ? 'failed' : 'pending', next, attempt.status ?? null, attempt.latencyMs, attempt.response, error],
      );
      await sql(manager, 'UPDATE webhooks SET consecutive_failures = $2 WHERE id = $1', [delivery.webhook_id, failures]);
      if (!giveUp) return;
      const reason = expired
        ? `deliveries kept failing for 24 h (last: ${error})`
        : `${failures} deliveries failed in a row (last: ${error})`;
      const [disabled] = await sql<{ id: string; url: string }>(
        manager,
        `UPDATE webhooks SET enabled = false, disabled_reason = $2, updated_at = now() WHERE id = $1 AND enabled RETURNING id, url`,
        [delivery.webhook_id, reason],
      );
      if (disabled) {
        this.logger.warn(`webhook ${disabled.id} (${disabled.url}) disabled: ${reason}`);
        await this.audit.record(manager, SYSTEM_ACTOR, { action: 'webhook.disable', resourceType: 'webhook', resourceKey: disabled.id, after: { enabled: false }, reason });
      }
    });
  }
}
