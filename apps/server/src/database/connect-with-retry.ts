import { DataSource, type DataSourceOptions } from 'typeorm';
import { databaseTimeout, isDatabaseUnavailable } from '../observability/database-errors.js';
import { hasStatementLimits, migrationOptions } from './data-source.js';

interface Logger {
  warn(message: string): void;
}

export interface RetryPolicy {
  /** How long after the first attempt the last one may start (0: one attempt). */
  retryMs: number;
  /** The connect timeout of one attempt, for the log line when it is what failed. */
  connectTimeoutMs: number;
  /** What is being reached, for the messages: `Postgres at host:port (DATABASE_URL)`, never the
   *  URL itself (it may hold a password). */
  what: string;
}

const FIRST_DELAY_MS = 250;
const MAX_DELAY_MS = 5000;

/**
 * Migrates and opens the data source, retrying while Postgres cannot be reached (it often starts
 * after the server: `docker compose up`, a node reboot) with a doubling delay for
 * `policy.retryMs`, one warn line per failed attempt; then fails with a one-line message naming
 * where it tried. Errors that are not about reaching Postgres (a wrong password, a failed
 * migration) fail at once. Migrations run first, on a connection without statement limits.
 */
export async function connectWithRetry(options: DataSourceOptions, policy: RetryPolicy, logger: Logger): Promise<DataSource> {
  const started = Date.now();
  const deadline = started + policy.retryMs;
  let attempt = 0;
  for (;;) {
    attempt++;
    try {
      if (hasStatementLimits(options)) {
        const migrator = await initialize({ ...migrationOptions(options), poolSize: 1 } as DataSourceOptions);
        await migrator.destroy();
        return await initialize({ ...options, migrationsRun: false } as DataSourceOptions);
      }
      return await initialize(options);
    } catch (err) {
      if (!isDatabaseUnavailable(err)) throw err;
      const reason = describe(err, policy);
      const delay = Math.min(FIRST_DELAY_MS * 2 ** (attempt - 1), MAX_DELAY_MS, deadline - Date.now());
      if (delay <= 0) {
        const tried = attempt === 1 ? 'at the first attempt' : `after ${attempt} attempts in ${((Date.now() - started) / 1000).toFixed(1)} s`;
        throw new DatabaseUnreachableError(`Cannot reach ${policy.what} ${tried}: ${reason}; is it running and reachable from here? AVIARY_DB_CONNECT_RETRY_MS sets how long to keep trying`);
      }
      logger.warn(`${policy.what} is unreachable (${reason}); attempt ${attempt} failed, retrying in ${delay} ms`);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/** The start-up gave up on the database; the message is the whole story, so it is the stack too
 *  (the process prints it as its last line). */
export class DatabaseUnreachableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatabaseUnreachableError';
    this.stack = `${this.name}: ${message}`;
  }
}

async function initialize(options: DataSourceOptions): Promise<DataSource> {
  const dataSource = new DataSource(options);
  try {
    return await dataSource.initialize();
  } catch (err) {
    if (dataSource.isInitialized) await dataSource.destroy().catch(() => undefined);
    throw err;
  }
}

function describe(err: unknown, policy: RetryPolicy): string {
  const message = (err as Error).message ?? String(err);
  return databaseTimeout(err) === 'connect' ? `connect timeout hit: no answer within AVIARY_DB_CONNECT_TIMEOUT_MS = ${policy.connectTimeoutMs} ms` : message;
}

/** `host:port` of a postgres:// URL, without its user, password or database. */
export function databaseAddress(url: string): string {
  try {
    // A URL with no host (`postgres://u@/db?host=/run/postgresql`, a unix socket) is one pg reads.
    const parsed = new URL(url.replace(/@\//, '@localhost/'));
    const host = parsed.searchParams.get('host') ?? (parsed.hostname || 'localhost');
    return `${host}:${parsed.port || '5432'}`;
  } catch {
    return 'an address that does not parse';
  }
}
