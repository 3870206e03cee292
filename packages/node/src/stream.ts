import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { backoffDelay } from './backoff.js';
import type { AviaryError } from './errors/aviary-error.js';
import { ConnectionError } from './errors/connection-error.js';
import { HeartbeatTimeoutError } from './errors/heartbeat-timeout-error.js';
import { baseHeaders, describeFailure, errorForStatus } from './http.js';
import type { Logger } from './logger.js';
import type { Platform, Timer } from './platform/platform.js';

/** One parsed server-sent event, as the parser made it; `event` is undefined for the default `message`. */
export type StreamMessage = EventSourceMessage;

export interface StreamOptions {
  platform: Platform;
  logger: Logger;
  baseUrl: string;
  sdkKey: string;
  heartbeatTimeoutMs: number;
  initialReconnectDelayMs: number;
  maxReconnectDelayMs: number;
  /** A connection that lived this long resets the backoff to its first step. */
  backoffResetMs?: number;
  /** The revision to resume from, or undefined to ask for a whole ruleset. */
  lastEventId(): string | undefined;
  /** The server accepted the stream (200, `text/event-stream`). */
  onOpen(): void;
  /**
   * The first bytes (an event or a `: ping`) arrived on this connection. Only this proves the stream
   * works end to end: a buffering proxy can answer 200 and then deliver nothing.
   */
  onAlive(): void;
  /**
   * The events of one received chunk, in order; applied before anyone is told, so a kill is never
   * delayed by a listener. The array is reused for the next chunk: read it before returning.
   */
  onMessages(messages: readonly StreamMessage[]): void;
  /** A connection ended before anything arrived on it; `consecutive` counts them since the last live one. */
  onConnectFailure(error: AviaryError, consecutive: number): void;
  /** A live stream ended (server closed it, network dropped, heartbeat timeout). */
  onDisconnect(error: AviaryError): void;
  /** The server refused the key; the stream has stopped for good. */
  onFatal(error: AviaryError): void;
}

/** The SSE connection to `/sdk/v1/stream`, reopened with backoff until stopped. */
export interface Stream {
  start(): void;
  stop(): void;
  /** Drop the current connection and reconnect at once (used after a gap, to get a whole ruleset). */
  restart(): void;
  readonly open: boolean;
}

const defaultBackoffResetMs = 60_000;

export function createStream(options: StreamOptions): Stream {
  const { platform, logger } = options;
  const url = `${options.baseUrl}/sdk/v1/stream`;
  const backoffResetMs = options.backoffResetMs ?? defaultBackoffResetMs;

  let running = false;
  let open = false;
  let attempt = 0;
  let failures = 0;
  let restartRequested = false;
  let restartStreak = 0;
  let controller: AbortController | undefined;
  let wake: (() => void) | undefined;
  let sleepTimer: Timer | undefined;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      wake = resolve;
      sleepTimer = platform.schedule(ms, resolve);
    }).finally(() => {
      wake = undefined;
      sleepTimer = undefined;
    });

  async function connectOnce(): Promise<{ alive: boolean; openedAt: number; error?: AviaryError; fatal?: boolean }> {
    const abort = new AbortController();
    controller = abort;
    let timedOut = false;
    // Armed before the request (a connect or an answer that never comes also times out), restarted by every chunk.
    const heartbeat = platform.schedule(options.heartbeatTimeoutMs, () => {
      timedOut = true;
      abort.abort();
    });
    let alive = false;
    let openedAt = 0;
    try {
      const headers: Record<string, string> = {
        ...baseHeaders(options.sdkKey),
        accept: 'text/event-stream',
        'cache-control': 'no-cache',
      };
      const lastEventId = options.lastEventId();
      if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
      logger.debug(`opening stream ${url}${lastEventId !== undefined ? ` (Last-Event-ID ${lastEventId})` : ''}`);

      const response = await platform.openStream(url, headers, abort.signal);
      if (response.status < 200 || response.status > 299) {
        const error = await errorForStatus(response, 'GET', url);
        return { alive, openedAt, error, fatal: error.fatal };
      }
      const contentType = response.contentType;
      if (!contentType.includes('text/event-stream')) {
        response.cancel();
        return {
          alive,
          openedAt,
          error: new ConnectionError(`Aviary: GET ${url} answered ${contentType || 'no content type'}, not text/event-stream`, {
            status: response.status,
          }),
        };
      }

      openedAt = platform.now();
      open = true;
      heartbeat.refresh();
      options.onOpen();

      // The events of one chunk; handed over synchronously and then reused.
      const batch: StreamMessage[] = [];
      const parser = createParser({ onEvent: (message) => void batch.push(message) });
      await response.read((text) => {
        heartbeat.refresh();
        if (!alive) {
          alive = true;
          failures = 0;
          options.onAlive();
        }
        parser.feed(text);
        if (batch.length > 0) {
          try {
            options.onMessages(batch);
          } finally {
            batch.length = 0;
          }
          if (!restartRequested) restartStreak = 0;
        }
        if (restartRequested || !running) abort.abort();
      });
      return { alive, openedAt, error: new ConnectionError(`Aviary: the server closed the stream ${url}`) };
    } catch (cause) {
      if (timedOut) return { alive, openedAt, error: new HeartbeatTimeoutError(options.heartbeatTimeoutMs) };
      return { alive, openedAt, error: describeFailure('GET', url, cause) };
    } finally {
      heartbeat.cancel();
      open = false;
      abort.abort();
      if (controller === abort) controller = undefined;
    }
  }

  async function run(): Promise<void> {
    while (running) {
      const outcome = await connectOnce();
      if (!running) return;
      if (outcome.fatal && outcome.error) {
        running = false;
        options.onFatal(outcome.error);
        return;
      }
      if (restartRequested) {
        restartRequested = false;
        // One immediate reconnect; if the server keeps producing gaps, fall back to the backoff.
        if (restartStreak++ === 0) continue;
      } else if (!outcome.alive) {
        failures += 1;
        if (outcome.error) options.onConnectFailure(outcome.error, failures);
      } else if (outcome.error) {
        options.onDisconnect(outcome.error);
      }
      if (!running) return;
      if (outcome.alive && platform.now() - outcome.openedAt >= backoffResetMs) attempt = 0;
      const delay = backoffDelay(attempt, options.initialReconnectDelayMs, options.maxReconnectDelayMs, platform.random);
      attempt += 1;
      logger.debug(`reconnecting the stream in ${delay} ms`);
      await sleep(delay);
    }
  }

  return {
    start() {
      if (running) return;
      running = true;
      void run().catch((error: unknown) => logger.error('the stream loop stopped unexpectedly', error));
    },
    stop() {
      running = false;
      controller?.abort();
      sleepTimer?.cancel();
      wake?.();
    },
    restart() {
      if (!running) return;
      restartRequested = true;
      controller?.abort();
    },
    get open() {
      return open;
    },
  };
}
