import { evaluate as evaluateRuleset, type Context, type Result, type Ruleset } from '@aviary/core';
import { createEmitter } from './emitter.js';
import type { AviaryError } from './errors/aviary-error.js';
import type { ConfigurationError } from './errors/configuration-error.js';
import type { AviaryEvents, ConnectionStatus } from './events.js';
import { createMetricsRecorder, createMetricsReporter, type MetricsReporter } from './metrics.js';
import { resolveOptions, type AviaryOptions, type ResolvedOptions } from './options.js';
import { createNodePlatform } from './platform/node-platform.js';
import type { Platform } from './platform/platform.js';
import { ServedRuleset } from './served-ruleset.js';
import { ConnectionSupervisor } from './supervisor.js';

export type { AviaryEvents, ChangeEvent, ConnectionStatus, KillEvent, ReadyEvent, StatusEvent } from './events.js';

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
  /** Records an outcome (`error`, `purchase`, …) for the flag arms this context was exposed to in the current window;
   *  with `{ value }` (`track('latency', ctx, { value: 183 })`) its count, sum and sum of squares, which mean guards test. */
  track(event: string, context: Context, options?: TrackOptions): void;
  /** Subscribes; returns the unsubscribe function. */
  on<K extends keyof AviaryEvents>(event: K, listener: (payload: AviaryEvents[K]) => void): () => void;
  off<K extends keyof AviaryEvents>(event: K, listener: (payload: AviaryEvents[K]) => void): void;
  readonly status: ConnectionStatus;
  /** Revision of the ruleset being served (bootstrap or server); undefined when there is none. */
  readonly revision: number | undefined;
  /** Whether a ruleset from the server has arrived. */
  readonly initialized: boolean;
  /** Stops connecting, reports the last metrics, and keeps answering from the last ruleset. */
  close(): Promise<void>;
}

const emptyRuleset: Ruleset = Object.freeze({ environment: '', revision: 0, flags: Object.freeze({}), cohorts: Object.freeze({}) });

/** Creates a client and starts connecting. Never throws: bad options are logged and reported as `error`. */
export function createClient(options: AviaryOptions): AviaryClient {
  const { options: resolved, problem } = resolveOptions(options);
  return createClientOnPlatform(resolved, createNodePlatform(resolved.fetch), problem);
}

/**
 * The client over any platform (the seam tests and other hosts use): the served ruleset, the
 * connection supervisor and the metrics reporter, wired to one emitter and one `ready()`.
 */
export function createClientOnPlatform(options: ResolvedOptions, platform: Platform, problem?: ConfigurationError): AviaryClient {
  const { logger } = options;
  const emitter = createEmitter<AviaryEvents>(logger);
  let settleReady!: () => void;
  const readyPromise = new Promise<void>((resolve) => (settleReady = resolve));
  const served = new ServedRuleset(options.bootstrap, emitter, logger, () => settleReady());
  let closed = false;
  let fatal: AviaryError | undefined = problem;
  let closePromise: Promise<void> | undefined;

  const connectable = problem === undefined && !options.offline;
  const recorder = createMetricsRecorder(() => platform.now());
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
  const supervisor = connectable
    ? new ConnectionSupervisor(options, platform, served, {
        error(error, level) {
          logger[level](error.message);
          emitter.emit('error', error);
        },
        status: (status, previous) => emitter.emit('status', { status, previous }),
        fatal(error) {
          fatal = error;
          reporter?.stop();
          logger.error(error.message);
          emitter.emit('error', error);
          settleReady();
        },
      })
    : undefined;

  if (problem !== undefined) {
    logger.error(problem.message);
    settleReady();
    // Emitted on the next turn so listeners attached right after createClient() hear it.
    platform.schedule(0, () => emitter.emit('error', problem));
  } else if (options.offline) {
    logger.debug('offline: serving the bootstrap ruleset or fallback values');
    settleReady();
  } else {
    const readyTimer = platform.schedule(options.readyTimeoutMs, () => {
      if (served.initialized || closed) return;
      const bootstrap = served.ruleset;
      const serving = bootstrap ? `the bootstrap ruleset (revision ${bootstrap.revision})` : 'your fallback values';
      logger.warn(`not ready after ${options.readyTimeoutMs} ms; serving ${serving} until the server answers`);
      settleReady();
    });
    void readyPromise.then(() => readyTimer.cancel());
    supervisor?.start();
    reporter?.start();
  }

  function evaluateFlag(flag: string, context: Context): Result {
    try {
      return evaluateRuleset(served.ruleset ?? emptyRuleset, flag, context, { now: platform.now() });
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
    return evaluateAndCount(flag, context).variant ?? fallback;
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
      for (const key of Object.keys(served.ruleset?.flags ?? {}).sort()) results[key] = evaluateFlag(key, context);
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
      return supervisor?.status ?? 'offline';
    },
    get revision() {
      return served.ruleset?.revision;
    },
    get initialized() {
      return served.initialized;
    },
    close() {
      closePromise ??= (async () => {
        closed = true;
        supervisor?.stop();
        reporter?.stop();
        settleReady();
        if (reporter && fatal === undefined) await reporter.flush();
        emitter.clear();
      })();
      return closePromise;
    },
  };
}

function contextKey(context: Context): string | undefined {
  const key = (context as Context | null | undefined)?.key;
  if (key === undefined || key === null || key === '') return undefined;
  return typeof key === 'string' || typeof key === 'number' || typeof key === 'boolean' ? String(key) : undefined;
}
