import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/** A process the demo started and owns: it is stopped with the demo, whatever way that ends. */
export interface ChildHandle {
  readonly name: string;
  readonly pid: number;
  /** The port the child announced. */
  readonly port: number;
  /** Its last lines of output (stdout and stderr), for error messages. */
  tail(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface ChildSpec {
  name: string;
  /** Script and arguments for `node`. */
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Reads one line of output; answers the port once the child says it is listening. */
  ready: (line: string) => number | undefined;
  timeoutMs?: number;
  /** Every line of output, as it comes. */
  onLine?: (line: string) => void;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Synchronous last resort: a crash or Ctrl-C of the demo must not leave servers behind.
  process.on('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

export function startChild(spec: ChildSpec): Promise<ChildHandle> {
  installExitHook();
  const child = spawn(process.execPath, spec.args, {
    env: spec.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const lines: string[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => {
    running.delete(child);
    resolve();
  }));

  return new Promise<ChildHandle>((resolve, reject) => {
    let settled = false;
    const tail = () => lines.join('\n');
    const fail = (message: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${spec.name}: ${message}${lines.length > 0 ? `\n--- last output ---\n${tail()}` : ''}`));
    };
    const timer = setTimeout(() => fail(`not listening after ${spec.timeoutMs ?? 30_000} ms`), spec.timeoutMs ?? 30_000);

    const onLine = (line: string) => {
      lines.push(line);
      if (lines.length > 200) lines.shift();
      spec.onLine?.(line);
      if (settled) return;
      const port = spec.ready(line);
      if (port === undefined) return;
      settled = true;
      clearTimeout(timer);
      resolve({
        name: spec.name,
        pid: child.pid ?? -1,
        port,
        tail,
        async stop(graceMs = 5_000) {
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.kill('SIGTERM');
          const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
          await exited;
          clearTimeout(killer);
        },
      });
    };
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', onLine);
    child.once('error', (err) => fail(`could not start: ${err.message}`));
    child.once('exit', (code, signal) => fail(`exited before listening (${signal ?? `code ${code}`})`));
  });
}

/** The `{"listening":<port>}` line the demo's own services print. */
export function listeningLine(line: string): number | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(line) as { listening?: unknown };
    return typeof parsed.listening === 'number' ? parsed.listening : undefined;
  } catch {
    return undefined;
  }
}
