import { BadRequestException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomBytes, randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { ChangeLogService } from '../changes/change-log.service.js';
import type { WriteTransaction } from '../changes/write-transaction.js';
import type { Actor } from '../common/actor.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { sql } from '../database/sql.js';
import type { CreatedWebhookView, CreateWebhookDto, RotatedSecretView, UpdateWebhookDto, WebhookDeliveryView, WebhookView } from './dto/webhook.dto.js';
import { webhookPayload } from './events.js';
import { checkTarget } from './target-guard.js';
import { WebhookWorker } from './webhook-worker.js';

interface WebhookRow {
  id: string;
  url: string;
  description: string;
  events: string[];
  environments: string[] | null;
  format: string;
  enabled: boolean;
  disabled_reason: string | null;
  created_at: Date;
  updated_at: Date;
}

interface DeliveryRow {
  id: string;
  event_id: string;
  type: string;
  state: string;
  attempts: number;
  next_attempt_at: Date;
  last_status: number | null;
  last_latency_ms: number | null;
  last_response: string | null;
  last_error: string | null;
  created_at: Date;
  delivered_at: Date | null;
}

/** How long a rotated-out secret keeps signing. */
export const PREVIOUS_SECRET_HOURS = 24;

const COLUMNS = 'id, url, description, events, environments, format, enabled, disabled_reason, created_at, updated_at';

/** Subscriptions (admins only), their deliveries, redelivery and test events. */
@Injectable()
export class WebhooksService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly changes: ChangeLogService,
    private readonly worker: WebhookWorker,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async list(): Promise<WebhookView[]> {
    return (await sql<WebhookRow>(this.dataSource.manager, `SELECT ${COLUMNS} FROM webhooks ORDER BY created_at, id`)).map(toView);
  }

  async get(id: string): Promise<WebhookView> {
    return toView(await this.row(id));
  }

  async create(actor: Actor, dto: CreateWebhookDto): Promise<CreatedWebhookView> {
    await this.checkUrl(dto.url);
    const { secret, sealed } = await this.newSecret();
    const view = await this.changes.write(actor, async (tx) => {
      await this.checkEnvironments(tx, dto.environments);
      const [row] = await sql<WebhookRow>(
        tx.manager,
        `INSERT INTO webhooks (id, url, description, events, environments, format, enabled, secret)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${COLUMNS}`,
        [randomUUID(), dto.url, dto.description ?? '', dto.events, dto.environments ?? null, dto.format ?? 'standard', dto.enabled ?? true, sealed],
      );
      const view = toView(row!);
      await tx.record({ action: 'webhook.create', resourceType: 'webhook', resourceKey: view.id, after: view, reason: dto.reason });
      return view;
    });
    this.worker.subscriptionAdded();
    return { ...view, secret };
  }

  async update(actor: Actor, id: string, dto: UpdateWebhookDto): Promise<WebhookView> {
    if (dto.url !== undefined) await this.checkUrl(dto.url);
    return this.changes.write(actor, async (tx) => {
      const [before] = await sql<WebhookRow>(tx.manager, `SELECT ${COLUMNS} FROM webhooks WHERE id = $1 FOR UPDATE`, [id]);
      if (!before) throw new NotFoundException(`No webhook "${id}"`);
      await this.checkEnvironments(tx, dto.environments);
      const enabled = dto.enabled ?? before.enabled;
      const [row] = await sql<WebhookRow>(
        tx.manager,
        `UPDATE webhooks SET url = $2, description = $3, events = $4, environments = $5, format = $6, enabled = $7,
                disabled_reason = CASE WHEN $7 THEN NULL ELSE disabled_reason END,
                consecutive_failures = CASE WHEN $7 AND NOT enabled THEN 0 ELSE consecutive_failures END, updated_at = now()
          WHERE id = $1 RETURNING ${COLUMNS}`,
        [
          id,
          dto.url ?? before.url,
          dto.description ?? before.description,
          dto.events ?? before.events,
          dto.environments === undefined ? before.environments : dto.environments,
          dto.format ?? before.format,
          enabled,
        ],
      );
      const view = toView(row!);
      await tx.record({ action: 'webhook.update', resourceType: 'webhook', resourceKey: id, before: toView(before), after: view, reason: dto.reason });
      return view;
    }).then((view) => {
      this.worker.subscriptionAdded();
      this.worker.wake();
      return view;
    });
  }

  /**
   * A new signing secret, answered once. The old one keeps signing beside it for
   * `PREVIOUS_SECRET_HOURS`, so a receiver can deploy the new one without rejecting a delivery
   * (Standard Webhooks verifiers accept any one valid signature of the list). Rotating again
   * within that time drops the oldest: only the two newest ever sign.
   */
  async rotateSecret(actor: Actor, id: string, reason?: string): Promise<RotatedSecretView> {
    const { secret, sealed } = await this.newSecret();
    return this.changes.write(actor, async (tx) => {
      const [row] = await sql<WebhookRow & { previous_secret_until: Date }>(
        tx.manager,
        `UPDATE webhooks SET previous_secret = secret, previous_secret_until = now() + interval '${PREVIOUS_SECRET_HOURS} hours',
                secret = $2, updated_at = now()
          WHERE id = $1 RETURNING ${COLUMNS}, previous_secret_until`,
        [id, sealed],
      );
      if (!row) throw new NotFoundException(`No webhook "${id}"`);
      const previousSecretValidUntil = row.previous_secret_until.toISOString();
      await tx.record({ action: 'webhook.rotate-secret', resourceType: 'webhook', resourceKey: id, after: { previousSecretValidUntil }, reason });
      return { ...toView(row), secret, previousSecretValidUntil };
    });
  }

  async remove(actor: Actor, id: string, reason?: string): Promise<void> {
    await this.changes.write(actor, async (tx) => {
      const [row] = await sql<WebhookRow>(tx.manager, `DELETE FROM webhooks WHERE id = $1 RETURNING ${COLUMNS}`, [id]);
      if (!row) throw new NotFoundException(`No webhook "${id}"`);
      await tx.record({ action: 'webhook.delete', resourceType: 'webhook', resourceKey: id, before: toView(row), reason });
    });
  }

  /** The newest deliveries first (at most 100), with what each last attempt got. */
  async deliveries(id: string): Promise<WebhookDeliveryView[]> {
    await this.row(id);
    const rows = await sql<DeliveryRow>(
      this.dataSource.manager,
      `SELECT d.id, d.event_id, e.type, d.state, d.attempts, d.next_attempt_at, d.last_status, d.last_latency_ms,
              d.last_response, d.last_error, d.created_at, d.delivered_at
         FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
        WHERE d.webhook_id = $1 ORDER BY d.seq DESC LIMIT 100`,
      [id],
    );
    return rows.map((r) => ({
      id: r.id,
      eventId: r.event_id,
      type: r.type,
      state: r.state,
      attempts: r.attempts,
      status: r.last_status,
      latencyMs: r.last_latency_ms,
      response: r.last_response,
      error: r.last_error,
      nextAttemptAt: r.state === 'pending' ? r.next_attempt_at.toISOString() : null,
      createdAt: r.created_at.toISOString(),
      deliveredAt: r.delivered_at?.toISOString() ?? null,
    }));
  }

  /** Sends a delivery again, with the same event id (receivers deduplicate on it). */
  async redeliver(id: string, deliveryId: string): Promise<void> {
    const rows = await sql(
      this.dataSource.manager,
      `UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = now(), leased_until = NULL
        WHERE id = $1 AND webhook_id = $2 AND state <> 'pending' RETURNING id`,
      [deliveryId, id],
    );
    if (rows.length === 0) {
      const [pending] = await sql(this.dataSource.manager, 'SELECT 1 FROM webhook_deliveries WHERE id = $1 AND webhook_id = $2', [deliveryId, id]);
      if (!pending) throw new NotFoundException(`No delivery "${deliveryId}" of webhook "${id}"`);
    }
    this.worker.wake();
  }

  /** Queues a `webhook.test` event that only this subscription gets. */
  async test(actor: Actor, id: string): Promise<{ eventId: string }> {
    await this.row(id);
    const payload = webhookPayload('webhook.test', actor, { action: 'webhook.test', resourceType: 'webhook', resourceKey: id, reason: 'a test event' }, new Date());
    await sql(
      this.dataSource.manager,
      `WITH event AS (INSERT INTO webhook_events (id, type, environment, payload) VALUES ($1, $2, NULL, $3) RETURNING id, seq)
       INSERT INTO webhook_deliveries (webhook_id, event_id, seq) SELECT $4, id, seq FROM event`,
      [payload.id, payload.type, JSON.stringify(payload), id],
    );
    this.worker.wake();
    return { eventId: payload.id };
  }

  /** Standard Webhooks secrets: "whsec_" and base64 of 24 to 64 random bytes. */
  private async newSecret(): Promise<{ secret: string; sealed: Buffer }> {
    const secret = `whsec_${randomBytes(32).toString('base64')}`;
    return { secret, sealed: await this.worker.secrets.seal(secret) };
  }

  private async row(id: string): Promise<WebhookRow> {
    const [row] = await sql<WebhookRow>(this.dataSource.manager, `SELECT ${COLUMNS} FROM webhooks WHERE id = $1`, [id]);
    if (!row) throw new NotFoundException(`No webhook "${id}"`);
    return row;
  }

  private async checkUrl(url: string): Promise<void> {
    const problem = await checkTarget(url, this.config.webhooks.allowPrivate);
    if (problem) throw new BadRequestException(`url: ${problem}`);
  }

  private async checkEnvironments(tx: WriteTransaction, environments: string[] | null | undefined): Promise<void> {
    if (!environments) return;
    const found = await sql<{ key: string }>(tx.manager, 'SELECT key FROM environments WHERE key = ANY($1)', [environments]);
    const missing = environments.filter((key) => !found.some((row) => row.key === key));
    if (missing.length > 0) throw new BadRequestException(`environments: no environment ${missing.map((k) => `"${k}"`).join(', ')}`);
  }
}

function toView(row: WebhookRow): WebhookView {
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    events: row.events,
    environments: row.environments,
    format: row.format,
    enabled: row.enabled,
    disabledReason: row.disabled_reason,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}
