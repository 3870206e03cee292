import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type ChildHandle, startChild } from './children.js';

/** The Aviary server as a child process, started from its build; the demo never imports it. */
export interface AviaryServer {
  readonly url: string;
  readonly adminToken: string;
  readonly process: ChildHandle;
  stop(): Promise<void>;
}

export interface AviaryServerOptions {
  /** Embedded PGlite data folder (a fresh temporary one per demo). */
  dataDir: string;
  /** `main.js` of the built server (default: apps/server/dist next to this app). */
  entry?: string;
  adminToken?: string;
  /** More environment variables for the server (e.g. a shorter scheduler interval). */
  env?: Record<string, string>;
  /** Every line the server logs. */
  onLine?: (line: string) => void;
  timeoutMs?: number;
}

/** `npm start`'s entry: src/ and dist/ are both one level below apps/canary-demo. */
export const defaultServerEntry = fileURLToPath(new URL('../../server/dist/apps/server/src/main.js', import.meta.url));

/** `ava_` + 32 random characters, the shape `AVIARY_ADMIN_TOKEN` accepts. */
export function newAdminToken(): string {
  return `ava_${randomBytes(24).toString('base64url').slice(0, 32)}`;
}

// Nest colours its log lines unless NO_COLOR is set; strip codes anyway to read the port.
// eslint-disable-next-line no-control-regex
const ansi = /\u001b\[[0-9;]*m/g;

export function listeningPort(line: string): number | undefined {
  const match = /listening on https?:\/\/[^\s:]+:(\d+)/i.exec(line.replace(ansi, ''));
  return match ? Number(match[1]) : undefined;
}

export async function startAviaryServer(options: AviaryServerOptions): Promise<AviaryServer> {
  const entry = options.entry ?? defaultServerEntry;
  if (!existsSync(entry)) {
    throw new Error(`The Aviary server is not built (${entry} is missing): run \`npx nx run @aviary/server:build\``);
  }
  const adminToken = options.adminToken ?? newAdminToken();
  const env: NodeJS.ProcessEnv = { ...process.env };
  // The demo's server is always the embedded one, on loopback, on a free port.
  for (const name of ['DATABASE_URL', 'REDIS_URL', 'PORT', 'HOST', 'AVIARY_DATA_DIR', 'AVIARY_ADMIN_TOKEN', 'LOG_LEVEL']) delete env[name];
  Object.assign(env, {
    PORT: '0',
    HOST: '127.0.0.1',
    AVIARY_DATA_DIR: options.dataDir,
    AVIARY_ADMIN_TOKEN: adminToken,
    LOG_LEVEL: 'log',
    NO_COLOR: '1',
    ...options.env,
  });
  const child = await startChild({
    name: 'aviary server',
    args: [entry],
    env,
    ready: listeningPort,
    onLine: options.onLine,
    timeoutMs: options.timeoutMs ?? 60_000,
  });
  const url = `http://127.0.0.1:${child.port}`;
  const health = await fetch(`${url}/health`, { signal: AbortSignal.timeout(10_000) }).catch((err: Error) => err);
  if (health instanceof Error || !health.ok) {
    await child.stop();
    throw new Error(`aviary server: /health failed (${health instanceof Error ? health.message : health.status})\n${child.tail()}`);
  }
  return { url, adminToken, process: child, stop: () => child.stop(10_000) };
}
