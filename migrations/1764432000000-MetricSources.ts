import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Who reported a metric row: `server` (a server key: backend processes) or `client` (a client
 *  key, which is public: any browser can report with it). Guards can then count only the sources
 *  they trust. Rows reported before this migration were counted without a source and are kept as
 *  `server`. */
export class MetricSources1764432000000 implements MigrationInterface {
  name = 'MetricSources1764432000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE metric_exposures ADD COLUMN source text NOT NULL DEFAULT 'server' CHECK (source IN ('server', 'client'));
      ALTER TABLE metric_exposures DROP CONSTRAINT metric_exposures_pkey;
      ALTER TABLE metric_exposures ADD PRIMARY KEY (environment_id, flag_id, bucket, enabled, variant, source);
      ALTER TABLE metric_events ADD COLUMN source text NOT NULL DEFAULT 'server' CHECK (source IN ('server', 'client'));
      ALTER TABLE metric_events DROP CONSTRAINT metric_events_pkey;
      ALTER TABLE metric_events ADD PRIMARY KEY (environment_id, flag_id, event, bucket, enabled, variant, source);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    // Rows that differ only by source are merged back into one.
    await q.query(`
      CREATE TEMPORARY TABLE merged_exposures AS
        SELECT environment_id, flag_id, bucket, enabled, variant, sum(count) AS count
          FROM metric_exposures GROUP BY environment_id, flag_id, bucket, enabled, variant;
      DELETE FROM metric_exposures;
      ALTER TABLE metric_exposures DROP CONSTRAINT metric_exposures_pkey;
      ALTER TABLE metric_exposures DROP COLUMN source;
      ALTER TABLE metric_exposures ADD PRIMARY KEY (environment_id, flag_id, bucket, enabled, variant);
      INSERT INTO metric_exposures SELECT * FROM merged_exposures;
      DROP TABLE merged_exposures;

      CREATE TEMPORARY TABLE merged_events AS
        SELECT environment_id, flag_id, event, bucket, enabled, variant, sum(count) AS count, sum(sum) AS sum
          FROM metric_events GROUP BY environment_id, flag_id, event, bucket, enabled, variant;
      DELETE FROM metric_events;
      ALTER TABLE metric_events DROP CONSTRAINT metric_events_pkey;
      ALTER TABLE metric_events DROP COLUMN source;
      ALTER TABLE metric_events ADD PRIMARY KEY (environment_id, flag_id, event, bucket, enabled, variant);
      INSERT INTO metric_events SELECT * FROM merged_events;
      DROP TABLE merged_events;
    `);
  }
}
