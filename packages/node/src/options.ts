import type { Ruleset } from '@aviary/core';
import { toRuleset } from '@aviary/core/protocol';
import { ConfigurationError } from './errors/configuration-error.js';
import { createConsoleLogger, toLogger, type Logger } from './logger.js';
import type { FetchLike } from './platform/platform.js';

/** Options of `createClient`. Only `url` and `sdkKey` are required. */
export interface AviaryOptions {
  /** Base URL of the Aviary server, e.g. `https://flags.example.com`. */
  url: string;
  /** A server key (`avs_…`) of the environment to serve. */
  sdkKey: string;
  /** A ruleset to answer from until the first one arrives from the server (and while it is unreachable). */
  bootstrap?: Ruleset;
  /** Never connect: serve `bootstrap` (or the fallbacks) and report nothing; for tests and scripts (default `false`). */
  offline?: boolean;
  /** Stream changes over SSE (default `true`); `false` polls only. */
  streaming?: boolean;
  /** Polling interval when polling (default 30 000 ms). */
  pollIntervalMs?: number;
  /** `ready()` settles after at most this long (default 5 000 ms). */
  readyTimeoutMs?: number;
  /** Where to log (default: `console`, warnings and errors only). */
  logger?: Partial<Logger>;
  /** The `fetch` to use (default: Node's global `fetch`). */
  fetch?: FetchLike;
  /** A stream silent for this long is dead and is reopened (default 45 000 ms; the server pings every 15 s). */
  heartbeatTimeoutMs?: number;
  /** First reconnect delay ceiling; it doubles per failed attempt, with full jitter (default 1 000 ms). */
  initialReconnectDelayMs?: number;
  /** Largest reconnect delay ceiling (default 30 000 ms). */
  maxReconnectDelayMs?: number;
  /** Consecutive failed stream connections after which the client also polls (default 3). */
  streamFailuresBeforePolling?: number;
  /** Timeout of one ruleset poll or metrics report (default 10 000 ms). */
  requestTimeoutMs?: number;
  /** Report exposures and tracked events to the server (default `true`). */
  sendMetrics?: boolean;
  /** How often metrics are reported (default 10 000 ms); they are also reported on `close()`. */
  metricsIntervalMs?: number;
}

export interface ResolvedOptions {
  baseUrl: string;
  sdkKey: string;
  bootstrap: Ruleset | undefined;
  offline: boolean;
  streaming: boolean;
  pollIntervalMs: number;
  readyTimeoutMs: number;
  logger: Logger;
  fetch: FetchLike | undefined;
  heartbeatTimeoutMs: number;
  initialReconnectDelayMs: number;
  maxReconnectDelayMs: number;
  streamFailuresBeforePolling: number;
  requestTimeoutMs: number;
  sendMetrics: boolean;
  metricsIntervalMs: number;
}

export const defaults = {
  offline: false,
  streaming: true,
  pollIntervalMs: 30_000,
  readyTimeoutMs: 5_000,
  heartbeatTimeoutMs: 45_000,
  initialReconnectDelayMs: 1_000,
  maxReconnectDelayMs: 30_000,
  streamFailuresBeforePolling: 3,
  requestTimeoutMs: 10_000,
  sendMetrics: true,
  metricsIntervalMs: 10_000,
} as const;

/** Node's timers fire at once beyond this (a 32-bit signed millisecond count). */
const maxTimerMs = 2_147_483_647;

type NumberOption = {
  [K in keyof typeof defaults]: (typeof defaults)[K] extends number ? K : never;
}[keyof typeof defaults];

/**
 * Checks the caller's options. A bad optional value warns and falls back to its default; a missing
 * or malformed `url`/`sdkKey` yields a `ConfigurationError` (the client then serves offline).
 */
