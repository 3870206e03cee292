import type { Result } from '@aviary/core';

/** One flag and arm, with how often it was served (`count`) and, for tracked events, the sum of
 *  values and of their squares (so the server can test means). */
interface Arm {
  event?: string;
  flag: string;
  enabled: boolean;
  variant: string | null;
  count: number;
  sum?: number;
  sumSquares?: number;
}

/** Exposure counts and tracked events of the current window, reported as one `/sdk/v1/metrics` body. */
export interface Metrics {
  expose(flag: string, result: Result): void;
  /** Attributes the event to every flag and arm exposed in this window (the browser has one user). */
  track(event: string, value: number): void;
  /** Hands the window's body to `send` and starts a new window; nothing when the window is empty. */
  flush(): void;
}

export function createMetrics(send: (body: string) => void): Metrics {
  let start = Date.now();
  let exposures: Record<string, Arm> = {};
  let events: Record<string, Arm> = {};
  const count = (into: Record<string, Arm>, id: string, arm: Arm, value?: number) => {
    const held = (into[id] ??= { ...arm, count: 0 });
    held.count++;
    if (value !== undefined) {
      held.sum = (held.sum ?? 0) + value;
      held.sumSquares = (held.sumSquares ?? 0) + value * value;
    }
  };
  return {
    expose(flag, { enabled, variant = null }) {
      count(exposures, JSON.stringify([flag, enabled, variant]), { flag, enabled, variant, count: 0 });
    },
    track(event, value) {
      for (const id in exposures) count(events, id + event, { event, ...exposures[id]!, sum: 0, sumSquares: 0 }, value);
    },
    flush() {
      const end = Date.now();
      const body = { start, end, exposures: Object.values(exposures), events: Object.values(events) };
      start = end;
      exposures = {};
      events = {};
      if (body.exposures.length) send(JSON.stringify(body));
    },
  };
}
