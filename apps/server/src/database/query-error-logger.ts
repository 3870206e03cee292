import { Logger as NestLogger } from '@nestjs/common';
import type { Logger } from 'typeorm';
import { PG_UNIQUE_VIOLATION, pgCode } from './sql.js';

/** Starts a statement whose unique violation is an answer, not a fault (`insertFresh` of the
 *  cohorts service tries plain INSERTs first): such a violation is not logged. */
export const MAY_CONFLICT = '/* may conflict */ ';

/**
 * TypeORM's failed statements, through the server's logger: the statement and the error, without
 * the parameters. TypeORM's console logger printed them all, and a members write's are thousands
 * of member keys (other statements carry password hashes and key digests). The rest of what TypeORM
 * can log stays off, as with `logging: ['error']`.
 */
export class QueryErrorLogger implements Logger {
  private readonly logger = new NestLogger('Database');

  logQueryError(error: string | Error, query: string, parameters?: unknown[] | object): void {
    if (query.startsWith(MAY_CONFLICT) && pgCode(error) === PG_UNIQUE_VIOLATION) return;
    const count = Array.isArray(parameters) ? parameters.length : 0;
    this.logger.error(`query failed: ${typeof error === 'string' ? error : error.message} — ${query.replace(/\s+/g, ' ').slice(0, 500)} (${count} parameters, not logged)`);
  }

  logQuery(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
}
