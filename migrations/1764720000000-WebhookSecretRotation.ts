import type { MigrationInterface, QueryRunner } from 'typeorm';

/** A rotated webhook secret: the previous one keeps signing, beside the new one, until
 *  `previous_secret_until`, so receivers can switch without missing a delivery. */
export class WebhookSecretRotation1764720000000 implements MigrationInterface {
  name = 'WebhookSecretRotation1764720000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE webhooks ADD COLUMN previous_secret bytea, ADD COLUMN previous_secret_until timestamptz');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE webhooks DROP COLUMN previous_secret, DROP COLUMN previous_secret_until');
  }
}
