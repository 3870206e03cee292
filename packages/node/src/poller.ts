import type { AviaryError } from './errors/aviary-error.js';
import { baseHeaders, describeFailure, errorForStatus } from './http.js';
import type { Logger } from './logger.js';
import type { Platform, Timer } from './platform/platform.js';

export interface PollerOptions {
  platform: Platform;
  logger: Logger;
  baseUrl: string;
  sdkKey: string;
  intervalMs: number;
  timeoutMs: number;
  /** The revision the client holds, sent as `If-None-Match`; undefined asks for the ruleset unconditionally. */
  revision(): number | undefined;
  /** A 200's body, as it came (the protocol reads it). */
  onRuleset(text: string): void;
  /** A 304: the client is current. */
  onNotModified(): void;
  onFailure(error: AviaryError): void;
  /** The server refused the key; polling has stopped for good. */
  onFatal(error: AviaryError): void;
}

/** ETag polling of `/sdk/v1/ruleset`: one request at a time, the next `intervalMs` after the last ended. */
export interface Poller {
  start(): void;
  stop(): void;
  readonly running: boolean;
}

export function createPoller(options: PollerOptions): Poller {
  const { platform } = options;
  const url = `${options.baseUrl}/sdk/v1/ruleset`;
  let running = false;
  let generation = 0;
  let timer: Timer | undefined;
  let controller: AbortController | undefined;

  async function pollOnce(current: number): Promise<'ok' | 'failed' | 'fatal'> {
    // Answers that arrive after stop() (or a restart) are dropped rather than reported.
    const live = () => running && current === generation;
    const abort = new AbortController();
    controller = abort;
    const timeout = platform.schedule(options.timeoutMs, () => abort.abort());
    try {
      const headers: Record<string, string> = { ...baseHeaders(options.sdkKey), accept: 'application/json' };
      const revision = options.revision();
      if (revision !== undefined) headers['if-none-match'] = `"${revision}"`;
      const response = await platform.fetch(url, { headers, signal: abort.signal });
      if (response.status === 304) {
        await response.body?.cancel().catch(() => undefined);
        if (live()) options.onNotModified();
        return 'ok';
      }
      if (!response.ok) {
        const error = await errorForStatus(response, 'GET', url);
        if (error.fatal) {
          if (live()) options.onFatal(error);
          return 'fatal';
        }
        if (live()) options.onFailure(error);
        return 'failed';
      }
      const text = await response.text();
      if (live()) options.onRuleset(text);
      return 'ok';
    } catch (cause) {
      if (live()) options.onFailure(describeFailure('GET', url, abort.signal.aborted ? new Error(`no answer within ${options.timeoutMs} ms`) : cause));
      return 'failed';
    } finally {
      timeout.cancel();
      if (controller === abort) controller = undefined;
    }
  }

  async function loop(current: number): Promise<void> {
    if (!running || current !== generation) return;
    const outcome = await pollOnce(current);
    if (!running || current !== generation) return;
    if (outcome === 'fatal') {
      running = false;
      return;
    }
    timer = platform.schedule(options.intervalMs, () => {
      void loop(current);
    });
  }

  return {
    start() {
      if (running) return;
      running = true;
      generation += 1;
      options.logger.debug(`polling ${url} every ${options.intervalMs} ms`);
      void loop(generation).catch((error: unknown) => options.logger.error('the poll loop stopped unexpectedly', error));
    },
    stop() {
      if (!running) return;
      running = false;
      generation += 1;
      timer?.cancel();
      timer = undefined;
      controller?.abort();
    },
    get running() {
      return running;
    },
  };
}
