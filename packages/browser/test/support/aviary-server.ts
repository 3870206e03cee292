/**
 * The real Aviary server for the Chromium tests: the built `apps/server` (spawned from its dist,
 * never imported: the browser package does not depend on server code) on a fresh Postgres
 * database, plus a small admin API client. Everything started here is killed by `stop()` and, as a
 * last resort, when the test process exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { adminRequest, runTagEnv, testDatabaseName } from '@aviary/test-support';

export const ADMIN_TOKEN = 'ava_browser_e2e_admin_token_0123456789';
const POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const SERVER_MAIN = fileURLToPath(new URL('../../../../apps/server/dist/apps/server/src/main.js', import.meta.url));

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

export { freePort } from '@aviary/test-support';

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

async function withClient<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A new, empty database; the first server started on it runs the migrations. */
export async function createDatabase(): Promise<TestDatabase> {
  const name = testDatabaseName('aviary_browser');
  await withClient((c) => c.query(`CREATE DATABASE ${name}`));
  return {
    url: POSTGRES_URL.replace(/\/[^/]*$/, `/${name}`),
    drop: () => withClient((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

/** One server process on a fixed port, so it can be stopped and started again at the same origin. */
export class AviaryProcess {
  readonly log: string[] = [];
  private child?: ChildProcess;

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly env: Record<string, string>,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts `node main.js` and resolves once it prints that it listens (after migrations and the ruleset load). */
  async start(): Promise<number> {
    if (this.child) throw new Error(`${this.name} is already running`);
    if (!existsSync(SERVER_MAIN)) throw new Error(`${SERVER_MAIN} is missing: build the server first (npx nx run @aviary/server:build)`);
    const started = Date.now();
    const child = spawn(process.execPath, [SERVER_MAIN], {
      env: { ...runTagEnv(), PATH: process.env.PATH ?? '', NODE_ENV: 'production', NO_COLOR: '1', HOST: '127.0.0.1', PORT: String(this.port), LOG_FORMAT: 'json', AVIARY_ADMIN_TOKEN: ADMIN_TOKEN, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    this.child = child;
    child.once('exit', (code, signal) => {
      children.delete(child);
      if (this.child === child) this.child = undefined;
      this.log.push(`[${this.name}] exited (${signal ?? code})`);
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name} did not start in 20 s:\n${this.tail()}`)), 20_000);
      child.once('exit', () => {
        clearTimeout(timer);
        reject(new Error(`${this.name} exited during start:\n${this.tail()}`));
      });
      for (const stream of [child.stdout!, child.stderr!]) {
        createInterface({ input: stream }).on('line', (line) => {
          this.log.push(`[${this.name}] ${line}`);
          if (line.includes('Aviary listening on')) {
            clearTimeout(timer);
            resolve();
          }
        });
      }
    });
    return Date.now() - started;
  }

  /** SIGKILL by default: a crash, every connection reset at once. */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }

  tail(lines = 40): string {
    return this.log.slice(-lines).join('\n');
  }
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
