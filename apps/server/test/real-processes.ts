import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, utimesSync } from 'node:fs';
import { type ClientRequest, get as httpGet } from 'node:http';
import { createServer, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { constants as zlibConstants, createGunzip } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { freePort, testTempDir } from '@aviary/test-support';

/**
 * Real processes for the deploy, fault and soak tests: a fresh build of the server (run by
 * `ServerProcess` of @aviary/test-support), a private Postgres cluster (initdb + pg_ctl) and a
 * private redis-server, each on its own loopback port and in its own temporary folder, so stopping
 * them disturbs nothing else on the machine.
 */

export const SERVER_DIR = fileURLToPath(new URL('..', import.meta.url));
export const REPO = resolve(SERVER_DIR, '../..');
const TSC = join(REPO, 'node_modules/typescript/bin/tsc');

// ---------------------------------------------------------------- builds

function newestSource(dir: string): number {
  let newest = 0;
  if (!existsSync(dir)) return newest;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** Runs `work` while holding a lock folder, so parallel test files never build into one folder at once. */
function locked<T>(name: string, work: () => T): T {
  const lock = join(tmpdir(), `aviary-${name}-${Buffer.from(REPO).toString('hex').slice(-16)}.lock`);
  const until = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A lock older than two minutes belongs to a build that died.
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 120_000) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > until) throw new Error(`timed out waiting for ${lock}`);
      execFileSync('sleep', ['0.2']);
    }
  }
  try {
    return work();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** An incremental build rewrites only changed files but always its build info: that dates it. */
function builtAfter(root: string, entry: string, sources: number): boolean {
  if (!existsSync(root)) return false;
  const info = readdirSync(root, { withFileTypes: true }).find((e) => e.isFile() && e.name.endsWith('.tsbuildinfo'));
  return existsSync(join(root, entry)) && info !== undefined && statSync(join(root, info.name)).mtimeMs > sources;
}

/**
 * The folder holding the compiled server as `apps/server/dist` lays it out
 * (`apps/server/src/main.js`, `migrations/`): the `nx build` output when it is newer than every
 * source, else a fresh compilation of the same sources into out-tsc (never into dist/, which a
 * concurrent `nx build` may be writing).
 */
export function serverBuild(): string {
  const dist = join(SERVER_DIR, 'dist');
  const sources = Math.max(newestSource(join(SERVER_DIR, 'src')), newestSource(join(REPO, 'migrations')));
  const fresh = (root: string) => builtAfter(root, 'apps/server/src/main.js', sources);
  if (fresh(dist)) return dist;
  const out = join(SERVER_DIR, 'out-tsc/ops-server');
  return locked('ops-server', () => {
    if (!fresh(out)) {
      execFileSync(process.execPath, [TSC, '-p', 'tsconfig.lib.json', '--outDir', out, '--tsBuildInfoFile', join(out, 'tsconfig.tsbuildinfo')], {
        cwd: SERVER_DIR,
        stdio: 'inherit',
      });
      // A build with nothing to do leaves its build info untouched: date it anyway.
      utimesSync(join(out, 'tsconfig.tsbuildinfo'), new Date(), new Date());
    }
    return out;
  });
}

/** The entry of the Node SDK (`@aviary/node`), built the same way when its dist is stale. */
export function nodeSdkEntry(): string {
  const pkg = join(REPO, 'packages/node');
  const sources = newestSource(join(pkg, 'src'));
  const fresh = (root: string) => builtAfter(root, 'index.js', sources);
  if (fresh(join(pkg, 'dist'))) return join(pkg, 'dist/index.js');
  const out = join(pkg, 'out-tsc/ops-node');
  return locked('ops-node', () => {
    if (!fresh(out)) {
      execFileSync(process.execPath, [TSC, '-p', 'tsconfig.lib.json', '--outDir', out, '--tsBuildInfoFile', join(out, 'tsconfig.tsbuildinfo')], {
        cwd: pkg,
        stdio: 'inherit',
      });
      utimesSync(join(out, 'tsconfig.tsbuildinfo'), new Date(), new Date());
    }
    return join(out, 'index.js');
  });
}

// ---------------------------------------------------------------- small helpers

export { freePort };

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `check` until it answers something truthy, or fails naming `what`. */
export async function waitFor<T>(what: string, check: () => Promise<T> | T, timeoutMs = 15_000, everyMs = 50): Promise<NonNullable<T>> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await sleep(everyMs);
  }
}

function run(command: string, args: string[], options: { asPostgres?: boolean } = {}): string {
  const asRoot = process.getuid?.() === 0;
  const [cmd, argv] = options.asPostgres && asRoot ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
  return execFileSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

// ---------------------------------------------------------------- Postgres

function postgresBin(name: string): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const version of versions) {
    const path = join(root, version, 'bin', name);
    if (existsSync(path)) return path;
  }
  return name;
}

