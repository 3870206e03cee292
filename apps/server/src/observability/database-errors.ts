import type { DataSource, Logger as TypeOrmLogger } from 'typeorm';
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

/** Integrity-constraint violations (SQLSTATE class 23) are answers to clients (409), not failures. */
function isConstraintViolation(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && code.startsWith('23');
}

interface PoolLike {
  connect: (...args: unknown[]) => unknown;
}

/**
 * Counts failed Postgres operations in `aviary_postgres_errors_total` and logs them as JSON
 * (the query text, never its parameters). Hooks the data source's pool and TypeORM's logger.
 */
export function watchDatabase(dataSource: DataSource, metrics: ServerMetrics, logger: Logger): void {
  let lastLogged = 0;
  let suppressed = 0;
  const report = (operation: 'connect' | 'query', err: Error, query?: string) => {
    metrics.postgresErrors.inc({ operation });
    // An outage fails every request: one line per few seconds is enough.
    const now = Date.now();
    if (now - lastLogged < 5000) {
      suppressed++;
      return;
    }
    lastLogged = now;
    logger.warn({ operation, code: (err as { code?: string }).code, query: query?.slice(0, 200), suppressed: suppressed || undefined }, `postgres ${operation} failed: ${err.message}`);
    suppressed = 0;
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
