import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import type { Actor } from '../common/actor.js';
import { ServerMetrics } from '../observability/server-metrics.js';
import { LiveRulesets } from '../stream/live-rulesets.js';
import type { RulesetChange } from './change.js';
import { WriteTransaction } from './write-transaction.js';

/** Runs writes: one transaction each, then hands the revisions it committed to the live rulesets,
 *  which apply them here and send them to the other instances. */
@Injectable()
export class ChangeLogService {
  private readonly logger = new Logger('ChangeLog');
  private readonly committedListeners: Array<() => void> = [];

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly live: LiveRulesets,
    private readonly metrics: ServerMetrics,
  ) {}

  async write<T>(actor: Actor, work: (tx: WriteTransaction) => Promise<T>): Promise<T> {
    const changes: RulesetChange[] = [];
    // Postgres' default isolation, READ COMMITTED: one round trip fewer than naming it.
    const [result, tx] = await this.dataSource.transaction(async (manager) => {
      const tx = new WriteTransaction(manager, actor, this.audit, changes);
      return [await work(tx), tx] as const;
    });
    for (const change of changes) {
      // Counted where the write commits, so the sum over instances is the number of writes.
      this.metrics.changes.inc({ environment: change.environment, kind: change.kind });
      if (change.kind === 'kill') this.metrics.kills.inc({ environment: change.environment });
      try {
        await this.live.committed(change);
      } catch (err) {
        // Committed is committed: every instance catches up from the change log by revision.
        this.logger.error(`Delivering ${change.environment}@${change.revision} failed: ${(err as Error).message}`);
      }
    }
    tx.runAfterCommit((err) => this.logger.error(`After-commit work failed: ${(err as Error).message}`));
    for (const listener of this.committedListeners) listener();
    return result;
  }

  /** Called after every write that committed (the webhook worker, to deliver its events now). */
  onCommitted(listener: () => void): void {
    this.committedListeners.push(listener);
  }
}
