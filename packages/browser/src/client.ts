import { evaluator, parsedPatterns, type Context, type Result, type Ruleset } from '@aviary/core';
import { applyMessages, initialState, resumeRevision, toRuleset, type Applied, type ConnectionStatus, type ProtocolState, type SdkErrorCode, type SdkEvents } from '@aviary/core/protocol';
import { AviaryError } from './errors/aviary-error.js';
import { createMetrics } from './metrics.js';

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

/** Event names and what their listeners receive: the same as `@aviary/node`'s. */
export type AviaryEvents = SdkEvents<AviaryError>;

type Listener<E extends keyof AviaryEvents> = (payload: AviaryEvents[E]) => void;

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
  on<E extends keyof AviaryEvents>(event: E, listener: Listener<E>): () => void;
  off<E extends keyof AviaryEvents>(event: E, listener: Listener<E>): void;
  readonly status: ConnectionStatus;
  /** Revision of the ruleset being served (bootstrap, stored or fetched); undefined when there is none. */
  readonly revision: number | undefined;
  /** Stops all traffic and reports the pending metrics. */
  close(): void;
}

const RETRY_MS = 1_000;
const MAX_RETRY_MS = 30_000;
const FAILURES_BEFORE_POLLING = 3;
const METRICS_MS = 10_000;
const REQUEST_TIMEOUT_MS = 10_000;
const NONE: Ruleset = { environment: '', revision: 0, flags: {}, cohorts: {} };
/** `matches` compiles the parsed form the server sends client keys: no pattern parser ships here. */
const evaluateRuleset = evaluator(parsedPatterns);

