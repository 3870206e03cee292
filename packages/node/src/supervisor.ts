import { backoffDelay } from './backoff.js';
import type { AviaryError } from './errors/aviary-error.js';
import type { ConnectionStatus } from './events.js';
import type { Logger } from './logger.js';
import type { ResolvedOptions } from './options.js';
import type { Platform, Timer } from './platform/platform.js';
import { createPoller, type Poller } from './poller.js';
import type { ServedRuleset } from './served-ruleset.js';
import { openStreamConnection, type StreamConnection, type StreamMessage } from './stream.js';

/** What the supervisor reports to the client. */
export interface SupervisorEvents {
  /** A problem worth an `error` event, and the level to log it at. */
  error(error: AviaryError, level: 'warn' | 'info' | 'debug'): void;
  status(status: ConnectionStatus, previous: ConnectionStatus): void;
  /** The server refused the key: everything has stopped. */
  fatal(error: AviaryError): void;
}

/** A connection that lived this long resets the backoff to its first step. */
const BACKOFF_RESET_MS = 60_000;

/**
 * Keeps the client connected: streams (one connection at a time, reopened with exponential backoff
 * and full jitter, resumed from the served revision), reconnects at once for a whole ruleset after
 * a missed revision, falls back to ETag polling after repeated failures and back to the stream once
 * it delivers, and tells the connection status. Updates go to the `ServedRuleset`; nothing here
 * holds flags.
 */
export class ConnectionSupervisor {
  private running = false;
  private currentStatus: ConnectionStatus = 'offline';
  private connection: StreamConnection | undefined;
  private open = false;
  /** Backoff step of the next reconnect. */
  private attempt = 0;
  /** Connections in a row that ended before anything arrived. */
  private failures = 0;
  private restartRequested = false;
  /** Reconnects for a whole ruleset in a row without a chunk in between (the first is immediate, the next back off). */
  private restartStreak = 0;
  private lastPollOk = false;
  private sleepTimer: Timer | undefined;
  private wake: (() => void) | undefined;
  private readonly poller: Poller;

  constructor(
    private readonly options: ResolvedOptions,
    private readonly platform: Platform,
    private readonly served: ServedRuleset,
    private readonly events: SupervisorEvents,
  ) {
    const url = `${options.baseUrl}/sdk/v1/ruleset`;
    this.poller = createPoller({
      platform,
      logger: options.logger,
      baseUrl: options.baseUrl,
      sdkKey: options.sdkKey,
      intervalMs: options.pollIntervalMs,
      timeoutMs: options.requestTimeoutMs,
      revision: () => served.resumeFrom,
      onRuleset: (text) => this.polled(served.receivePolled(text, url)),
      onNotModified: () => this.polled(true),
      onFailure: (error) => this.pollFailed(error),
      onFatal: (error) => this.fail(error),
    });
  }

  get status(): ConnectionStatus {
    return this.currentStatus;
  }

  private get logger(): Logger {
    return this.options.logger;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    if (!this.options.streaming) this.poller.start();
    else void this.stream().catch((error: unknown) => this.logger.error('the stream loop stopped unexpectedly', error));
  }

  stop(): void {
    this.running = false;
    this.connection?.abort();
    this.poller.stop();
    this.sleepTimer?.cancel();
    this.wake?.();
    this.updateStatus();
  }

  /** One connection after the other until stopped: the reconnect policy. */
  private async stream(): Promise<void> {
    while (this.running) {
      const resumeFrom = this.served.resumeFrom;
      const connection = openStreamConnection({
        platform: this.platform,
        logger: this.logger,
        baseUrl: this.options.baseUrl,
        sdkKey: this.options.sdkKey,
        heartbeatTimeoutMs: this.options.heartbeatTimeoutMs,
        lastEventId: resumeFrom === undefined ? undefined : String(resumeFrom),
        onOpen: () => this.opened(),
        onAlive: () => this.alive(),
        onMessages: (messages) => this.received(messages),
      });
      this.connection = connection;
      const { alive, openedAt, error } = await connection.done;
      this.connection = undefined;
      this.open = false;
      if (!this.running) return;
      if (error.fatal) return this.fail(error);
      if (this.restartRequested) {
        // Not a failure, so the status stays as it was until the next connection opens.
        this.restartRequested = false;
        // One immediate reconnect; if the server keeps producing gaps, fall back to the backoff.
        if (this.restartStreak++ === 0) continue;
      } else if (!alive) {
        this.failures += 1;
        this.connectFailed(error);
      } else {
        this.events.error(error, 'info');
        this.updateStatus();
      }
      if (!this.running) return;
      if (alive && this.platform.now() - openedAt >= BACKOFF_RESET_MS) this.attempt = 0;
      const delay = backoffDelay(this.attempt, this.options.initialReconnectDelayMs, this.options.maxReconnectDelayMs, this.platform.random);
      this.attempt += 1;
      this.logger.debug(`reconnecting the stream in ${delay} ms`);
      await this.sleep(delay);
    }
  }

  private opened(): void {
    this.open = true;
    this.updateStatus();
  }

  /** Something arrived on the stream: it works end to end, so polling can stop. */
  private alive(): void {
    this.failures = 0;
    if (this.poller.running) {
      this.logger.info('the stream works again; polling stopped');
      this.poller.stop();
      this.lastPollOk = false;
    }
    this.updateStatus();
  }

  private received(messages: readonly StreamMessage[]): void {
    if (!this.running) return;
    if (this.served.receive(messages)) {
      this.restartRequested = true;
      this.connection?.abort();
    } else if (!this.restartRequested) this.restartStreak = 0;
  }

  private connectFailed(error: AviaryError): void {
    const { failures } = this;
    this.events.error(error, failures === 1 ? 'warn' : 'debug');
    if (failures >= this.options.streamFailuresBeforePolling && !this.poller.running) {
      this.logger.warn(`the stream failed ${failures} times in a row; polling every ${this.options.pollIntervalMs} ms until it works again`);
      this.poller.start();
    }
    this.updateStatus();
  }

  private polled(ok: boolean): void {
    this.lastPollOk = ok;
    this.updateStatus();
  }

  private pollFailed(error: AviaryError): void {
    this.events.error(error, this.lastPollOk || this.currentStatus !== 'offline' ? 'warn' : 'debug');
    this.lastPollOk = false;
    this.updateStatus();
  }

  private fail(error: AviaryError): void {
    if (!this.running) return;
    this.running = false;
    this.connection?.abort();
    this.poller.stop();
    this.events.fatal(error);
    this.updateStatus();
  }

  private updateStatus(): void {
    let next: ConnectionStatus = 'offline';
    // While polling, a new stream counts only once something has arrived on it (see alive()).
    if (this.running) {
      if (this.open && !this.poller.running) next = 'streaming';
      else if (this.poller.running && this.lastPollOk) next = 'polling';
    }
    const previous = this.currentStatus;
    if (next === previous) return;
    this.currentStatus = next;
    this.logger.debug(`status ${previous} -> ${next}`);
    this.events.status(next, previous);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wake = resolve;
      this.sleepTimer = this.platform.schedule(ms, resolve);
    }).finally(() => {
      this.wake = undefined;
      this.sleepTimer = undefined;
    });
  }
}
