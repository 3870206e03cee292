/**
 * The real Aviary server for the Chromium tests: the built `apps/server` (spawned from its dist by
 * `@aviary/test-support`, never imported: the browser package does not depend on server code) on a
 * migrated Postgres database of its own, plus a small admin API client.
 */
import { adminRequest, createTestDatabase, ServerProcess, type TestDatabase } from '@aviary/test-support';

export const ADMIN_TOKEN = 'ava_browser_e2e_admin_token_0123456789';

export type { ServerProcess, TestDatabase };

/** A database of its own for one test file, migrated (a copy of the run's template). */
export const createDatabase = (): Promise<TestDatabase> => createTestDatabase('aviary_browser');

/**
 * One server with the admin token, not started yet: on a port fixed now, so it can be killed and
 * started again at the same origin, as the page sees a restarted server.
 */
export function aviaryServer(name: string, env: Record<string, string>): Promise<ServerProcess> {
  return ServerProcess.create({ name, env: { AVIARY_ADMIN_TOKEN: ADMIN_TOKEN, ...env } });
}

/** The admin API (`/api/v1`) with the admin token. */
export class Admin {
  constructor(private readonly url: string) {}

  request<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> {
    return adminRequest<T>(this.url, ADMIN_TOKEN, method, path, body);
  }

  async createKey(kind: 'server' | 'client', environment = 'production'): Promise<string> {
    return (await this.request<{ secret: string }>('POST', '/api-keys', { name: `browser-e2e-${kind}`, kind, environment })).secret;
  }

  async revision(environment = 'production'): Promise<number> {
    return (await this.request<{ revision: number }>('GET', `/environments/${environment}`)).revision;
  }
}
