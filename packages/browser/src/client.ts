import { evaluate as evaluateRuleset, type Cohort, type Context, type Flag, type Result, type Ruleset } from '@aviary/core';
import { AviaryError, type ErrorCode } from './errors/aviary-error.js';
import { createMetrics } from './metrics.js';

/** How the client is getting updates: an open stream, polling, or neither (serving what it has). */
export type Status = 'streaming' | 'polling' | 'offline';

export interface Logger {
  warn(message: string, ...details: unknown[]): void;
}

/** Options of `createClient`; `url`, `clientKey` and `context` are required. */
export interface ClientOptions {
  /** Base URL of the Aviary server, e.g. `https://flags.example.com`. */
  url: string;
  /** A client key (`avc_…`) of one environment; public by nature. */
  clientKey: string;
  /** The one user this page evaluates for; `key` identifies them to the server. */
  context: Context;
  /** The ruleset the server rendered this page with (SSR): served at once, and `ready()` resolves at once. */
  bootstrap?: Ruleset;
  /** Stream changes over SSE (default `true`); `false` polls only. */
  streaming?: boolean;
  /** Polling interval while polling (default 30 000 ms). */
  pollIntervalMs?: number;
  /** `ready()` resolves after at most this long, whatever happened (default 5 000 ms). */
  readyTimeoutMs?: number;
  /** A stream silent for this long is taken for dead and reopened (default 45 000 ms; the server pings every 15 s). */
  heartbeatTimeoutMs?: number;
  /** Where the last good ruleset is kept for an instant start (default `localStorage`; `null`: nowhere). */
  storage?: Pick<Storage, 'getItem' | 'setItem'> | null;
  /** Receives errors that no `error` listener took, and listeners' exceptions (default `console`). */
  logger?: Logger;
}

/** Event names and what their listeners receive. */
export interface ClientEvents {
  /** Once, when `ready()` resolves. */
  ready: undefined;
  /** The ruleset changed: the flags a patch touched, or `undefined` when anything may have changed. */
  change: string[] | undefined;
  /** Flags switched off by a kill; emitted before `change`. */
  kill: string[];
  error: AviaryError;
}

export interface AviaryClient {
  /** Resolves once a ruleset is in place (bootstrap, stored or fetched) or after `readyTimeoutMs`; never rejects. */
  ready(): Promise<void>;
  /** Whether the flag is on for the current user; `fallback` when the flag is missing, damaged or not loaded yet. */
  isEnabled(flag: string, fallback?: boolean): boolean;
  /** The variant served to the current user, or `fallback` when the flag is off or has none. */
  variant(flag: string, fallback?: string): string | undefined;
  /** The full result for the current user, or for `context` (same ruleset, so the same cohort view). */
  evaluate(flag: string, context?: Context): Result;
  /** Switches the user. A new `key` fetches that user's ruleset; resolves when it is in place (or on timeout). */
  setContext(context: Context): Promise<void>;
  /** Counts an outcome (an error, a purchase) against every flag and arm this user was served in the current window. */
  track(event: string, options?: { value?: number }): void;
  /** Subscribes; returns the unsubscribe function. */
  on<E extends keyof ClientEvents>(event: E, listener: (arg: ClientEvents[E]) => void): () => void;
  readonly status: Status;
  /** Stops all traffic and reports the pending metrics. */
  close(): void;
}

/** A `change` or `kill` event's data: whole flags and cohorts to upsert, `null` to remove. */
interface Patch {
  flags?: Record<string, Flag | null>;
  cohorts?: Record<string, Cohort | null>;
  /** On a ruleset: it replaces a revision the server no longer has (docs/protocol.md "Resets"). */
  reset?: boolean;
}

type Listener = (arg?: unknown) => void;

const RETRY_MS = 1_000;
const MAX_RETRY_MS = 30_000;
const FAILURES_BEFORE_POLLING = 3;
const METRICS_MS = 10_000;
const REQUEST_TIMEOUT_MS = 10_000;
const NONE: Ruleset = { environment: '', revision: -1, flags: {}, cohorts: {} };

/** A copy with the patch applied; rulesets are never mutated, since the evaluator caches by identity. */
function merge<T>(base: Record<string, T> = {}, patch: Record<string, T | null> = {}): Record<string, T> {
  const out = { ...base };
  for (const key in patch) {
    const value = patch[key];
    if (value) out[key] = value;
    else delete out[key];
  }
  return out;
}