/** A private Postgres cluster in a temporary folder, on its own port, trust authentication. */
export class PrivatePostgres {
  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  static async create(): Promise<PrivatePostgres> {
    const dir = testTempDir('pg');
    // initdb refuses to run as root: the cluster belongs to the postgres user.
    if (process.getuid?.() === 0) {
      const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
      chownSync(dir, uid, gid);
    }
    run(postgresBin('initdb'), ['-D', join(dir, 'data'), '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale=C'], { asPostgres: true });
    const pg = new PrivatePostgres(dir, await freePort());
    await pg.start();
    return pg;
  }

  async start(): Promise<void> {
    const options = `-p ${this.port} -c listen_addresses=127.0.0.1 -k ${this.dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`;
    run(postgresBin('pg_ctl'), ['-D', join(this.dir, 'data'), '-o', options, '-l', join(this.dir, 'log'), '-w', '-t', '30', 'start'], { asPostgres: true });
  }

  /** `fast` rolls back open transactions and disconnects everyone, like a restart by an operator. */
  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    run(postgresBin('pg_ctl'), ['-D', join(this.dir, 'data'), '-m', mode, '-w', '-t', '30', 'stop'], { asPostgres: true });
  }

  async destroy(): Promise<void> {
    try {
      await this.stop('immediate');
    } catch {
      // Already stopped.
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- Redis

/** A private redis-server on its own port, without persistence. */
export class PrivateRedis {
  private child?: ChildProcess;

  private constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async create(): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort());
    await redis.start();
    return redis;
  }

  async start(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    await new Promise<void>((resolveReady, reject) => {
      const timer = setTimeout(() => reject(new Error('redis-server did not start')), 10_000);
      child.once('exit', (code) => reject(new Error(`redis-server exited (${code})`)));
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (/Ready to accept connections/.test(line)) {
          clearTimeout(timer);
          resolveReady();
        }
      });
    });
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  destroy(): Promise<void> {
    return this.stop();
  }
}

// ---------------------------------------------------------------- a load balancer stand-in

/**
 * A TCP round-robin balancer over some backends: a connection goes to the next backend that
 * accepts it (a refused connection tries the next one, as HAProxy's redispatch does).
 */
export class RoundRobinProxy {
  private next = 0;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: ReturnType<typeof createServer>,
    readonly port: number,
    private readonly backends: number[],
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async create(backendUrls: string[]): Promise<RoundRobinProxy> {
    const backends = backendUrls.map((u) => Number(new URL(u).port));
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const proxy = new RoundRobinProxy(server, (server.address() as { port: number }).port, backends);
    server.on('connection', (client) => proxy.route(client, 0));
    return proxy;
  }

  private route(client: Socket, attempt: number): void {
    if (attempt >= this.backends.length) {
      client.destroy();
      return;
    }
    const port = this.backends[this.next++ % this.backends.length]!;
    const upstream = connect(port, '127.0.0.1');
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
      this.sockets.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      const close = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.once('close', close).once('error', close);
      upstream.once('close', close).once('error', close);
    });
    upstream.once('error', () => {
      if (!connected) this.route(client, attempt + 1);
    });
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

// ---------------------------------------------------------------- a database that stops answering

