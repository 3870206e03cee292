/**
 * The built Aviary server as a child process, for every test that needs a real one: what
 * `npm start` and the Docker image run, never imported. The server's environment is only what the
 * caller gives plus PATH, the run tag (so the janitor kills a server a failed test left running)
 * and the defaults below: nothing leaks in from the test runner's environment.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { freePort } from './network.js';
import { runTagEnv } from './resources.js';

/** `main.js` of `nx build @aviary/server` (this file is tests/support/dist/server.js when it runs). */
export const SERVER_MAIN = fileURLToPath(new URL('../../../apps/server/dist/apps/server/src/main.js', import.meta.url));

const children = new Set<ChildProcess>();
// Last resort when a test process dies before its cleanup: no server outlives it.
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

export interface ServerOptions {
  /** Names the process in failure messages and `tail()`. */
  name: string;
  /** Server configuration (DATABASE_URL or AVIARY_DATA_DIR, AVIARY_ADMIN_TOKEN, REDIS_URL...), kept for every start. */
  env: Record<string, string | undefined>;
  /** The script to run; default the `nx build` output. */
  entry?: string;
  cwd?: string;
  /**
   * The port of every start. Default: a free port chosen once, so a restarted server comes back
   * at the same origin (clients reconnect to it as to a restarted production instance).
   */
  port?: number;
  /** How long a start may take before the process is killed; default 60 s (loading the server's modules alone has taken 25 s on a busy 2-core machine). */
  timeoutMs?: number;
}

export interface ServerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** From the signal to the exit. */
  ms: number;
}

export interface RunToExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Killed after `timeoutMs` (then `code` is null). */
  timedOut: boolean;
  ms: number;
  /** Every line printed, stdout and stderr interleaved. */
  output: string[];
}

// Nest colours its log lines unless NO_COLOR is set, and a caller may unset it.
// eslint-disable-next-line no-control-regex -- ANSI colour codes start with ESC
const ANSI = /\x1b\[[0-9;]*m/g;

/** The launcher owns PORT (see `ServerOptions.port`): an image's PORT in `env` does not move the server off it. */
function serverEnv(env: Record<string, string | undefined>, port: number): NodeJS.ProcessEnv {
  const all = { ...runTagEnv(), PATH: process.env.PATH ?? '', NODE_ENV: 'production', NO_COLOR: '1', HOST: '127.0.0.1', LOG_FORMAT: 'json', ...env, PORT: String(port) };
  return Object.fromEntries(Object.entries(all).filter(([, value]) => value !== undefined));
}

function spawnServer(entry: string, env: NodeJS.ProcessEnv, cwd: string | undefined, output: string[]): ChildProcess {
  if (!existsSync(entry)) throw new Error(`${entry} is missing: build the server first (npx nx run @aviary/server:build)`);
  const child = spawn(process.execPath, [entry], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  for (const stream of [child.stdout!, child.stderr!]) createInterface({ input: stream }).on('line', (line) => output.push(line.replace(ANSI, '')));
  return child;
}

/** Sends `signal` and waits for the exit; a process still there after `forceAfterMs` gets SIGKILL. */
async function end(child: ChildProcess, signal: NodeJS.Signals, forceAfterMs: number): Promise<ServerExit> {
  const started = Date.now();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, by) => resolve({ code, signal: by }));
  });
  const force = setTimeout(() => child.kill('SIGKILL'), forceAfterMs);
  child.kill(signal);
  const exit = await exited.finally(() => clearTimeout(force));
  return { ...exit, ms: Date.now() - started };
}

/** One server: started, stopped, killed and started again on the same port and data. */
export class ServerProcess {
  /** Every line printed, over all starts, ANSI colours removed; `[exited (...)]` marks each exit. */
  readonly output: string[] = [];
  private child?: ChildProcess;

  private constructor(
    private readonly options: ServerOptions,
    readonly port: number,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Chooses the port; nothing runs until `start()`. */
  static async create(options: ServerOptions): Promise<ServerProcess> {
    return new ServerProcess(options, options.port ?? (await freePort()));
  }

  /** `create()`, then `start()`. */
  static async start(options: ServerOptions): Promise<ServerProcess> {
    const server = await ServerProcess.create(options);
    await server.start();
    return server;
  }

  /**
   * Runs the server until it exits by itself, for servers that must not start (bad configuration,
   * a database in use): never waits for a listening line.
   */
  static run(options: Omit<ServerOptions, 'name' | 'port'>): Promise<RunToExit> {
    const started = Date.now();
    const output: string[] = [];
    const child = spawnServer(options.entry ?? SERVER_MAIN, serverEnv(options.env, 0), options.cwd, output);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 30_000);
    return new Promise((resolve) => {
      // 'close', not 'exit': the output streams are read to their end.
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, timedOut, ms: Date.now() - started, output });
      });
    });
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /**
   * Starts the process (again, after `stop()` or `kill()`: same port, same `env`, so the same
   * database or data folder, plus `extraEnv` for this start only) and resolves once it prints that
   * it listens, which it does after the migrations and the first ruleset load. Answers the boot time.
   */
  async start(extraEnv: Record<string, string | undefined> = {}): Promise<number> {
    const { name, env, entry = SERVER_MAIN, cwd, timeoutMs = 60_000 } = this.options;
    if (this.child) throw new Error(`${name} is already running`);
    const started = Date.now();
    const from = this.output.length;
    const child = spawnServer(entry, serverEnv({ ...env, ...extraEnv }, this.port), cwd, this.output);
    this.child = child;
    child.once('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      this.output.push(`[exited (${signal ?? code})]`);
    });
    const exited = new Promise<'exited'>((resolve) => child.once('exit', () => resolve('exited')));
    const until = Date.now() + timeoutMs;
    for (;;) {
      if (this.output.slice(from).some((line) => line.includes('Aviary listening on'))) return Date.now() - started;
      if ((await Promise.race([exited, new Promise((r) => setTimeout(r, 25))])) === 'exited') {
        throw new Error(`${name} exited during start:\n${this.tail()}`);
      }
      if (Date.now() > until) {
        await this.kill();
        throw new Error(`${name} did not start in ${timeoutMs} ms:\n${this.tail()}`);
      }
    }
  }

  /** A graceful stop (SIGTERM by default: the server drains); SIGKILL after `forceAfterMs`. No-op when not running. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', forceAfterMs = 10_000): Promise<ServerExit> {
    const child = this.child;
    if (!child) return { code: null, signal: null, ms: 0 };
    const exit = await end(child, signal, forceAfterMs);
    if (this.child === child) this.child = undefined;
    return exit;
  }

  /** `kill -9`: a crash, no draining, every connection reset at once. */
  kill(): Promise<ServerExit> {
    return this.stop('SIGKILL');
  }

  /** Log lines parsed as JSON (others skipped). */
  logs(): Array<Record<string, unknown>> {
    return this.output.flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }

  /** Waits for a line matching `pattern` printed after line `from`. */
  async waitForLog(pattern: RegExp, timeoutMs = 10_000, from = 0): Promise<string> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const line = this.output.slice(from).find((l) => pattern.test(l));
      if (line !== undefined) return line;
      if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${this.options.name} to log ${pattern}:\n${this.tail()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** The last lines, for failure messages. */
  tail(lines = 40): string {
    return this.output
      .slice(-lines)
      .map((line) => `[${this.options.name}] ${line}`)
      .join('\n');
  }
}
