/**
 * End-to-end harness: real Aviary servers (the built `apps/server` dist, started as child
 * processes, never imported, by `@aviary/test-support`), a migrated Postgres database per test file,
 * and a Redis of the test's own on a free port. Everything started here is killed when the test
 * process exits, as a last resort.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Socket } from 'node:net';
import { createParser } from 'eventsource-parser';
import type { FetchLike } from '../../../src/index.js';
import { cloneDatabase, createTestDatabase, databaseUrl, freePort, ServerProcess, type TestDatabase, withPostgres } from '@aviary/test-support';

export const ADMIN_TOKEN = 'ava_e2e_admin_token_0123456789';

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

export type { ServerProcess, TestDatabase };

/** A database of its own for one test file, migrated (a copy of the run's template). */
export const createDatabase = (): Promise<TestDatabase> => createTestDatabase('aviary_e2e');

/** A copy of the database as it is now, as a backup would hold it. Nothing may be connected to it. */
export async function backupDatabase(db: TestDatabase): Promise<TestDatabase> {
  const name = `${db.name}_backup_${randomBytes(3).toString('hex')}`;
  await cloneDatabase(db.name, name);
  return { name, url: databaseUrl(name), drop: () => withPostgres((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined) };
}

/** Replaces `db` with a copy of `backup`, as a restore does; whoever is connected to `db` is cut off. */
export async function restoreDatabase(db: TestDatabase, backup: TestDatabase): Promise<void> {
  await withPostgres((c) => c.query(`DROP DATABASE ${db.name} WITH (FORCE)`));
  await cloneDatabase(backup.name, db.name);
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
  env?: Record<string, string>;
}

/** One server from the built dist; restarts (`stop()`/`kill()`, then `start()`) come back on the same port. */
export function startServer(options: ServerOptions): Promise<ServerProcess> {
  return ServerProcess.start({
    name: options.name,
    env: { DATABASE_URL: options.databaseUrl, REDIS_URL: options.redisUrl, AVIARY_ADMIN_TOKEN: ADMIN_TOKEN, LOG_LEVEL: 'log', ...options.env },
  });
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