/** Accepts TCP connections and never answers a byte: a database host that hangs. */
export class SilentTcpServer {
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: ReturnType<typeof createServer>,
    readonly port: number,
  ) {}

  static async create(): Promise<SilentTcpServer> {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const silent = new SilentTcpServer(server, (server.address() as { port: number }).port);
    server.on('connection', (socket) => {
      silent.sockets.add(socket);
      socket.on('error', () => undefined).on('close', () => silent.sockets.delete(socket));
    });
    return silent;
  }

  get connections(): number {
    return this.sockets.size;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/**
 * A TCP proxy to one backend that can go silent: `silence()` stops forwarding on every open
 * connection and accepts new ones without connecting them (a database host that stopped
 * answering, TCP still up); `restore()` forwards new connections again. Connections silenced stay
 * silent, as they do when a host hangs: the client has to give up on them.
 */
export class SilenceableProxy {
  private silent = false;
  private readonly sockets = new Set<Socket>();
  private readonly live = new Set<{ client: Socket; upstream: Socket }>();

  private constructor(
    private readonly server: ReturnType<typeof createServer>,
    readonly port: number,
    private readonly backend: { host: string; port: number },
  ) {}

  static async create(backend: { host: string; port: number }): Promise<SilenceableProxy> {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const proxy = new SilenceableProxy(server, (server.address() as { port: number }).port, backend);
    server.on('connection', (client) => proxy.accept(client));
    return proxy;
  }

  silence(): void {
    this.silent = true;
    for (const { client, upstream } of this.live) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.removeAllListeners('data');
      upstream.removeAllListeners('data');
      // Read and drop, so nothing flows and nothing backs up.
      client.on('data', () => undefined);
      upstream.on('data', () => undefined);
    }
    this.live.clear();
  }

  restore(): void {
    this.silent = false;
  }

  private accept(client: Socket): void {
    this.sockets.add(client);
    client.on('error', () => undefined).on('close', () => this.sockets.delete(client));
    if (this.silent) {
      client.on('data', () => undefined);
      return;
    }
    const upstream = connect(this.backend.port, this.backend.host);
    this.sockets.add(upstream);
    const pair = { client, upstream };
    this.live.add(pair);
    const close = () => {
      this.live.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    upstream.on('error', close).on('close', () => {
      this.sockets.delete(upstream);
      close();
    });
    client.on('close', close);
    client.pipe(upstream).pipe(client);
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

// ---------------------------------------------------------------- a raw SSE reader

export interface SseEvent {
  id?: number;
  event: string;
  data: string;
}

/** One `GET /sdk/v1/stream` (or another event stream) read frame by frame; `revision` is the id of the last event. */
export class SseReader {
  readonly events: SseEvent[] = [];
  revision = -1;
  status = 0;
  ended = false;
  /** When the server ended the stream (`Date.now()`). */
  endedAt?: number;
  /** The answer's `Content-Encoding` (`identity` when none). */
  encoding = 'identity';
  /** Bytes received as sent, before any decoding. */
  wireBytes = 0;
  private request?: ClientRequest;

  private constructor() {}

  /** `query`: appended to the URL, e.g. `key=user-1` for a client key's user; `path`: another stream (OFREP's);
   *  `gzip`: sends `Accept-Encoding: gzip` and decodes a gzip answer. */
  static open(baseUrl: string, sdkKey: string, lastEventId?: number, query?: string, path = '/sdk/v1/stream', gzip = false): Promise<SseReader> {
    const reader = new SseReader();
    return new Promise((resolveOpen, reject) => {
      const headers: Record<string, string> = { Authorization: `Bearer ${sdkKey}`, Accept: 'text/event-stream' };
      if (lastEventId !== undefined) headers['Last-Event-ID'] = String(lastEventId);
      if (gzip) headers['Accept-Encoding'] = 'gzip';
      const req = httpGet(`${baseUrl}${path}${query ? `?${query}` : ''}`, { headers, agent: false }, (res) => {
        reader.status = res.statusCode ?? 0;
        reader.encoding = res.headers['content-encoding'] ?? 'identity';
        res.on('data', (chunk: Buffer | string) => (reader.wireBytes += Buffer.byteLength(chunk)));
        const body: Readable = reader.encoding === 'gzip' ? res.pipe(createGunzip({ flush: zlibConstants.Z_SYNC_FLUSH })) : res;
        body.setEncoding('utf8');
        const record = (frame: string) => {
          const event: SseEvent = { event: 'message', data: '' };
          for (const line of frame.split('\n')) {
            if (line.startsWith('id: ')) event.id = Number(line.slice(4));
            else if (line.startsWith('event: ')) event.event = line.slice(7);
            else if (line.startsWith('data: ')) event.data += line.slice(6);
          }
          // A comment (`: connected`) or a heartbeat (`event: ping`): nothing to record.
          if ((event.id === undefined && event.data === '') || event.event === 'ping') return;
          reader.events.push(event);
          if (event.id !== undefined) reader.revision = event.id;
        };
        // The chunks of the frame under way, joined once it ends: a ruleset of many MB arrives in
        // hundreds of chunks, and searching all of it again for each would take seconds.
        const parts: string[] = [];
        body.on('data', (chunk: string) => {
          let from = 0;
          if (chunk.startsWith('\n') && parts.at(-1)?.endsWith('\n')) {
            record(parts.join('').slice(0, -1));
            parts.length = 0;
            from = 1;
          }
          let end: number;
          while ((end = chunk.indexOf('\n\n', from)) >= 0) {
            parts.push(chunk.slice(from, end));
            record(parts.join(''));
            parts.length = 0;
            from = end + 2;
          }
          if (from < chunk.length) parts.push(chunk.slice(from));
        });
        const end = () => {
          if (!reader.ended) reader.endedAt = Date.now();
          reader.ended = true;
        };
        res.on('end', end).on('close', end).on('error', end);
        resolveOpen(reader);
      });
      reader.request = req;
      req.on('error', (err) => {
        reader.ended = true;
        if (reader.status === 0) reject(err);
      });
    });
  }

  close(): void {
    this.request?.destroy();
    this.ended = true;
  }
}

// ---------------------------------------------------------------- admin calls

export async function adminCall(
  baseUrl: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  let parsed: Record<string, unknown>;
  try {
    parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    parsed = { text };
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/** Reads one metric's value (summed over its series) from a `/metrics` text. */
export function metricValue(text: string, name: string): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}
