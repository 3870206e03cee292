import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Indexes the hourly retention job deletes by: metric buckets and change-log rows by age. */
export class RetentionIndexes1764345600000 implements MigrationInterface {
  name = 'RetentionIndexes1764345600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE INDEX metric_exposures_bucket ON metric_exposures (bucket);
      CREATE INDEX metric_events_bucket ON metric_events (bucket);
      CREATE INDEX changes_created ON changes (created_at);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP INDEX changes_created;
      DROP INDEX metric_events_bucket;
      DROP INDEX metric_exposures_bucket;
    `);
  }
}