export function createClient(options: ClientOptions): AviaryClient {
  const { clientKey, logger = console } = options;
  const base = `${options.url}`.replace(/\/+$/, '') + '/sdk/v1/';
  const pollMs = options.pollIntervalMs! > 0 ? options.pollIntervalMs! : 30_000;
  const readyMs = options.readyTimeoutMs! > 0 ? options.readyTimeoutMs! : 5_000;
  const heartbeatMs = options.heartbeatTimeoutMs! > 0 ? options.heartbeatTimeoutMs! : 45_000;
  const streaming = options.streaming !== false && typeof EventSource == 'function';
  // Read lazily: merely touching `localStorage` throws where the browser blocks it; `null` throws too, inside the same guard.
  const storage = () => (options.storage === undefined ? localStorage : options.storage!);

  let context: Context = { ...options.context };
  let state: ProtocolState;
  let status: ConnectionStatus = 'offline';
  let source: EventSource | undefined;
  let failures = 0;
  let attempt = 0;
  let polling = !streaming;
  let closed = false;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let silence: ReturnType<typeof setTimeout> | undefined;
  let pollTimer: ReturnType<typeof setTimeout> | undefined;
  const listeners: { [E in keyof AviaryEvents]?: Set<(payload: never) => void> } = {};

  const emit = <E extends keyof AviaryEvents>(event: E, payload: AviaryEvents[E]) => {
    listeners[event]?.forEach((listener) => {
      try {
        (listener as Listener<E>)(payload);
      } catch (error) {
        logger.warn(`Aviary: a ${event} listener threw`, error);
      }
    });
    return listeners[event]?.size;
  };
  const fail = (code: SdkErrorCode, message: string) => {
    const error = new AviaryError(code, 'Aviary: ' + message);
    if (!emit('error', error)) logger.warn(error.message);
  };
  const setStatus = (next: ConnectionStatus) => {
    const previous = status;
    if (next != previous) emit('status', { status: (status = next), previous });
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
  expect();
  const ready = loading.then(() => {});

  const url = (path: string, withKey = true) =>
    base + path + '?clientKey=' + encodeURIComponent(clientKey) + (withKey ? '&key=' + encodeURIComponent(context.key ?? '') : '');
  const slot = () => `aviary:${base}:${clientKey}:${context.key ?? ''}`;
  const restore = (): Ruleset | undefined => {
    try {
      return toRuleset(JSON.parse(storage().getItem(slot())!));
    } catch {
      // Nothing stored, storage blocked, or a damaged entry: start without it.
      return undefined;
    }
  };

  /** Serves `next`; the first ruleset ever in place is announced as `ready` (once `ready()` resolved). */
  const hold = (next: ProtocolState) => {
    const held = state?.ruleset;
    const { ruleset } = (state = next);
    if (ruleset == held) return;
    try {
      storage().setItem(slot(), JSON.stringify(ruleset));
    } catch {
      // Storage full, blocked or disabled: the next start is just not instant.
    }
    settle();
    if (!held) void ready.then(() => emit('ready', { revision: ruleset!.revision }));
  };

  // The one protocol implementation (@aviary/core/protocol): kills and changes are applied before anyone hears of them.
  const apply = ({ state, events, problems, needsReload }: Applied) => {
    hold(state);
    for (const [event, payload] of events) emit(event, payload as never);
    for (const problem of problems) fail('PROTOCOL', problem);
    if (needsReload) connect();
  };

  const stopPolling = () => {
    polling = false;
    clearTimeout(pollTimer);
  };

  const poll = async () => {
    if (closed) return;
    const requestedFor = slot();
    const failed = (code: SdkErrorCode, message: string) => {
      if (polling) setStatus('offline');
      fail(code, message);
    };
    try {
      // A hung request must not stall polling for good.
      const revision = resumeRevision(state);
      const response = await fetch(url('ruleset'), {
        headers: revision === undefined ? {} : { 'If-None-Match': `"${revision}"` },
        signal: AbortSignal.timeout?.(REQUEST_TIMEOUT_MS),
      });
      const code = response.status;
      if (code == 401 || code == 403) failed('AUTHENTICATION', `the server refused the client key (${code})`);
      else if (code != 304 && !response.ok) failed('CONNECTION', `GET ruleset answered ${code}`);
      else {
        if (polling) setStatus('polling');
        // A response for the previous user is dropped: setContext has asked again.
        if (code == 200 && requestedFor == slot()) apply(applyMessages(state, [{ event: 'ruleset', data: await response.text() }]));
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
  const connect = () => {
    source?.close();
    clearTimeout(retryTimer);
    clearTimeout(silence);
    if (closed || !streaming) return;
    const revision = resumeRevision(state);
    // Protocol 2: the server may send membership deltas (`members`), cut to this user.
    const stream = (source = new EventSource(url('stream') + '&protocol=2' + (revision === undefined ? '' : '&lastEventId=' + revision)));
    const drop = (code: SdkErrorCode, message: string) => {
      clearTimeout(silence);
      stream.close();
      if (status == 'streaming') setStatus('offline');
      fail(code, message);
      if (++failures >= FAILURES_BEFORE_POLLING && !polling) {
        polling = true;
        void poll();
      }
      retryTimer = setTimeout(connect, Math.random() * Math.min(MAX_RETRY_MS, RETRY_MS * 2 ** attempt++));
    };
    // Anything heard proves the stream alive; silence past the timeout counts as an error.
    const alive = () => {
      clearTimeout(silence);
      silence = setTimeout(() => drop('HEARTBEAT_TIMEOUT', `the stream was silent for ${heartbeatMs} ms`), heartbeatMs);
    };
    stream.onopen = () => {
      failures = attempt = 0;
      setStatus('streaming');
      stopPolling();
      alive();
    };
    stream.onerror = () => drop('CONNECTION', 'the stream failed');
    for (const event of ['ruleset', 'change', 'kill'])
      stream.addEventListener(event, (message) => {
        alive();
        apply(applyMessages(state, [{ event, id: (message as MessageEvent).lastEventId, data: (message as MessageEvent).data }]));
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
    const result = evaluateRuleset(state.ruleset ?? NONE, flag, ctx);
    if (result.reason != 'ERROR' && result.reason != 'FLAG_NOT_FOUND') metrics.expose(flag, result);
    return result;
  };
  const off = <E extends keyof AviaryEvents>(event: E, listener: Listener<E>) => void listeners[event]?.delete(listener);

  // A bootstrap or stored ruleset came from the server, so its revision counts: the stream resumes from it.
  hold(initialState(options.bootstrap ?? restore(), true));
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
      // Until it arrives the last one is served, but its revision is not this user's.
      flush();
      expect();
      const stored = restore();
      hold(stored ? initialState(stored, true) : initialState(state.ruleset));
      refresh();
      return loading;
    },
    track(event, { value = 0 } = {}) {
      metrics.track(event, value);
    },
    on(event, listener) {
      (listeners[event] ??= new Set()).add(listener);
      return () => off(event, listener);
    },
    off,
    get status() {
      return status;
    },
    get revision() {
      return state.ruleset?.revision;
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
      setStatus('offline');
      settle();
    },
  };
}
