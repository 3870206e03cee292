import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/config.js';
import { databaseTimeout } from '../observability/database-errors.js';
import { databaseAddress } from './connect-with-retry.js';
import { migrationOptions, openDatabase } from './data-source.js';
import { DeadlineClient } from './deadline-client.js';

describe('the limits of DATABASE_URL connections', () => {
  it('sets pg\'s connect, statement, query and idle-in-transaction timeouts; migrations run without the statement limits', async () => {
    const { options } = await openDatabase(loadConfig({ DATABASE_URL: 'postgres://u:p@db.internal:6543/aviary', AVIARY_DB_STATEMENT_TIMEOUT_MS: '2000' }));
    const extra = (options as { extra?: Record<string, unknown> }).extra;
    expect(extra).toMatchObject({ Client: DeadlineClient, keepAlive: true, connectionTimeoutMillis: 5000, statement_timeout: 2000, query_timeout: 7000, idle_in_transaction_session_timeout: 10_000 });
    const migrating = (migrationOptions(options) as { extra?: Record<string, unknown> }).extra;
    expect(migrating).toMatchObject({ connectionTimeoutMillis: 5000 });
    expect(migrating).not.toHaveProperty('statement_timeout');
    expect(migrating).not.toHaveProperty('query_timeout');
    expect(migrating).not.toHaveProperty('idle_in_transaction_session_timeout');
  });

  it('leaves out a limit set to 0', async () => {
    const { options } = await openDatabase(loadConfig({ DATABASE_URL: 'postgres://db/aviary', AVIARY_DB_STATEMENT_TIMEOUT_MS: '0', AVIARY_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: '0' }));
    expect((options as { extra?: Record<string, unknown> }).extra).toMatchObject({ statement_timeout: undefined, query_timeout: undefined, idle_in_transaction_session_timeout: undefined });
  });

  it('names a database by host and port only', () => {
    expect(databaseAddress('postgres://aviary:secret@db.internal:6543/aviary?sslmode=require')).toBe('db.internal:6543');
    expect(databaseAddress('postgresql://db/aviary')).toBe('db:5432');
    expect(databaseAddress('postgres://u:secret@/aviary?host=/var/run/postgresql')).toBe('/var/run/postgresql:5432');
  });

  it.each([
    ['statement', { code: '57014', message: 'canceling statement due to statement timeout' }],
    ['statement', { message: 'wrapped', driverError: { code: '57014', message: 'canceling statement due to statement timeout' } }],
    ['idle-in-transaction', { code: '25P03', message: 'terminating connection due to idle-in-transaction timeout' }],
    ['query', new Error('Query read timeout')],
    ['connect', new Error('timeout exceeded when trying to connect')],
    ['connect', new Error('Connection terminated due to connection timeout')],
    [undefined, { code: '57014', message: 'canceling statement due to user request' }],
    [undefined, new Error('connect ECONNREFUSED 127.0.0.1:5432')],
  ])('tells a %s timeout by its error', (kind, err) => {
    expect(databaseTimeout(err)).toBe(kind);
  });
});