export function createClient(options: ClientOptions): AviaryClient {
  const { clientKey, bootstrap, logger = console } = options;
  const base = `${options.url}`.replace(/\/+$/, '') + '/sdk/v1/';
  const pollMs = options.pollIntervalMs! > 0 ? options.pollIntervalMs! : 30_000;
  const readyMs = options.readyTimeoutMs! > 0 ? options.readyTimeoutMs! : 5_000;
  const heartbeatMs = options.heartbeatTimeoutMs! > 0 ? options.heartbeatTimeoutMs! : 45_000;
  const streaming = options.streaming !== false && typeof EventSource == 'function';
  // Read lazily: merely touching `localStorage` throws where the browser blocks it; `null` throws too, inside the same guard.
  const storage = () => (options.storage === undefined ? localStorage : options.storage!);

  let context: Context = { ...options.context };
  let ruleset = NONE;
  let status: Status = 'offline';
  let source: EventSource | undefined;
  let failures = 0;
  let attempt = 0;
  let polling = !streaming;
  let closed = false;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let silence: ReturnType<typeof setTimeout> | undefined;
  let pollTimer: ReturnType<typeof setTimeout> | undefined;
  const listeners: Record<string, Set<Listener>> = {};

  const emit = (event: string, arg?: unknown) => {
    listeners[event]?.forEach((listener) => {
      try {
        listener(arg);
      } catch (error) {
        logger.warn(`Aviary: a ${event} listener threw`, error);
      }
    });
    return listeners[event]?.size;
  };
  const fail = (code: ErrorCode, message: string) => {
    const error = new AviaryError(code, 'Aviary: ' + message);
    if (!emit('error', error)) logger.warn(error.message);
  };

  // One "loading" per user: settled by the first ruleset in place, or by the timeout.
  let settle!: () => void;
  let loading!: Promise<void>;
  const expect = () => {
    loading = new Promise((resolve) => {
      settle = resolve;
      setTimeout(resolve, readyMs);
    });
  };

  const url = (path: string, withKey = true) =>
    base + path + '?clientKey=' + encodeURIComponent(clientKey) + (withKey ? '&key=' + encodeURIComponent(context.key ?? '') : '');
  const slot = () => `aviary:${base}:${clientKey}:${context.key ?? ''}`;
  const restore = (): Ruleset | undefined => {
    try {
      const saved = JSON.parse(storage().getItem(slot())!);
      return saved.flags ? saved : undefined;
    } catch {
      // Nothing stored, storage blocked, or a damaged entry: start without it.
      return undefined;
    }
  };

  const use = (next: Ruleset, changed?: string[], killed?: string[]) => {
    ruleset = next;
    try {
      storage().setItem(slot(), JSON.stringify(next));
    } catch {
      // Storage full, blocked or disabled: the next start is just not instant.
    }
    settle();
    if (killed) emit('kill', killed);
    emit('change', changed);
  };

  const receive = (type: string, data: string, id: string) => {
    try {
      const body = JSON.parse(data) as Ruleset & Patch;
      const revision = +(id || body.revision);
      const current = ruleset.revision;
      // Revisions never go backwards (NaN fails this too), unless the server's database no longer
      // has ours (restored from an older backup): then its ruleset comes marked as a reset.
      if (!(revision > current || (type == 'ruleset' && body.reset && revision >= 0))) return;
      if (type == 'ruleset') {
        if (!body.flags) throw type;
        delete body.reset;
        return use({ ...body, cohorts: body.cohorts ?? {}, revision });
      }
      const gap = revision != current + 1;
      // A kill is applied even across a gap (switching off is always safe); the reload then brings the rest.
      if (type == 'kill' || !gap) {
        const flags = Object.keys(body.flags ?? {});
        use(
          { ...ruleset, flags: merge(ruleset.flags, body.flags), cohorts: merge(ruleset.cohorts, body.cohorts), revision: gap ? current : revision },
          body.cohorts ? undefined : flags,
          type == 'kill' ? flags : undefined,
        );
      }
      if (gap) connect(true);
    } catch {
      fail('PROTOCOL', `unreadable ${type} data`);
    }
  };

  const stopPolling = () => {
    polling = false;
    clearTimeout(pollTimer);
  };

  const poll = async () => {
    if (closed) return;
    const requestedFor = slot();
    const failed = (code: ErrorCode, message: string) => {
      if (polling) status = 'offline';
      fail(code, message);
    };
    try {
      // A hung request must not stall polling for good.
      const response = await fetch(url('ruleset'), {
        headers: ruleset.revision < 0 ? {} : { 'If-None-Match': `"${ruleset.revision}"` },
        signal: AbortSignal.timeout?.(REQUEST_TIMEOUT_MS),
      });
      const code = response.status;
      if (code == 401 || code == 403) failed('AUTHENTICATION', `the server refused the client key (${code})`);
      else if (code != 304 && !response.ok) failed('CONNECTION', `GET ruleset answered ${code}`);
      else {
        if (polling) status = 'polling';
        // A response for the previous user is dropped: setContext has asked again.
        if (code == 200 && requestedFor == slot()) receive('ruleset', await response.text(), '');
      }
    } catch {
      failed('CONNECTION', 'cannot reach ' + base);
    }
    if (polling && !closed) {
      clearTimeout(pollTimer);
      pollTimer = setTimeout(poll, pollMs);
    }
  };

  // EventSource would reconnect by itself, but with its own delay and without falling back to
  // polling: on any error it is closed and reopened here, with full-jitter backoff and resume.
  const connect = (reload?: boolean) => {
    source?.close();
    clearTimeout(retryTimer);
    clearTimeout(silence);
    if (closed || !streaming) return;
    const stream = (source = new EventSource(url('stream') + (ruleset.revision < 0 || reload ? '' : '&lastEventId=' + ruleset.revision)));
    // Anything heard proves the stream alive; silence past the timeout counts as an error.
    const alive = () => {
      clearTimeout(silence);
      silence = setTimeout(() => stream.onerror?.(new Event('error')), heartbeatMs);
    };
    stream.onopen = () => {
      failures = attempt = 0;
      status = 'streaming';
      stopPolling();
      alive();
    };
    stream.onerror = () => {
      clearTimeout(silence);
      stream.close();
      if (status == 'streaming') status = 'offline';
      fail('CONNECTION', 'the stream failed');
      if (++failures >= FAILURES_BEFORE_POLLING && !polling) {
        polling = true;
        void poll();
      }
      retryTimer = setTimeout(connect, Math.random() * Math.min(MAX_RETRY_MS, RETRY_MS * 2 ** attempt++));
    };
    for (const type of ['ruleset', 'change', 'kill'])
      stream.addEventListener(type, (event) => {
        alive();
        receive(type, (event as MessageEvent).data, (event as MessageEvent).lastEventId);
      });
    stream.addEventListener('ping', alive);
  };

  const refresh = () => {
    connect();
    if (polling) void poll();
  };

  const metrics = createMetrics((body) =>
    fetch(url('metrics', false), { method: 'POST', keepalive: true, headers: { 'Content-Type': 'application/json' }, body }).then(
      (response) => {
        if (!response.ok) fail('CONNECTION', `POST metrics answered ${response.status}`);
      },
      () => fail('CONNECTION', 'metrics not sent'),
    ),
  );
  const flush = () => metrics.flush();
  const metricsTimer = setInterval(flush, METRICS_MS);
  globalThis.addEventListener?.('pagehide', flush);

  const evaluate = (flag: string, ctx = context) => {
    const result = evaluateRuleset(ruleset, flag, ctx);
    if (result.reason != 'ERROR' && result.reason != 'FLAG_NOT_FOUND') metrics.expose(flag, result);
    return result;
  };

  expect();
  const ready = loading.then(() => {
    emit('ready');
  });
  ruleset = bootstrap ?? restore() ?? NONE;
  if (ruleset != NONE) settle();
  refresh();

  return {
    ready: () => ready,
    isEnabled(flag, fallback = false) {
      const result = evaluate(flag);
      return result.reason == 'ERROR' || result.reason == 'FLAG_NOT_FOUND' ? fallback : result.enabled;
    },
    variant: (flag, fallback) => evaluate(flag).variant ?? fallback,
    evaluate,
    setContext(next) {
      const before = slot();
      context = { ...next };
      if (slot() == before) return Promise.resolve();
      // Cohort membership is resolved per user by the server: the new user needs their own ruleset.
      flush();
      expect();
      ruleset = restore() ?? { ...ruleset, revision: -1 };
      if (ruleset.revision >= 0) settle();
      refresh();
      return loading;
    },
    track(event, { value = 0 } = {}) {
      metrics.track(event, value);
    },
    on(event, listener) {
      const set = (listeners[event] ??= new Set());
      set.add(listener as Listener);
      return () => set.delete(listener as Listener);
    },
    get status() {
      return status;
    },
    close() {
      closed = true;
      source?.close();
      clearTimeout(retryTimer);
      clearTimeout(silence);
      stopPolling();
      clearInterval(metricsTimer);
      globalThis.removeEventListener?.('pagehide', flush);
      flush();
      status = 'offline';
      settle();
    },
  };
}
