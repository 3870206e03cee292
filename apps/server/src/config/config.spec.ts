import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('answers the defaults for an empty environment', () => {
    expect(loadConfig({})).toMatchObject({ port: 4000, dataDir: './.aviary', databaseUrl: undefined, dbPoolSize: 10, maxBodyBytes: 16 * 1024 * 1024, schedulerIntervalMs: 1000 });
  });

  it('treats empty variables as unset and ignores unrelated ones', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '', HOME: '/root' }).port).toBe(4000);
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['DATABASE_URL', 'mysql://x'],
    ['REDIS_URL', 'http://x'],
    ['AVIARY_ADMIN_TOKEN', 'short'],
    ['AVIARY_ADMIN_TOKEN', 'avs_serverkeyserverkeyserverkey'],
    ['AVIARY_DB_POOL_SIZE', '0'],
    ['AVIARY_SCHEDULER_INTERVAL_MS', '5'],
    ['LOG_LEVEL', 'loud'],
    ['AVIARY_DB_CONNECT_RETRY_MS', '-1'],
    ['AVIARY_DB_CONNECT_TIMEOUT_MS', '0'],
    ['AVIARY_DB_STATEMENT_TIMEOUT_MS', '1.5'],
    ['AVIARY_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS', 'soon'],
  ])('refuses %s=%s with a message naming it', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`${name}: `));
  });

  it('answers the database limits: defaults, the query timeout above the statement timeout, 0 as no limit', () => {
    expect(loadConfig({})).toMatchObject({ dbConnectRetryMs: 30_000, dbTimeouts: { connectMs: 5000, statementMs: 15_000, queryMs: 20_000, idleInTransactionMs: 10_000 } });
    expect(loadConfig({ AVIARY_DB_STATEMENT_TIMEOUT_MS: '2000' }).dbTimeouts.queryMs).toBe(7000);
    expect(loadConfig({ AVIARY_DB_STATEMENT_TIMEOUT_MS: '0' }).dbTimeouts).toMatchObject({ statementMs: 0, queryMs: 0 });
    expect(loadConfig({ AVIARY_DB_STATEMENT_TIMEOUT_MS: '0', AVIARY_DB_QUERY_TIMEOUT_MS: '60000' }).dbTimeouts.queryMs).toBe(60_000);
  });

  it('refuses a query timeout that is not longer than the statement timeout, naming both', () => {
    expect(() => loadConfig({ AVIARY_DB_STATEMENT_TIMEOUT_MS: '5000', AVIARY_DB_QUERY_TIMEOUT_MS: '5000' })).toThrow(
      /AVIARY_DB_QUERY_TIMEOUT_MS: must be longer than AVIARY_DB_STATEMENT_TIMEOUT_MS \(5000\)/,
    );
  });
});
