/**
 * End-to-end harness: real Aviary servers (the built `apps/server` dist, started as child
 * processes, never imported), a fresh Postgres database per test file, and a Redis of the test's
 * own on a free port. Everything started here is killed in `stopAll()` and, as a last resort,
 * when the test process exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createParser } from 'eventsource-parser';
import pg from 'pg';
import type { FetchLike } from '../../../src/index.js';
import { freePort, runTagEnv, testDatabaseName } from '@aviary/test-support';

export const ADMIN_TOKEN = 'ava_e2e_admin_token_0123456789';
const POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const SERVER_MAIN = fileURLToPath(new URL('../../../../../apps/server/dist/apps/server/src/main.js', import.meta.url));

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
export const now = () => performance.timeOrigin + performance.now();

/** Polls `check` until it returns something truthy; throws with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 10_000, everyMs = 20): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export { freePort };

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => (socket.destroy(), resolve(false)));
    socket.connect(port, '127.0.0.1');
  });
}

// ---------------------------------------------------------------------------------------------
// Postgres

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A new, empty database; the first server started on it runs the migrations. */
export async function createDatabase(): Promise<TestDatabase> {
  const name = testDatabaseName('aviary_e2e');
  await withClient(POSTGRES_URL, (c) => c.query(`CREATE DATABASE ${name}`));
  return {
    name,
    url: POSTGRES_URL.replace(/\/[^/]*$/, `/${name}`),
    drop: () => withClient(POSTGRES_URL, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

/** A copy of the database as it is now, as a backup would hold it. Nothing may be connected to it. */
export async function backupDatabase(db: TestDatabase): Promise<TestDatabase> {
  const name = `${db.name}_backup_${randomBytes(3).toString('hex')}`;
  await withClient(POSTGRES_URL, (c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${db.name}`));
  return {
    name,
    url: POSTGRES_URL.replace(/\/[^/]*$/, `/${name}`),
    drop: () => withClient(POSTGRES_URL, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

/** Replaces `db` with a copy of `backup`, as a restore does; whoever is connected to `db` is cut off. */
export async function restoreDatabase(db: TestDatabase, backup: TestDatabase): Promise<void> {
  await withClient(POSTGRES_URL, async (c) => {
    await c.query(`DROP DATABASE ${db.name} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${db.name} TEMPLATE ${backup.name}`);
  });
}

// ---------------------------------------------------------------------------------------------
// Redis

export interface TestRedis {
  port: number;
  url: string;
  readonly running: boolean;
  start(): Promise<void>;
  /** SIGKILL: the connections drop at once, as in a crash. */
  stop(): Promise<void>;
}

export async function startRedis(): Promise<TestRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const redis: TestRedis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    get running() {
      return child !== undefined;
    },
    async start() {
      if (child) return;
      const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
        stdio: 'ignore',
      });
      children.add(proc);
      child = proc;
      proc.once('exit', () => {
        children.delete(proc);
        if (child === proc) child = undefined;
      });
      await waitFor(`redis-server on port ${port}`, () => portOpen(port), 5_000);
    },
    async stop() {
      const proc = child;
      if (!proc) return;
      child = undefined;
      await killProcess(proc, 'SIGKILL');
    },
  };
  await redis.start();
  return redis;
}

/** Sends `signal` and waits for the exit; a process still there after 10 s gets SIGKILL. */
function killProcess(proc: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    proc.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    proc.kill(signal);
  });
}

// ---------------------------------------------------------------------------------------------
// Aviary server processes

export interface ServerOptions {
  name: string;
  databaseUrl: string;
  redisUrl?: string;
  /** A fixed port (to come back on the same address after a restart); default a free one. */
  port?: number;
  env?: Record<string, string>;
}

/** One Aviary server process, started from the built dist with env config. */
export class AviaryServer {
  readonly port: number;
  readonly url: string;
  /** Every line the process printed, over all its starts, ANSI colours removed. */
  readonly log: string[] = [];
  private child?: ChildProcess;

  private constructor(private readonly options: ServerOptions, port: number) {
    this.port = port;
    this.url = `http://127.0.0.1:${port}`;
  }

  static async start(options: ServerOptions): Promise<AviaryServer> {
    const server = new AviaryServer(options, options.port ?? (await freePort()));
    await server.start();
    return server;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** Starts the process (again) and resolves once `/healthz` answers (the app has booted: it listens only then). */
  async start(env: Record<string, string> = {}): Promise<void> {
    if (this.child) throw new Error(`${this.options.name} is already running`);
    if (!existsSync(SERVER_MAIN)) {
      throw new Error(`${SERVER_MAIN} is missing: build the server first (npx nx run @aviary/server:build)`);
    }
    const proc = spawn(process.execPath, [SERVER_MAIN], {
      env: {
        ...runTagEnv(),
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'production',
        NO_COLOR: '1',
        HOST: '127.0.0.1',
        PORT: String(this.port),
        DATABASE_URL: this.options.databaseUrl,
        AVIARY_ADMIN_TOKEN: ADMIN_TOKEN,
        LOG_LEVEL: 'log',
        ...(this.options.redisUrl ? { REDIS_URL: this.options.redisUrl } : {}),
        ...this.options.env,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(proc);
    this.child = proc;
    // eslint-disable-next-line no-control-regex -- ANSI colour codes start with ESC
    const ansi = /\x1b\[[0-9;]*m/g;
    const collect = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() !== '') this.log.push(`[${this.options.name}] ${line.replace(ansi, '')}`);
      }
    };
    proc.stdout!.on('data', collect);
    proc.stderr!.on('data', collect);
    let exited = false;
    proc.once('exit', (code, signal) => {
      exited = true;
      children.delete(proc);
      if (this.child === proc) this.child = undefined;
      this.log.push(`[${this.options.name}] exited (${signal ?? code})`);
    });
    try {
      await waitFor(
        `${this.options.name} to answer /healthz`,
        async () => {
          if (exited) throw new Error(`${this.options.name} exited during start:\n${this.tail()}`);
          try {
            return (await fetch(`${this.url}/healthz`)).status === 200;
          } catch {
            return false;
          }
        },
        30_000, // a first start migrates the database; a busy 2-core machine has taken 15 s
        50,
      );
    } catch (error) {
      await this.stop();
      throw new Error(`${(error as Error).message}\n--- last lines of ${this.options.name} ---\n${this.tail()}`, { cause: error });
    }
  }

  /** Ends the process; SIGKILL by default (a crash: no draining, sockets reset). */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const proc = this.child;
    if (!proc) return;
    await killProcess(proc, signal);
    this.child = undefined;
  }

  /** Waits for a log line matching `pattern` printed after line `from`. */
  waitForLog(pattern: RegExp, timeoutMs = 10_000, from = 0): Promise<string> {
    return waitFor(`${this.options.name} to log ${pattern}`, () => this.log.slice(from).find((l) => pattern.test(l)), timeoutMs);
  }

  tail(lines = 30): string {
    return this.log.slice(-lines).join('\n');
  }
}

// ---------------------------------------------------------------------------------------------
// Admin API

export class Admin {
  constructor(
    readonly url: string,
    private readonly token = ADMIN_TOKEN,
  ) {}

  async request<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.url}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
    return (text ? JSON.parse(text) : {}) as T;
  }

  async createKey(kind: 'server' | 'client' | 'admin', environment = 'production'): Promise<string> {
    const body = kind === 'admin' ? { name: `e2e-${kind}`, kind } : { name: `e2e-${kind}`, kind, environment };
    return (await this.request<{ secret: string }>('POST', '/api-keys', body)).secret;
  }

  createFlag(key: string, fields: Record<string, unknown> = {}) {
    return this.request('POST', '/flags', { key, ...fields });
  }

  /** Writes a flag's config in an environment; answers the new revision. */
  async configure(key: string, config: Record<string, unknown>, environment = 'production'): Promise<number> {
    return (await this.request<{ revision: number }>('PUT', `/environments/${environment}/flags/${key}`, config)).revision;
  }

  async kill(key: string, environment = 'production'): Promise<number> {
    return (await this.request<{ revision: number }>('POST', `/environments/${environment}/flags/${key}/kill`, { reason: 'e2e' })).revision;
  }

  async revive(key: string, environment = 'production'): Promise<number> {
    return (await this.request<{ revision: number }>('POST', `/environments/${environment}/flags/${key}/revive`, { reason: 'e2e' })).revision;
  }

  async rollout(key: string, percentage: number, environment = 'production'): Promise<number> {
    return (await this.request<{ revision: number }>('PUT', `/environments/${environment}/flags/${key}/rollout`, { percentage })).revision;
  }

  async revision(environment = 'production'): Promise<number> {
    return (await this.request<{ revision: number }>('GET', `/environments/${environment}`)).revision;
  }
}

// ---------------------------------------------------------------------------------------------
// Watching the wire

/** What one `/sdk/v1/stream` connection asked for and received. Heartbeats (`ping`, every 15 s,
 *  whenever the server's timer fires) are left out: they carry nothing, and would land at random
 *  places in the event sequences the tests compare. */
export interface StreamConnection {
  lastEventId: string | undefined;
  status: number;
  events: Array<{ event: string; id: string | undefined; data: string }>;
}

/**
 * A `fetch` for the SDK's `fetch` option that passes everything through and records, per stream
 * connection, the `Last-Event-ID` sent and every server-sent event received (a tee of the body).
 * This is how the tests see whether a resume needed a whole `ruleset`. `rulesetGets` collects the
 * status of every `GET /sdk/v1/ruleset` (a poll: 200 is a whole ruleset, 304 nothing new).
 */
export function recordingFetch(connections: StreamConnection[], rulesetGets: number[] = []): FetchLike {
  return async (input, init) => {
    const response = await fetch(input, init);
    if (input.includes('/sdk/v1/ruleset')) rulesetGets.push(response.status);
    if (!input.includes('/sdk/v1/stream')) return response;
    const headers = new Headers(init?.headers);
    const connection: StreamConnection = { lastEventId: headers.get('last-event-id') ?? undefined, status: response.status, events: [] };
    connections.push(connection);
    if (!response.ok || response.body === null) return response;
    const [mine, theirs] = response.body.tee();
    void (async () => {
      const parser = createParser({
        onEvent: (e) => {
          if (e.event !== 'ping') connection.events.push({ event: e.event ?? 'message', id: e.id, data: e.data });
        },
      });
      const reader = theirs.getReader();
      const decoder = new TextDecoder();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          parser.feed(decoder.decode(value, { stream: true }));
        }
      } catch {
        // the connection ended (abort, reset): what arrived is recorded
      }
    })();
    return new Response(mine, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}

/** A logger that keeps everything (for assertions and for failure messages). */
export function memoryLogger(): { lines: string[]; error: (m: string) => void; warn: (m: string) => void; info: (m: string) => void; debug: (m: string) => void } {
  const lines: string[] = [];
  const at = (level: string) => (message: string) => void lines.push(`${level}: ${message}`);
  return { lines, error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}

/** Minimal SSE reader over `fetch` for the protocol-level checks (client keys). */
export async function openStream(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; events: StreamConnection['events']; close: () => void; body: () => string }> {
  const abort = new AbortController();
  const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
  const events: StreamConnection['events'] = [];
  let raw = '';
  if (response.ok && response.body) {
    const parser = createParser({
      onEvent: (e) => {
        if (e.event !== 'ping') events.push({ event: e.event ?? 'message', id: e.id, data: e.data });
      },
    });
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    void (async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          const text = decoder.decode(value, { stream: true });
          raw += text;
          parser.feed(text);
        }
      } catch {
        // closed
      }
    })();
  } else {
    raw = await response.text();
  }
  return { status: response.status, events, close: () => abort.abort(), body: () => raw };
}
