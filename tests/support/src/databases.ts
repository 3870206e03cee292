/**
 * Postgres databases for tests, named with the run tag (the janitor drops what a failed test
 * left). A migrated database is a copy of one template per test run, migrated once by the server's
 * own migrate entry point: `CREATE DATABASE ... TEMPLATE` copies files, where running the
 * migrations again for every test file costs seconds each.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { runTag, runTagEnv, testDatabaseName } from './resources.js';

export const POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** `migrate.js` of `nx build @aviary/server` (this file is tests/support/dist/databases.js when it runs). */
export const SERVER_MIGRATE = fileURLToPath(new URL('../../../apps/server/dist/apps/server/src/migrate.js', import.meta.url));

export interface TestDatabase {
  name: string;
  url: string;
  /** Drops the database, cutting off whoever is still connected. */
  drop(): Promise<void>;
}

export interface DatabaseOptions {
  /** `empty` for tests of the migrations themselves; default a copy of the migrated template. */
  from?: 'migrated' | 'empty';
  /** The migrate entry point that migrates the template (default the `nx build` output). */
  migrate?: string;
}

/** The template of this run; the janitor's teardown drops it. */
export function templateDatabaseName(tag = runTag()): string {
  return `aviary_template_${tag}_migrated`.toLowerCase();
}

export function databaseUrl(name: string): string {
  return POSTGRES_URL.replace(/\/[^/]*$/, `/${name}`);
}

export async function withPostgres<T>(work: (client: pg.Client) => Promise<T>, url = POSTGRES_URL): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

function handle(name: string): TestDatabase {
  return { name, url: databaseUrl(name), drop: () => withPostgres((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined) };
}

/** A new database named `<prefix>_<run tag>_<random>`, a copy of the migrated template unless `from: 'empty'`. */
export async function createTestDatabase(prefix: string, options: DatabaseOptions = {}): Promise<TestDatabase> {
  const name = testDatabaseName(prefix);
  if (options.from === 'empty') {
    await withPostgres((c) => c.query(`CREATE DATABASE "${name}"`));
    return handle(name);
  }
  await cloneDatabase(await migratedTemplate(options.migrate ?? SERVER_MIGRATE), name);
  return handle(name);
}

/**
 * `CREATE DATABASE name TEMPLATE source`. Postgres refuses while anyone is connected to the source
 * ("being accessed by other users"): nobody connects to the template after its migration, but the
 * migrating backend may take a moment to exit, and a caller's own source may just have been
 * disconnected, so the clone is retried for a while.
 */
export async function cloneDatabase(source: string, name: string): Promise<void> {
  const until = Date.now() + 20_000;
  for (;;) {
    try {
      await withPostgres((c) => c.query(`CREATE DATABASE "${name}" TEMPLATE "${source}"`));
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== '55006' || Date.now() > until) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

let template: Promise<string> | undefined;

/**
 * The run's migrated template, created by the first test process that asks; parallel test
 * processes wait on a Postgres advisory lock instead of migrating it twice.
 */
function migratedTemplate(migrate: string): Promise<string> {
  template ??= withPostgres(async (client) => {
    const name = templateDatabaseName();
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [name]);
    try {
      const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (rowCount === 0) {
        await client.query(`CREATE DATABASE "${name}"`);
        try {
          await promisify(execFile)(process.execPath, [migrate], { env: { ...runTagEnv(), PATH: process.env.PATH ?? '', DATABASE_URL: databaseUrl(name), LOG_LEVEL: 'error' } });
        } catch (error) {
          await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
          throw new Error(`migrating the template database ${name} with ${migrate} failed: ${(error as Error).message}`, { cause: error });
        }
      }
      return name;
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', [name]);
    }
  });
  // A failed attempt is not remembered: the next test tries again and reports its own error.
  template.catch(() => (template = undefined));
  return template;
}
