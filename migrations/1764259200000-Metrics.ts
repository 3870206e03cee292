import type { MigrationInterface, QueryRunner } from 'typeorm';

/** SDK metrics (`POST /sdk/v1/metrics`) in 10 s buckets per environment, flag and arm: exposures,
 *  and tracked events with their count and sum. A report adds to its bucket's counts. An arm
 *  without a variant has `variant = ''` (variant keys are never empty). */
export class Metrics1764259200000 implements MigrationInterface {
  name = 'Metrics1764259200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE metric_exposures (
        environment_id uuid NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
        flag_id        uuid NOT NULL REFERENCES flags (id) ON DELETE CASCADE,
        bucket         timestamptz NOT NULL,
        enabled        boolean NOT NULL,
        variant        text NOT NULL DEFAULT '',
        count          bigint NOT NULL,
        PRIMARY KEY (environment_id, flag_id, bucket, enabled, variant)
      );
      CREATE INDEX metric_exposures_flag ON metric_exposures (flag_id);

      -- The event comes before the bucket: guards read two events of one flag over a time range.
      CREATE TABLE metric_events (
        environment_id uuid NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
        flag_id        uuid NOT NULL REFERENCES flags (id) ON DELETE CASCADE,
        event          text NOT NULL,
        bucket         timestamptz NOT NULL,
        enabled        boolean NOT NULL,
        variant        text NOT NULL DEFAULT '',
        count          bigint NOT NULL,
        sum            double precision NOT NULL DEFAULT 0,
        PRIMARY KEY (environment_id, flag_id, event, bucket, enabled, variant)
      );
      CREATE INDEX metric_events_flag ON metric_events (flag_id);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE metric_events;
      DROP TABLE metric_exposures;
    `);
  }
}
