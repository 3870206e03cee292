import type { DataSourceOptions } from 'typeorm';
// migrations/ lives at the repository root (DESIGN §1) and is compiled into this app's build.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { Initial1764172800000 } from '../../../../migrations/1764172800000-Initial.js';
// eslint-disable-next-line @nx/enforce-module-boundaries
import { Metrics1764259200000 } from '../../../../migrations/1764259200000-Metrics.js';
// eslint-disable-next-line @nx/enforce-module-boundaries
import { RolloutPlans1764259260000 } from '../../../../migrations/1764259260000-RolloutPlans.js';
// eslint-disable-next-line @nx/enforce-module-boundaries
import { RetentionIndexes1764345600000 } from '../../../../migrations/1764345600000-RetentionIndexes.js';
// eslint-disable-next-line @nx/enforce-module-boundaries
import { MetricSources1764432000000 } from '../../../../migrations/1764432000000-MetricSources.js';
// eslint-disable-next-line @nx/enforce-module-boundaries
import { ClientKeyOrigins1764432060000 } from '../../../../migrations/1764432060000-ClientKeyOrigins.js';
// eslint-disable-next-line @nx/enforce-module-boundaries
import { People1764518400000 } from '../../../../migrations/1764518400000-People.js';
// eslint-disable-next-line @nx/enforce-module-boundaries
import { Webhooks1764691200000 } from '../../../../migrations/1764691200000-Webhooks.js';
// eslint-disable-next-line @nx/enforce-module-boundaries
import { WebhookSecretRotation1764720000000 } from '../../../../migrations/1764720000000-WebhookSecretRotation.js';
// eslint-disable-next-line @nx/enforce-module-boundaries
import { EvidenceGates1764777600000 } from '../../../../migrations/1764777600000-EvidenceGates.js';
// eslint-disable-next-line @nx/enforce-module-boundaries
import { CohortMembersUnchecked1764864000000 } from '../../../../migrations/1764864000000-CohortMembersUnchecked.js';
// eslint-disable-next-line @nx/enforce-module-boundaries
import { CohortMemberKeysBytewise1764950400000 } from '../../../../migrations/1764950400000-CohortMemberKeysBytewise.js';
import type { AppConfig, DatabaseTimeouts } from '../config/config.js';
import { DeadlineClient } from './deadline-client.js';
import { EmbeddedPostgres } from './embedded-postgres.js';
import { QueryErrorLogger } from './query-error-logger.js';

/** Every migration, in order. Applied at start and by `npm run migrate`. */
export const MIGRATIONS = [Initial1764172800000, Metrics1764259200000, RolloutPlans1764259260000, RetentionIndexes1764345600000, MetricSources1764432000000, ClientKeyOrigins1764432060000, People1764518400000, Webhooks1764691200000, WebhookSecretRotation1764720000000, EvidenceGates1764777600000, CohortMembersUnchecked1764864000000, CohortMemberKeysBytewise1764950400000];

export interface DatabaseTarget {
  options: DataSourceOptions;
  /** Set when the server runs its own embedded Postgres; stop it after the data source. */
  embedded?: EmbeddedPostgres;
}

/** Where the data lives: `DATABASE_URL`, or an embedded PGlite in `AVIARY_DATA_DIR`. */
export async function openDatabase(config: AppConfig): Promise<DatabaseTarget> {
  const common = {
    type: 'postgres' as const,
    synchronize: false,
    migrations: MIGRATIONS,
    migrationsRun: true,
    migrationsTransactionMode: 'each' as const,
    entities: [],
    logger: new QueryErrorLogger(),
  };
  if (config.databaseUrl) {
    return { options: { ...common, url: config.databaseUrl, poolSize: config.dbPoolSize, extra: poolTimeouts(config.dbTimeouts) } };
  }
  const embedded = await EmbeddedPostgres.start(config.dataDir);
  // PGlite serves one backend: more than one pooled connection would queue or fail. No timeouts:
  // it runs in this process (a query blocks the event loop, so no timer fires during one), waiting
  // for the one connection is queueing, not a fault, and ending its session would end the database.
  return { options: { ...common, ...embedded.connection, poolSize: 1 }, embedded };
}

/** pg's options for the limits of `DATABASE_URL` connections; a 0 is left out (no limit). */
function poolTimeouts(timeouts: DatabaseTimeouts): Record<string, unknown> {
  const set = (ms: number) => (ms > 0 ? ms : undefined);
  return {
    Client: DeadlineClient,
    // A peer that vanished without a FIN (a failed-over host) is found by the kernel, not never.
    keepAlive: true,
    connectionTimeoutMillis: timeouts.connectMs,
    statement_timeout: set(timeouts.statementMs),
    query_timeout: set(timeouts.queryMs),
    idle_in_transaction_session_timeout: set(timeouts.idleInTransactionMs),
  };
}

/**
 * The options for running migrations: no statement, query or idle-in-transaction limit (a
 * migration may rewrite a large table), still the connect timeout.
 */
export function migrationOptions(options: DataSourceOptions): DataSourceOptions {
  const extra = (options as { extra?: Record<string, unknown> }).extra;
  if (extra === undefined) return options;
  const { statement_timeout: _s, query_timeout: _q, idle_in_transaction_session_timeout: _i, ...rest } = extra;
  return { ...options, extra: rest } as DataSourceOptions;
}

/** Whether connections made with these options carry limits a migration must not run under. */
export function hasStatementLimits(options: DataSourceOptions): boolean {
  return migrationOptions(options) !== options;
}
