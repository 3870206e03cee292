/**
 * The real server for the packaging test: the built apps/server, spawned from its dist by
 * `@aviary/test-support` on a migrated Postgres database, plus the few admin calls the test needs.
 */
import { randomBytes } from 'node:crypto';
import { adminRequest, createTestDatabase, ServerProcess, type TestDatabase } from '@aviary/test-support';

export const ADMIN_TOKEN = `ava_packaging_${randomBytes(16).toString('hex')}`;

/** A database of its own, migrated (a copy of the run's template); the caller's cleanup drops it. */
export const createDatabase = (): Promise<TestDatabase> => createTestDatabase('aviary_packaging');

/** The server with the admin token, not started yet (the caller records it for cleanup first). */
export function aviaryServer(env: Record<string, string>): Promise<ServerProcess> {
  return ServerProcess.create({ name: 'server', env: { AVIARY_ADMIN_TOKEN: ADMIN_TOKEN, ...env } });
}

/** One admin API call with the admin token; throws on a non-2xx answer. */
export function admin<T = Record<string, unknown>>(url: string, method: string, path: string, body?: unknown): Promise<T> {
  return adminRequest<T>(url, ADMIN_TOKEN, method, path, body);
}
