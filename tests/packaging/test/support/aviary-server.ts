/**
 * The real server for the packaging test: the built apps/server, spawned from its dist on a fresh
 * Postgres database (dropped by the caller's cleanup), plus the few admin calls the test needs.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { start } from './processes.js';
import { adminRequest, runTagEnv, testDatabaseName } from '@aviary/test-support';

export const ADMIN_TOKEN = `ava_packaging_${randomBytes(16).toString('hex')}`;
const POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SERVER_MAIN = fileURLToPath(new URL('../../../../apps/server/dist/apps/server/src/main.js', import.meta.url));

export { freePort } from '@aviary/test-support';

async function onPostgres(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Creates an empty database and returns its URL and how to drop it. */
export async function createDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = testDatabaseName('aviary_packaging');
  await onPostgres(`CREATE DATABASE ${name}`);
  return { url: POSTGRES_URL.replace(/\/[^/]*$/, `/${name}`), drop: () => onPostgres(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/** Spawns the server (the caller records `child` for cleanup first) and resolves once it listens. */
export function spawnServer(env: Record<string, string>): { child: ChildProcess; listening: Promise<void>; log: string[] } {
  if (!existsSync(SERVER_MAIN)) throw new Error(`${SERVER_MAIN} is missing: build the server first (npx nx run @aviary/server:build)`);
  const child = start(process.execPath, [SERVER_MAIN], {
    env: { ...runTagEnv(), PATH: process.env.PATH ?? '', NODE_ENV: 'production', NO_COLOR: '1', HOST: '127.0.0.1', LOG_FORMAT: 'json', AVIARY_ADMIN_TOKEN: ADMIN_TOKEN, ...env },
  });
  const log: string[] = [];
  const listening = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start in 30 s:\n${log.slice(-30).join('\n')}`)), 30_000);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the server exited during start (${signal ?? code}):\n${log.slice(-30).join('\n')}`));
    });
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        log.push(line);
        if (line.includes('Aviary listening on')) {
          clearTimeout(timer);
          resolve();
        }
      });
    }
  });
  return { child, listening, log };
}

/** One admin API call with the admin token; throws on a non-2xx answer. */
export function admin<T = Record<string, unknown>>(url: string, method: string, path: string, body?: unknown): Promise<T> {
  return adminRequest<T>(url, ADMIN_TOKEN, method, path, body);
}
