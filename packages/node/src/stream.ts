import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { AviaryError } from './errors/aviary-error.js';
import { ConnectionError } from './errors/connection-error.js';
import { HeartbeatTimeoutError } from './errors/heartbeat-timeout-error.js';
import { baseHeaders, describeFailure, errorForStatus } from './http.js';
import type { Logger } from './logger.js';
import type { Platform } from './platform/platform.js';

/** One parsed server-sent event, as the parser made it; `event` is undefined for the default `message`. */
export type StreamMessage = EventSourceMessage;

export interface StreamConnectionOptions {
  platform: Platform;
  logger: Logger;
  baseUrl: string;
  sdkKey: string;
  heartbeatTimeoutMs: number;
  /** The revision to resume from, or undefined to ask for a whole ruleset. */
  lastEventId: string | undefined;
  /** The server accepted the stream (200, `text/event-stream`). */
  onOpen(): void;
  /**
   * The first bytes (an event or a ping) arrived. Only this proves the stream works end to end: a
   * buffering proxy can answer 200 and then deliver nothing.
   */
  onAlive(): void;
  /**
   * The events of one received chunk, in order, handed over before anything else happens, so a kill
   * is never delayed by a listener. The array is reused for the next chunk: read it before returning.
   */
  onMessages(messages: readonly StreamMessage[]): void;
}

/** How a connection ended. */
export interface StreamOutcome {
  /** Whether anything arrived on it. */
  alive: boolean;
  /** When the server accepted it (`platform.now()`), 0 when it never did. */
  openedAt: number;
  error: AviaryError;
}

/** One connection to `/sdk/v1/stream`. Reconnecting is the supervisor's business. */
export interface StreamConnection {
  readonly done: Promise<StreamOutcome>;
  /** Ends the connection; `done` then resolves. */
  abort(): void;
}

export function openStreamConnection(options: StreamConnectionOptions): StreamConnection {
  const abort = new AbortController();
  return { done: connect(options, abort), abort: () => abort.abort() };
}

async function connect(options: StreamConnectionOptions, abort: AbortController): Promise<StreamOutcome> {
  const { platform, logger, lastEventId } = options;
  // Protocol 2: membership deltas of large cohorts come as `members` patches, not whole rulesets.
  const url = `${options.baseUrl}/sdk/v1/stream?protocol=2`;
  let timedOut = false;
  // Armed before the request (a connect or an answer that never comes also times out), restarted by every chunk.
  const heartbeat = platform.schedule(options.heartbeatTimeoutMs, () => {
    timedOut = true;
    abort.abort();
  });
  let alive = false;
  let openedAt = 0;
  try {
    const headers: Record<string, string> = { ...baseHeaders(options.sdkKey), accept: 'text/event-stream', 'accept-encoding': 'gzip', 'cache-control': 'no-cache' };
    if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
    logger.debug(`opening stream ${url}${lastEventId !== undefined ? ` (Last-Event-ID ${lastEventId})` : ''}`);

    const response = await platform.openStream(url, headers, abort.signal);
    if (response.status < 200 || response.status > 299) return { alive, openedAt, error: await errorForStatus(response, 'GET', url) };
    const contentType = response.contentType;
    if (!contentType.includes('text/event-stream')) {
      response.cancel();
      const error = new ConnectionError(`Aviary: GET ${url} answered ${contentType || 'no content type'}, not text/event-stream`, { status: response.status });
      return { alive, openedAt, error };
    }

    openedAt = platform.now();
    heartbeat.refresh();
    options.onOpen();

    // The events of one chunk; handed over synchronously and then reused.
    const batch: StreamMessage[] = [];
    const parser = createParser({ onEvent: (message) => void batch.push(message) });
    await response.read((text) => {
      heartbeat.refresh();
      if (!alive) {
        alive = true;
        options.onAlive();
      }
      parser.feed(text);
      if (batch.length === 0) return;
      try {
        options.onMessages(batch);
      } finally {
        batch.length = 0;
      }
    });
    return { alive, openedAt, error: new ConnectionError(`Aviary: the server closed the stream ${url}`) };
  } catch (cause) {
    if (timedOut) return { alive, openedAt, error: new HeartbeatTimeoutError(options.heartbeatTimeoutMs) };
    return { alive, openedAt, error: describeFailure('GET', url, cause) };
  } finally {
    heartbeat.cancel();
    abort.abort();
  }
}
