import { evaluate as evaluateRuleset, type Context, type Result, type Ruleset } from '@aviary/core';
import { createEmitter } from './emitter.js';
import type { AviaryError } from './errors/aviary-error.js';
import type { ConfigurationError } from './errors/configuration-error.js';
import { ProtocolError } from './errors/protocol-error.js';
import { createMetricsRecorder, createMetricsReporter, type MetricsRecorder, type MetricsReporter } from './metrics.js';
import { resolveOptions, type AviaryOptions, type ResolvedOptions } from './options.js';
import { createNodePlatform } from './platform/node-platform.js';
import type { Platform, Timer } from './platform/platform.js';
import { createPoller, type Poller } from './poller.js';
import { diffRulesets, emptyRuleset, isReset, patchRuleset, toPatch, toRuleset, type RulesetDiff } from './ruleset.js';
import { createStream, type Stream, type StreamMessage } from './stream.js';

/** How the client currently gets its updates. */
export type ConnectionStatus = 'streaming' | 'polling' | 'offline';

/** The first ruleset from the server has arrived. */
export interface ReadyEvent {
  revision: number;
}

/** The served ruleset changed (a `change` or `kill` event, a reload, a poll, or the first ruleset replacing a bootstrap). */
export interface ChangeEvent {
  revision: number;
  /** Flags added, changed or removed. */
  flags: string[];
  /** Cohorts added, changed or removed (flags that use them may answer differently too). */
  cohorts: string[];
}

/** Flags were switched off. Emitted before the matching `change`. */
export interface KillEvent {
  revision: number;
  flags: string[];
}

export interface StatusEvent {
  status: ConnectionStatus;
  previous: ConnectionStatus;
}

/** The client's events and their payloads. */
export interface AviaryEvents {
  ready: ReadyEvent;
  change: ChangeEvent;
  kill: KillEvent;
  /** Something went wrong talking to the server; evaluation goes on with the last good ruleset. */
  error: AviaryError;
  status: StatusEvent;
}

export interface TrackOptions {
  /** Added up per flag arm in the report's `sum` (default 0). */
  value?: number;
}

/** A feature-flag client. Evaluation is local and synchronous, and never throws. */
export interface AviaryClient {
  /**
   * Resolves once the first ruleset has arrived, or after `readyTimeoutMs`, or when the client
   * cannot connect at all (bad key, bad options). Never rejects; until then the client answers
   * from its bootstrap ruleset or the caller's fallbacks.
   */
  ready(): Promise<void>;
  /** Whether the flag is on for this context; `fallback` when the flag is missing or broken. */
  isEnabled(flag: string, context: Context, fallback?: boolean): boolean;
  /** The variant this context gets; `fallback` when the flag is off, has no variant, is missing or broken. */
  variant(flag: string, context: Context): string | undefined;
  variant(flag: string, context: Context, fallback: string): string;
  /** The full result, with its reason. */
  evaluate(flag: string, context: Context): Result;
  /** Every flag's result for this context (not counted as exposures). */
  allFlags(context: Context): Record<string, Result>;
  /** Records an outcome (`error`, `purchase`, …) for the flag arms this context was exposed to in the current window. */
  track(event: string, context: Context, options?: TrackOptions): void;
  on<K extends keyof AviaryEvents>(event: K, listener: (payload: AviaryEvents[K]) => void): void;
  off<K extends keyof AviaryEvents>(event: K, listener: (payload: AviaryEvents[K]) => void): void;
  readonly status: ConnectionStatus;
  /** Revision of the ruleset being served (bootstrap or server); undefined when there is none. */
  readonly revision: number | undefined;
  /** Whether a ruleset from the server has arrived. */
  readonly initialized: boolean;
  /** Stops connecting, reports the last metrics, and keeps answering from the last ruleset. */
  close(): Promise<void>;
}

/** Creates a client and starts connecting. Never throws: bad options are logged and reported as `error`. */
export function createClient(options: AviaryOptions): AviaryClient {
  const { options: resolved, problem } = resolveOptions(options);
  return createClientOnPlatform(resolved, createNodePlatform(resolved.fetch), problem);
}