export function resolveOptions(input: unknown): { options: ResolvedOptions; problem?: ConfigurationError } {
  const raw = (typeof input === 'object' && input !== null ? input : {}) as Partial<Record<keyof AviaryOptions, unknown>>;
  const consoleLogger = createConsoleLogger('warn');
  const logger = raw.logger === undefined ? consoleLogger : toLogger(raw.logger, consoleLogger);
  if (raw.logger !== undefined && (typeof raw.logger !== 'object' || raw.logger === null)) {
    logger.warn('option "logger" must be an object with error/warn/info/debug methods; using the console');
  }

  const number = (name: NumberOption, min: number): number => {
    const value = raw[name];
    const fallback = defaults[name];
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > maxTimerMs) {
      logger.warn(`option "${name}" must be a number from ${min} to ${maxTimerMs}; got ${describe(value)}, using ${fallback}`);
      return fallback;
    }
    return value;
  };
  const boolean = (name: 'offline' | 'streaming' | 'sendMetrics'): boolean => {
    const value = raw[name];
    if (value === undefined) return defaults[name];
    if (typeof value !== 'boolean') {
      logger.warn(`option "${name}" must be a boolean; got ${describe(value)}, using ${defaults[name]}`);
      return defaults[name];
    }
    return value;
  };

  let bootstrap: Ruleset | undefined;
  if (raw.bootstrap !== undefined) {
    bootstrap = toRuleset(raw.bootstrap);
    if (bootstrap === undefined) logger.warn('option "bootstrap" is not a ruleset ({ environment, revision, flags, cohorts }); ignoring it');
  }

  let fetchImpl: FetchLike | undefined;
  if (raw.fetch !== undefined) {
    if (typeof raw.fetch === 'function') fetchImpl = raw.fetch as FetchLike;
    else logger.warn(`option "fetch" must be a function; got ${describe(raw.fetch)}, using the global fetch`);
  }

  const initialReconnectDelayMs = number('initialReconnectDelayMs', 1);
  let maxReconnectDelayMs = number('maxReconnectDelayMs', 1);
  if (maxReconnectDelayMs < initialReconnectDelayMs) {
    logger.warn(
      `option "maxReconnectDelayMs" (${maxReconnectDelayMs}) is below "initialReconnectDelayMs" (${initialReconnectDelayMs}); using ${initialReconnectDelayMs}`,
    );
    maxReconnectDelayMs = initialReconnectDelayMs;
  }

  const offline = boolean('offline');
  const problems: string[] = [];
  let baseUrl = '';
  if (offline && raw.url === undefined) {
    // an offline client never connects, so it needs no server
  } else if (typeof raw.url !== 'string' || raw.url.trim() === '') {
    problems.push('option "url" is required (the Aviary server, e.g. "https://flags.example.com")');
  } else {
    try {
      const parsed = new URL(raw.url.trim());
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('not http(s)');
      baseUrl = parsed.href.replace(/\/+$/, '');
    } catch {
      problems.push(`option "url" must be an absolute http(s) URL; got ${describe(raw.url)}`);
    }
  }
  const sdkKey = typeof raw.sdkKey === 'string' ? raw.sdkKey.trim() : '';
  if (sdkKey === '' && !offline) problems.push('option "sdkKey" is required (a server key, avs_…)');

  const options: ResolvedOptions = {
    baseUrl,
    sdkKey,
    bootstrap,
    offline,
    streaming: boolean('streaming'),
    pollIntervalMs: number('pollIntervalMs', 1),
    readyTimeoutMs: number('readyTimeoutMs', 0),
    logger,
    fetch: fetchImpl,
    heartbeatTimeoutMs: number('heartbeatTimeoutMs', 1),
    initialReconnectDelayMs,
    maxReconnectDelayMs,
    streamFailuresBeforePolling: Math.floor(number('streamFailuresBeforePolling', 1)),
    requestTimeoutMs: number('requestTimeoutMs', 1),
    sendMetrics: boolean('sendMetrics'),
    metricsIntervalMs: number('metricsIntervalMs', 1),
  };
  if (problems.length === 0) return { options };
  return {
    options,
    problem: new ConfigurationError(`Aviary: ${problems.join('; ')}. The client serves its bootstrap ruleset or your fallback values.`),
  };
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
