import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Webhook subscriptions and the transactional outbox: an event row is written in the transaction
 * of the change it describes, with one delivery row per subscription it matches; workers claim
 * deliveries with a lease, so an instance that dies mid-delivery only delays them.
 */
export class Webhooks1764691200000 implements MigrationInterface {
  name = 'Webhooks1764691200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE installation_secrets (
        name text PRIMARY KEY,
        value bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE webhooks (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        url text NOT NULL,
        description text NOT NULL DEFAULT '',
        events text[] NOT NULL,
        environments text[],
        format text NOT NULL CHECK (format IN ('standard', 'slack')),
        enabled boolean NOT NULL DEFAULT true,
        secret bytea NOT NULL,
        consecutive_failures int NOT NULL DEFAULT 0,
        disabled_reason text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE webhook_events (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        seq bigserial UNIQUE,
        type text NOT NULL,
        environment text,
        payload jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE webhook_deliveries (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        webhook_id uuid NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
        event_id uuid NOT NULL REFERENCES webhook_events(id) ON DELETE CASCADE,
        seq bigint NOT NULL,
        state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
        attempts int NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        leased_until timestamptz,
        last_status int,
        last_latency_ms int,
        last_response text,
        last_error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        delivered_at timestamptz,
        UNIQUE (webhook_id, event_id)
      )`);
    await q.query(`CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (webhook_id, seq) WHERE state = 'pending'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE webhook_deliveries');
    await q.query('DROP TABLE webhook_events');
    await q.query('DROP TABLE webhooks');
    await q.query('DROP TABLE installation_secrets');
  }
}
