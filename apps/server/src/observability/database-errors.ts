import type { DataSource, Logger as TypeOrmLogger } from 'typeorm';
import type { DatabaseTimeouts } from '../config/config.js';
import { QUERY_READ_TIMEOUT } from '../database/deadline-client.js';
import type { Logger } from './logger.js';
import type { ServerMetrics } from './server-metrics.js';

/** Socket errors and Postgres SQLSTATEs that mean "the database is not there right now". */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOENT',
  '08000', '08001', '08003', '08004', '08006', '08007', '08P01', // connection exceptions
  '57P01', '57P02', '57P03', // admin shutdown, crash shutdown, cannot connect now
  '53300', // too many connections
]);
const UNAVAILABLE_MESSAGE =
  /Connection terminated|Connection ended unexpectedly|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|the database system is (starting up|shutting down|in recovery)|terminating connection due to administrator command|Connection is not established/i;

/** True when an error means Postgres cannot be reached (an outage, a restart), not a bad request. */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e = err as { code?: unknown; driverError?: unknown; message?: unknown; errors?: unknown } | undefined, depth = 0; e && depth < 4; depth++) {
    if (typeof e.code === 'string' && UNAVAILABLE_CODES.has(e.code)) return true;
    if (typeof e.message === 'string' && UNAVAILABLE_MESSAGE.test(e.message)) return true;
    // An AggregateError (several addresses refused) carries its parts in `errors`.
    if (Array.isArray(e.errors) && e.errors.some((inner) => isDatabaseUnavailable(inner))) return true;
    e = e.driverError as typeof e;
  }
  return false;
}

/** Which of the limits of docs/security.md "Database timeouts" an error is, if any. */
export type DatabaseTimeout = 'connect' | 'statement' | 'query' | 'idle-in-transaction';

/** The variable that sets each limit, named in the log line when it is hit. */
export const TIMEOUT_VARIABLES: Record<DatabaseTimeout, string> = {
  connect: 'AVIARY_DB_CONNECT_TIMEOUT_MS',
  statement: 'AVIARY_DB_STATEMENT_TIMEOUT_MS',
  query: 'AVIARY_DB_QUERY_TIMEOUT_MS',
  'idle-in-transaction': 'AVIARY_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS',
};

/** The limit an error comes from: Postgres cancelled the statement (57014 with its reason) or
 *  ended an idle transaction (25P03), or pg gave up waiting for a connection or an answer. */
export function databaseTimeout(err: unknown): DatabaseTimeout | undefined {
  for (let e = err as { code?: unknown; driverError?: unknown; message?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 4; depth++) {
    const message = typeof e.message === 'string' ? e.message : '';
    if (e.code === '57014' && /statement timeout/.test(message)) return 'statement';
    if (e.code === '25P03' || /idle-in-transaction timeout/.test(message)) return 'idle-in-transaction';
    if (message === QUERY_READ_TIMEOUT) return 'query';
    if (/timeout exceeded when trying to connect|Connection terminated due to connection timeout/.test(message)) return 'connect';
    e = (e.driverError ?? e.cause) as typeof e;
  }
  return undefined;
}

/** Integrity-constraint violations (SQLSTATE class 23) are answers to clients (409), not failures. */
function isConstraintViolation(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && code.startsWith('23');
}

interface PoolLike {
  connect: (...args: unknown[]) => unknown;
  on?: (event: 'acquire', listener: (client: { on(event: 'error', listener: (err: Error) => void): unknown }) => void) => unknown;
}

const TIMEOUT_SETTINGS: Record<DatabaseTimeout, keyof DatabaseTimeouts> = {
  connect: 'connectMs',
  statement: 'statementMs',
  query: 'queryMs',
  'idle-in-transaction': 'idleInTransactionMs',
};

/**
 * Counts failed Postgres operations in `aviary_postgres_errors_total` and logs them as JSON
 * (the query text, never its parameters); a limit that was hit is named with its variable.
 * Hooks the data source's pool and TypeORM's logger.
 */
export function watchDatabase(dataSource: DataSource, metrics: ServerMetrics, logger: Logger, timeouts?: DatabaseTimeouts): void {
  // An outage fails every request: one line per few seconds and kind of failure is enough.
  const lastLogged = new Map<string, { at: number; suppressed: number }>();
  const report = (operation: 'connect' | 'query' | 'session', err: Error, query?: string) => {
    if (operation !== 'session') metrics.postgresErrors.inc({ operation });
    const timeout = databaseTimeout(err);
    const kind = timeout ?? operation;
    const now = Date.now();
    const last = lastLogged.get(kind) ?? { at: 0, suppressed: 0 };
    lastLogged.set(kind, last);
    if (now - last.at < 5000) {
      last.suppressed++;
      return;
    }
    const fields = { operation, code: (err as { code?: string }).code, query: query?.slice(0, 200), suppressed: last.suppressed || undefined };
    last.at = now;
    last.suppressed = 0;
    if (timeout === undefined) {
      logger.warn(fields, `postgres ${operation} failed: ${err.message}`);
      return;
    }
    const ms = timeouts?.[TIMEOUT_SETTINGS[timeout]];
    logger.warn({ ...fields, timeout }, `postgres ${timeout} timeout hit (${TIMEOUT_VARIABLES[timeout]}${ms === undefined ? '' : ` = ${ms} ms`}): ${err.message}`);
  };

  const pool = (dataSource.driver as unknown as { master?: PoolLike }).master;
  if (pool && typeof pool.connect === 'function') {
    const connect = pool.connect.bind(pool);
    pool.connect = (...args: unknown[]) => {
      const callback = args[0];
      if (typeof callback === 'function') {
        return connect((err: Error | undefined, ...rest: unknown[]) => {
          if (err) report('connect', err);
          return (callback as (...a: unknown[]) => unknown)(err, ...rest);
        });
      }
      return (connect() as Promise<unknown>).catch((err: Error) => {
        report('connect', err);
        throw err;
      });
    };
    // Postgres ending a session (an idle transaction past its limit) reaches no query: only the
    // error event of the client, checked out since it is in a transaction, hears it.
    const heard = new WeakSet<object>();
    pool.on?.('acquire', (client) => {
      if (heard.has(client)) return;
      heard.add(client);
      client.on('error', (err) => {
        if (databaseTimeout(err) === 'idle-in-transaction') report('session', err);
      });
    });
  }

  const typeorm: TypeOrmLogger = {
    logQuery: () => undefined,
    logQueryError: (error, query) => {
      if (!isConstraintViolation(error)) report('query', typeof error === 'string' ? new Error(error) : error, query);
    },
    logQuerySlow: (time, query) => logger.warn({ ms: time, query: query.slice(0, 200) }, 'slow query'),
    logSchemaBuild: (message) => logger.debug(message),
    logMigration: (message) => logger.info(message),
    log: (level, message) => (level === 'warn' ? logger.warn(String(message)) : logger.debug(String(message))),
  };
  Object.assign(dataSource, { logger: typeorm });
}
