import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { sql } from '../database/sql.js';
import { MAX_REPLAY } from '../stream/live-rulesets.js';

/** How often each instance prunes; deleting is idempotent, so instances need not agree on who does it. */
const EVERY_MS = 60 * 60 * 1000;

export interface Pruned {
  metricBuckets: number;
  changes: number;
}

/**
 * Keeps the tables that grow with traffic bounded: metric buckets and change-log rows older than
 * `AVIARY_RETENTION_DAYS`. The change log always keeps the last revisions a stream may resume
 * from; the audit log and rollout plan history are kept, since they are the record of who did what.
 */
@Injectable()
export class RetentionService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Retention');
  private timer?: NodeJS.Timeout;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.prune().catch((e: Error) => this.logger.warn(`pruning failed: ${e.message}`)), EVERY_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  async prune(now = new Date()): Promise<Pruned> {
    const before = new Date(now.getTime() - this.config.retentionDays * 86_400_000);
    const manager = this.dataSource.manager;
    let metricBuckets = 0;
    for (const table of ['metric_exposures', 'metric_events']) {
      const rows = await sql(manager, `DELETE FROM ${table} WHERE bucket < $1 RETURNING 1`, [before]);
      metricBuckets += rows.length;
    }
    const changes = await sql(
      manager,
      `DELETE FROM changes c USING environments e
        WHERE c.environment_id = e.id AND c.created_at < $1 AND c.revision <= e.revision - $2 RETURNING 1`,
      [before, MAX_REPLAY],
    );
    const pruned = { metricBuckets, changes: changes.length };
    if (pruned.metricBuckets + pruned.changes > 0) this.logger.log(`pruned ${pruned.metricBuckets} metric buckets and ${pruned.changes} change-log rows older than ${before.toISOString()}`);
    return pruned;
  }
}
