import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import pg from 'pg';
import request from 'supertest';
import { AppModule } from '../src/app.module.js';
import { configureApp } from '../src/app.setup.js';
import { AviaryExpressAdapter } from '../src/common/express-adapter.js';
import { type AppConfig, loadConfig } from '../src/config/config.js';
import { createTestDatabase as createDatabase, type DatabaseOptions, type TestDatabase, withPostgres } from '@aviary/test-support';
import { serverBuild } from './real-processes.js';

export const ADMIN_TOKEN = 'ava_test_admin_token_0123456789';
/**
 * A database of its own for one test file; `drop()` removes it. A copy of the run's template,
 * migrated by the migrate entry point of a fresh build of these sources; `{ from: 'empty' }` for
 * the tests of the migrations themselves.
 */
export function createTestDatabase(options: Pick<DatabaseOptions, 'from'> = {}): Promise<TestDatabase> {
  return createDatabase('aviary_test', options.from === 'empty' ? options : { migrate: join(serverBuild(), 'apps/server/src/migrate.js') });
}

export function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  return withPostgres(work, url);
}

export interface TestApp {
  app: INestApplication;
  url: string;
  config: AppConfig;
  close: () => Promise<void>;
}

/** The real application (all APP_* providers, body parser, OpenAPI) listening on a free port. */
export async function startApp(env: Record<string, string | undefined>): Promise<TestApp> {
  const config = loadConfig({ AVIARY_ADMIN_TOKEN: ADMIN_TOKEN, LOG_LEVEL: 'error', ...env });
  const moduleRef = await Test.createTestingModule({ imports: [AppModule.register(config)] }).compile();
  const app = moduleRef.createNestApplication(new AviaryExpressAdapter(), { bodyParser: false, logger: ['error'] });
  configureApp(app, config);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  return { app, url: `http://127.0.0.1:${port}`, config, close: () => app.close() };
}

export const auth = (token = ADMIN_TOKEN) => ({ Authorization: `Bearer ${token}` });

/** A seeded PRNG (mulberry32, `@aviary/guard`'s), so a failing fuzz run reproduces. */
export { seededRandom as rng } from '@aviary/guard';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request exactly as given: no content type or framing added (supertest adds both). */
export function rawRequest(baseUrl: string, method: string, path: string, headers: Record<string, string>, body?: string | Buffer): Promise<RawResponse> {
  const url = new URL(baseUrl);
  // Explicit framing: without it Node sends DELETE bodies unframed and they read as a second request.
  if (body !== undefined && !Object.keys(headers).some((h) => /^(content-length|transfer-encoding)$/i.test(h))) {
    headers = { ...headers, 'Content-Length': String(Buffer.byteLength(body)) };
  }
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** Everything a rejected request could have touched, reduced to one hash. */
export async function fingerprint(client: pg.Client): Promise<string> {
  // Prepared once per connection: the fuzz test takes one after every request.
  const { rows } = await client.query({ name: 'aviary-fingerprint', text: `SELECT md5(concat_ws('|',
    (SELECT string_agg(concat_ws(',', key, name, description, revision), ';' ORDER BY key) FROM environments),
    (SELECT string_agg(concat_ws(',', key, name, description, tags::text, variants::text, client_visible, archived_at), ';' ORDER BY id) FROM flags),
    (SELECT string_agg(concat_ws(',', flag_id, environment_id, enabled, salt, rules::text, prerequisites::text, version), ';' ORDER BY flag_id, environment_id) FROM flag_configs),
    (SELECT string_agg(concat_ws(',', key, name, description, conditions::text, included_count, excluded_count), ';' ORDER BY key) FROM cohorts),
    (SELECT count(*) || ':' || coalesce(sum(hashtext(key || excluded::text)), 0) FROM cohort_members),
    (SELECT string_agg(concat_ws(',', id, name, kind, read_only, allowed_origins::text, revoked_at), ';' ORDER BY id) FROM api_keys),
    (SELECT string_agg(concat_ws(',', id, state, steps::text, guard::text, step_index), ';' ORDER BY id) FROM rollout_plans),
    (SELECT count(*) FROM rollout_plan_history),
    (SELECT count(*) || ':' || coalesce(sum(count), 0) FROM metric_exposures),
    (SELECT count(*) || ':' || coalesce(sum(count), 0) || ':' || coalesce(sum(sum), 0) FROM metric_events),
    (SELECT count(*) FROM audit_events),
    (SELECT count(*) FROM changes))) AS h` });
  return rows[0].h as string;
}

/**
 * A flag `beta-feature` on in production for the members of cohort `beta` (`members` keys, uploaded
 * in calls of at most 100,000), and a server and a client key of production: the setup of the
 * large-cohort stream tests. Answers the keys' secrets.
 */
export async function cohortFlagSetup(url: string, members: readonly string[], flag: { clientVisible?: boolean } = {}): Promise<{ serverKey: string; clientKey: string }> {
  const admin = (method: 'post' | 'put', path: string, body: object, status: number) => request(url)[method](`/api/v1${path}`).set(auth()).send(body).expect(status);
  await admin('post', '/flags', { key: 'beta-feature', ...flag }, 201);
  await admin('post', '/cohorts', { key: 'beta' }, 201);
  for (let i = 0; i < members.length; i += 100_000) await admin('post', '/cohorts/beta/members', { add: members.slice(i, i + 100_000) }, 200);
  await admin('put', '/environments/production/flags/beta-feature', { enabled: true, rules: [{ id: 'beta', cohorts: ['beta'] }] }, 200);
  const key = async (kind: string) => (await admin('post', '/api-keys', { name: kind, kind, environment: 'production' }, 201)).body.secret as string;
  return { serverKey: await key('server'), clientKey: await key('client') };
}
