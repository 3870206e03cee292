import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import pg from 'pg';
import { AppModule } from '../src/app.module.js';
import { configureApp } from '../src/app.setup.js';
import { type AppConfig, loadConfig } from '../src/config/config.js';
import { testDatabaseName } from '@aviary/test-support';

export const ADMIN_TOKEN = 'ava_test_admin_token_0123456789';
const SERVER_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A fresh, empty database for one test file; `drop()` removes it. */
export async function createTestDatabase(): Promise<{ url: string; name: string; drop: () => Promise<void> }> {
  const name = testDatabaseName('aviary_test');
  await withClient(SERVER_URL, (c) => c.query(`CREATE DATABASE ${name}`));
  const url = SERVER_URL.replace(/\/[^/]*$/, `/${name}`);
  return { url, name, drop: () => withClient(SERVER_URL, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined) };
}

export async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
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
  const app = moduleRef.createNestApplication({ bodyParser: false, logger: ['error'] });
  configureApp(app, config);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  return { app, url: `http://127.0.0.1:${port}`, config, close: () => app.close() };
}

export const auth = (token = ADMIN_TOKEN) => ({ Authorization: `Bearer ${token}` });

/** A seeded PRNG (mulberry32), so a failing fuzz run reproduces. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