/** The client over any platform (the seam tests and other hosts use). */
export function createClientOnPlatform(
  options: ResolvedOptions,
  platform: Platform,
  problem?: ConfigurationError,
): AviaryClient {
  const { logger } = options;
  const emitter = createEmitter<AviaryEvents>(logger);

  let current: Ruleset | undefined = options.bootstrap;
  let initialized = false;
  let needsWholeRuleset = false;
  let closed = false;
  let fatalError: AviaryError | undefined;
  let lastPollOk = false;
  let status: ConnectionStatus = 'offline';
  let readyTimer: Timer | undefined;
  let settleReady!: () => void;
  const readyPromise = new Promise<void>((resolve) => {
    settleReady = () => {
      readyTimer?.cancel();
      resolve();
    };
  });
  let closePromise: Promise<void> | undefined;

  const serverRevision = (): number | undefined => (initialized ? current?.revision : undefined);

  function updateStatus(): void {
    let next: ConnectionStatus = 'offline';
    if (!closed && fatalError === undefined) {
      // While polling, a new stream counts only once something has arrived on it (see onAlive).
      if (stream?.open && !poller?.running) next = 'streaming';
      else if (poller?.running && lastPollOk) next = 'polling';
    }
    if (next === status) return;
    const previous = status;
    status = next;
    logger.debug(`status ${previous} -> ${next}`);
    emitter.emit('status', { status: next, previous });
  }

  function reportError(error: AviaryError, level: 'warn' | 'info' | 'debug'): void {
    logger[level](error.message);
    emitter.emit('error', error);
  }

  /**
   * Makes the last of `steps` the served ruleset, then tells listeners, one event per revision:
   * every kill first, then the changes, then ready. Listeners thus always see the newest state.
   * `patched[i]` is what step `i` changed when it came from a patch; a whole ruleset is diffed
   * against the step before it.
   */
  function install(steps: readonly Ruleset[], patched?: readonly (RulesetDiff | undefined)[]): void {
    const last = steps.length - 1;
    if (last < 0) return;
    const next = steps[last]!;
    const previous = current;
    const first = !initialized;
    current = next;
    initialized = true;
    needsWholeRuleset = false;
    if (previous !== undefined) {
      const diffs: RulesetDiff[] = [];
      for (let i = 0; i <= last; i++) diffs.push(patched?.[i] ?? diffRulesets(i === 0 ? previous : steps[i - 1]!, steps[i]!));
      for (let i = 0; i <= last; i++) {
        const killed = diffs[i]!.killed;
        if (killed.length === 0) continue;
        const revision = steps[i]!.revision;
        logger.info(`killed at revision ${revision}: ${killed.join(', ')}`);
        emitter.emit('kill', { revision, flags: killed });
      }
      for (let i = 0; i <= last; i++) {
        const diff = diffs[i]!;
        if (diff.flags.length > 0 || diff.cohorts.length > 0) {
          emitter.emit('change', { revision: steps[i]!.revision, flags: diff.flags, cohorts: diff.cohorts });
        }
      }
    }
    if (first) {
      logger.info(`ready at revision ${next.revision}`);
      settleReady();
      emitter.emit('ready', { revision: next.revision });
    }
  }

  /** The one time a revision goes backwards: the server's history no longer has ours. */
  function warnReset(held: number, revision: number): void {
    logger.warn(
      `the server no longer has revision ${held} (its database was restored from an older backup?); ` +
        `taking its ruleset at revision ${revision}`,
    );
  }

  /** Applies one chunk's events to a working copy, installs the result once, then notifies. */
  function onMessages(messages: readonly StreamMessage[]): void {
    if (closed) return;
    const steps: Ruleset[] = [];
    const patched: (RulesetDiff | undefined)[] = [];
    let working = current;
    let base = serverRevision();
    let gap = false;
    for (const message of messages) {
      if (message.event !== 'ruleset' && message.event !== 'change' && message.event !== 'kill') continue;
      let data: unknown;
      try {
        data = JSON.parse(message.data);
      } catch (cause) {
        reportError(new ProtocolError(`Aviary: a "${message.event}" event (id ${message.id ?? 'none'}) is not JSON`, { cause }), 'warn');
        gap = message.event !== 'ruleset';
        if (gap) break;
        continue;
      }
      const id = parseRevision(message.id);
      if (message.event === 'ruleset') {
        const ruleset = toRuleset(data, id);
        if (ruleset === undefined) {
          reportError(new ProtocolError(`Aviary: a "ruleset" event (id ${message.id ?? 'none'}) is not a ruleset`), 'warn');
          continue;
        }
        needsWholeRuleset = false;
        if (base !== undefined && ruleset.revision <= base) {
          if (!isReset(data)) {
            logger.debug(`ignoring ruleset ${ruleset.revision}: already at ${base}`);
            continue;
          }
          warnReset(base, ruleset.revision);
        }
        working = ruleset;
        base = ruleset.revision;
        steps.push(working);
        patched.push(undefined);
        continue;
      }
      const patch = toPatch(data);
      const revision = id ?? patch?.revision;
      if (patch === undefined || revision === undefined) {
        reportError(new ProtocolError(`Aviary: a "${message.event}" event (id ${message.id ?? 'none'}) is not a patch with a revision`), 'warn');
        gap = true;
        break;
      }
      if (base !== undefined && revision <= base) {
        logger.debug(`ignoring ${message.event} ${revision}: already at ${base}`);
        continue;
      }
      if (base === undefined || working === undefined || revision !== base + 1) {
        logger.info(`missed revisions (at ${base ?? 'none'}, got ${message.event} ${revision}); reloading the whole ruleset`);
        gap = true;
        break;
      }
      const { ruleset, diff } = patchRuleset(working, patch, revision);
      working = ruleset;
      base = revision;
      steps.push(working);
      patched.push(diff);
    }
    install(steps, patched);
    if (gap) {
      needsWholeRuleset = true;
      stream?.restart();
    }
  }

  function fail(error: AviaryError): void {
    if (closed || fatalError !== undefined) return;
    fatalError = error;
    stream?.stop();
    poller?.stop();
    reporter?.stop();
    logger.error(error.message);
    emitter.emit('error', error);
    settleReady();
    updateStatus();
  }

  const connectable = problem === undefined && !options.offline;

  const poller: Poller | undefined = connectable
    ? createPoller({
        platform,
        logger,
        baseUrl: options.baseUrl,
        sdkKey: options.sdkKey,
        intervalMs: options.pollIntervalMs,
        timeoutMs: options.requestTimeoutMs,
        revision: serverRevision,
        onRuleset(body) {
          const ruleset = toRuleset(body);
          if (ruleset === undefined) {
            lastPollOk = false;
            reportError(new ProtocolError(`Aviary: GET ${options.baseUrl}/sdk/v1/ruleset answered something that is not a ruleset`), 'warn');
            updateStatus();
            return;
          }
          lastPollOk = true;
          const base = serverRevision();
          if (base === undefined || ruleset.revision > base) install([ruleset]);
          else if (isReset(body)) {
            warnReset(base, ruleset.revision);
            install([ruleset]);
          } else if (ruleset.revision === base) needsWholeRuleset = false;
          updateStatus();
        },
        onNotModified() {
          lastPollOk = true;
          updateStatus();
        },
        onFailure(error) {
          if (lastPollOk || status !== 'offline') reportError(error, 'warn');
          else reportError(error, 'debug');
          lastPollOk = false;
          updateStatus();
        },
        onFatal: fail,
      })
    : undefined;

  const stream: Stream | undefined =
    connectable && options.streaming
      ? createStream({
          platform,
          logger,
          baseUrl: options.baseUrl,
          sdkKey: options.sdkKey,
          heartbeatTimeoutMs: options.heartbeatTimeoutMs,
          initialReconnectDelayMs: options.initialReconnectDelayMs,
          maxReconnectDelayMs: options.maxReconnectDelayMs,
          lastEventId: () => {
            const revision = serverRevision();
            return revision === undefined || needsWholeRuleset ? undefined : String(revision);
          },
          onOpen: updateStatus,
          onAlive() {
            if (poller?.running) {
              logger.info('the stream works again; polling stopped');
              poller.stop();
              lastPollOk = false;
            }
            updateStatus();
          },
          onMessages,
          onConnectFailure(error, consecutive) {
            reportError(error, consecutive === 1 ? 'warn' : 'debug');
            if (consecutive >= options.streamFailuresBeforePolling && poller && !poller.running) {
              logger.warn(`the stream failed ${consecutive} times in a row; polling every ${options.pollIntervalMs} ms until it works again`);
              poller.start();
            }
            updateStatus();
          },
          onDisconnect(error) {
            reportError(error, 'info');
            updateStatus();
          },
          onFatal: fail,
        })
      : undefined;

  const recorder: MetricsRecorder = createMetricsRecorder(() => platform.now());
  const reporter: MetricsReporter | undefined =
    connectable && options.sendMetrics
      ? createMetricsReporter({
          platform,
          logger,
          baseUrl: options.baseUrl,
          sdkKey: options.sdkKey,
          intervalMs: options.metricsIntervalMs,
          timeoutMs: options.requestTimeoutMs,
          recorder,
        })
      : undefined;

  if (problem !== undefined) {
    logger.error(problem.message);
    fatalError = problem;
    settleReady();
    // Emitted on the next turn so listeners attached right after createClient() hear it.
    platform.schedule(0, () => emitter.emit('error', problem));
  } else if (options.offline) {
    logger.debug('offline: serving the bootstrap ruleset or fallback values');
    settleReady();
  } else {
    readyTimer = platform.schedule(options.readyTimeoutMs, () => {
      if (initialized || closed) return;
      const serving = current ? `the bootstrap ruleset (revision ${current.revision})` : 'your fallback values';
      logger.warn(`not ready after ${options.readyTimeoutMs} ms; serving ${serving} until the server answers`);
      settleReady();
    });
    if (stream) stream.start();
    else poller?.start();
    reporter?.start();
  }

  function evaluateFlag(flag: string, context: Context): Result {
    try {
      return evaluateRuleset(current ?? emptyRuleset, flag, context, { now: platform.now() });
    } catch (error) {
      return { enabled: false, reason: 'ERROR', errorCode: 'GENERAL', errorMessage: error instanceof Error ? error.message : String(error) };
    }
  }

  function evaluateAndCount(flag: string, context: Context): Result {
    const result = evaluateFlag(flag, context);
    if (reporter !== undefined && !closed && result.reason !== 'ERROR' && result.reason !== 'FLAG_NOT_FOUND') {
      recorder.recordExposure(flag, result.enabled, result.variant ?? null, contextKey(context));
    }
    return result;
  }

  function variant(flag: string, context: Context): string | undefined;
  function variant(flag: string, context: Context, fallback: string): string;
  function variant(flag: string, context: Context, fallback?: string): string | undefined {
    const result = evaluateAndCount(flag, context);
    return result.variant ?? fallback;
  }

  return {
    ready: () => readyPromise,
    isEnabled(flag, context, fallback = false) {
      const result = evaluateAndCount(flag, context);
      return result.reason === 'ERROR' || result.reason === 'FLAG_NOT_FOUND' ? fallback : result.enabled;
    },
    variant,
    evaluate: evaluateAndCount,
    allFlags(context) {
      const results: Record<string, Result> = {};
      for (const key of Object.keys(current?.flags ?? {}).sort()) results[key] = evaluateFlag(key, context);
      return results;
    },
    track(event, context, trackOptions) {
      if (reporter === undefined || closed) return;
      if (typeof event !== 'string' || event === '') {
        logger.warn(`track() needs an event name; got ${JSON.stringify(event)}`);
        return;
      }
      const value = trackOptions?.value;
      recorder.recordEvent(event, contextKey(context), typeof value === 'number' && Number.isFinite(value) ? value : 0);
    },
    on: (event, listener) => emitter.on(event, listener),
    off: (event, listener) => emitter.off(event, listener),
    get status() {
      return status;
    },
    get revision() {
      return current?.revision;
    },
    get initialized() {
      return initialized;
    },
    close() {
      closePromise ??= (async () => {
        closed = true;
        stream?.stop();
        poller?.stop();
        reporter?.stop();
        settleReady();
        updateStatus();
        if (reporter && fatalError === undefined) await reporter.flush();
        emitter.clear();
      })();
      return closePromise;
    },
  };
}

/** An event id made of ASCII digits (surrounding white space allowed) as a revision. */
function parseRevision(id: string | undefined): number | undefined {
  if (id === undefined) return undefined;
  const digits = id.trim();
  if (digits.length === 0) return undefined;
  for (let i = 0; i < digits.length; i++) {
    const c = digits.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  const revision = Number(digits);
  return Number.isSafeInteger(revision) ? revision : undefined;
}

function contextKey(context: Context): string | undefined {
  const key = (context as Context | null | undefined)?.key;
  if (key === undefined || key === null || key === '') return undefined;
  return typeof key === 'string' || typeof key === 'number' || typeof key === 'boolean' ? String(key) : undefined;
}
