import { AviaryError } from './errors/aviary-error.js';
import { baseHeaders, describeFailure, errorForStatus } from './http.js';
import type { Logger } from './logger.js';
import type { Platform, Timer } from './platform/platform.js';

/** Exposures of one flag arm in a window. */
export interface ExposureCount {
  flag: string;
  enabled: boolean;
  variant: string | null;
  count: number;
}

/** A tracked event attributed to one flag arm the context was exposed to in the window. */
export interface EventCount {
  event: string;
  flag: string;
  enabled: boolean;
  variant: string | null;
  count: number;
  sum: number;
  /** The sum of the values' squares: with `count` and `sum`, the server tests means (mean guards). */
  sumSquares: number;
}

/** The body of `POST /sdk/v1/metrics` (docs/protocol.md). */
export interface MetricsReport {
  start: number;
  end: number;
  exposures: ExposureCount[];
  events: EventCount[];
}

/** Caps that keep one window's memory bounded whatever the traffic; what does not fit is dropped and counted. */
export interface MetricsLimits {
  /** Distinct flag arms counted. */
  maxArms: number;
  /** Distinct (event, flag arm) rows. */
  maxEventRows: number;
  /** Distinct context keys remembered for attributing tracked events. */
  maxContexts: number;
  /** Total (context key, flag arm) pairs remembered for attribution. */
  maxAttributions: number;
}

export const defaultMetricsLimits: MetricsLimits = {
  maxArms: 5_000,
  maxEventRows: 5_000,
  maxContexts: 10_000,
  maxAttributions: 100_000,
};

/** Counts exposures and tracked events for the current window. */
export interface MetricsRecorder {
  recordExposure(flag: string, enabled: boolean, variant: string | null, contextKey: string | undefined): void;
  recordEvent(event: string, contextKey: string | undefined, value: number): void;
  /** Ends the window: returns its report (undefined when nothing happened) and starts a new one. */
  take(): MetricsReport | undefined;
  /** Records dropped since the recorder was created because a cap was reached. */
  readonly dropped: number;
}

interface Arm {
  flag: string;
  enabled: boolean;
  variant: string | null;
}

export function createMetricsRecorder(now: () => number, limits: MetricsLimits = defaultMetricsLimits): MetricsRecorder {
  let start = now();
  let arms = new Map<string, { arm: Arm; count: number }>();
  let events = new Map<string, EventCount>();
  let exposedBy = new Map<string, Set<string>>();
  let attributions = 0;
  let dropped = 0;

  const armId = (flag: string, enabled: boolean, variant: string | null) => JSON.stringify([flag, enabled, variant]);

  return {
    recordExposure(flag, enabled, variant, contextKey) {
      const id = armId(flag, enabled, variant);
      const entry = arms.get(id);
      if (entry) entry.count += 1;
      else if (arms.size < limits.maxArms) arms.set(id, { arm: { flag, enabled, variant }, count: 1 });
      else {
        dropped += 1;
        return;
      }
      if (contextKey === undefined) return;
      let seen = exposedBy.get(contextKey);
      if (seen === undefined) {
        if (exposedBy.size >= limits.maxContexts) return;
        seen = new Set();
        exposedBy.set(contextKey, seen);
      }
      if (seen.has(id)) return;
      if (attributions >= limits.maxAttributions) return;
      seen.add(id);
      attributions += 1;
    },

    recordEvent(event, contextKey, value) {
      const seen = contextKey === undefined ? undefined : exposedBy.get(contextKey);
      if (seen === undefined) return;
      for (const id of seen) {
        const rowId = `${JSON.stringify(event)}:${id}`;
        const row = events.get(rowId);
        if (row) {
          row.count += 1;
          row.sum += value;
          row.sumSquares += value * value;
        } else if (events.size < limits.maxEventRows) {
          const arm = arms.get(id)?.arm;
          if (arm) events.set(rowId, { event, ...arm, count: 1, sum: value, sumSquares: value * value });
        } else {
          dropped += 1;
        }
      }
    },

    take() {
      const end = now();
      const report: MetricsReport = {
        start,
        end,
        exposures: [...arms.values()].map(({ arm, count }) => ({ ...arm, count })),
        events: [...events.values()],
      };
      start = end;
      arms = new Map();
      events = new Map();
      exposedBy = new Map();
      attributions = 0;
      return report.exposures.length === 0 && report.events.length === 0 ? undefined : report;
    },

    get dropped() {
      return dropped;
    },
  };
}

export interface MetricsReporterOptions {
  platform: Platform;
  logger: Logger;
  baseUrl: string;
  sdkKey: string;
  intervalMs: number;
  timeoutMs: number;
  recorder: MetricsRecorder;
}

/** Sends the recorder's windows to `POST /sdk/v1/metrics` every `intervalMs` and on `flush()`. */
export interface MetricsReporter {
  start(): void;
  /** Sends the current window now; resolves when the server answered or the request failed. */
  flush(): Promise<void>;
  stop(): void;
}

export function createMetricsReporter(options: MetricsReporterOptions): MetricsReporter {
  const { platform, logger, recorder } = options;
  const url = `${options.baseUrl}/sdk/v1/metrics`;
  let timer: Timer | undefined;
  let running = false;
  let refused = false;
  let failing = false;
  let reportedDrops = 0;

  async function send(report: MetricsReport): Promise<void> {
    const abort = new AbortController();
    const timeout = platform.schedule(options.timeoutMs, () => abort.abort());
    try {
      const response = await platform.fetch(url, {
        method: 'POST',
        headers: { ...baseHeaders(options.sdkKey), 'content-type': 'application/json' },
        body: JSON.stringify(report),
        signal: abort.signal,
      });
      if (response.ok) {
        await response.body?.cancel().catch(() => undefined);
        if (failing) logger.info('metrics reports are accepted again');
        failing = false;
        return;
      }
      const error = await errorForStatus(response, 'POST', url);
      if (error.fatal) {
        refused = true;
        logger.error(`${error.message} Metrics are no longer reported.`);
        return;
      }
      throw error;
    } catch (cause) {
      // A lost window is dropped rather than kept: memory stays bounded while the server is away.
      const message = cause instanceof AviaryError ? cause.message : describeFailure('POST', url, cause).message;
      if (!failing) logger.warn(`${message} (the window is dropped)`);
      failing = true;
    } finally {
      timeout.cancel();
    }
  }

  async function flush(): Promise<void> {
    if (recorder.dropped > reportedDrops) {
      logger.warn(`metrics caps reached: ${recorder.dropped - reportedDrops} records dropped since the last report`);
      reportedDrops = recorder.dropped;
    }
    const report = recorder.take();
    if (report === undefined || refused) return;
    await send(report);
  }

  function schedule(): void {
    timer = platform.schedule(options.intervalMs, () => {
      if (!running) return;
      void flush().finally(() => {
        if (running) schedule();
      });
    });
  }

  return {
    start() {
      if (running) return;
      running = true;
      schedule();
    },
    flush,
    stop() {
      running = false;
      timer?.cancel();
      timer = undefined;
    },
  };
}
