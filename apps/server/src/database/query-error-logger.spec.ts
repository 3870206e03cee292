import { Logger } from '@nestjs/common';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAY_CONFLICT, QueryErrorLogger } from './query-error-logger.js';

const violation = Object.assign(new Error('duplicate key value violates unique constraint "cohort_members_pkey"'), { code: '23505' });

describe('QueryErrorLogger', () => {
  afterEach(() => vi.restoreAllMocks());

  it('logs a failed statement and its error, never its parameters', () => {
    const error = vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    new QueryErrorLogger().logQueryError(violation, 'INSERT INTO cohort_members\n  SELECT $1, k FROM unnest($2::text[]) AS k', ['cohort-1', ['secret-member@example.com']]);
    expect(error).toHaveBeenCalledTimes(1);
    const line = String(error.mock.calls[0][0]);
    expect(line).toContain('duplicate key value');
    expect(line).toContain('INSERT INTO cohort_members SELECT $1');
    expect(line).toContain('2 parameters, not logged');
    expect(line).not.toContain('secret-member');
  });

  it('is silent for the unique violation a statement marked MAY_CONFLICT expects, and logs its other errors', () => {
    const error = vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const logger = new QueryErrorLogger();
    logger.logQueryError(violation, `${MAY_CONFLICT}INSERT INTO cohort_members VALUES ($1)`, ['a']);
    expect(error).not.toHaveBeenCalled();
    logger.logQueryError(Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' }), `${MAY_CONFLICT}INSERT INTO cohort_members VALUES ($1)`, ['a']);
    expect(error).toHaveBeenCalledTimes(1);
  });
});
