import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import type { Actor } from '../common/actor.js';
import { CHANGE_PUBLISHER, type ChangeEvent, type ChangePublisher } from './change-publisher.js';
import { WriteTransaction } from './write-transaction.js';

/** Runs writes: one transaction each, then publishes the revisions it committed. */
@Injectable()
export class ChangeLogService {
  private readonly logger = new Logger('ChangeLog');

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    @Inject(CHANGE_PUBLISHER) private readonly publisher: ChangePublisher,
  ) {}

  async write<T>(actor: Actor, work: (tx: WriteTransaction) => Promise<T>): Promise<T> {
    const events: ChangeEvent[] = [];
    // Postgres' default isolation, READ COMMITTED: one round trip fewer than naming it.
    const [result, tx] = await this.dataSource.transaction(async (manager) => {
      const tx = new WriteTransaction(manager, actor, this.audit, events);
      return [await work(tx), tx] as const;
    });
    for (const event of events) {
      try {
        await this.publisher.publish(event);
      } catch (err) {
        // Committed is committed: subscribers catch up from the change log by revision.
        this.logger.error(`Publishing ${event.environment}@${event.revision} failed: ${(err as Error).message}`);
      }
    }
    tx.runAfterCommit((err) => this.logger.error(`After-commit work failed: ${(err as Error).message}`));
    return result;
  }
}
