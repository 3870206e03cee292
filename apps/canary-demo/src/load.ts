import { seededRandom } from '@aviary/guard';
import { get, loopbackAgent } from './http.js';

export interface LoadOptions {
  /** Base URL of the router. */
  target: string;
  /** Users `user-0` … `user-(N−1)`; each request picks one at random. */
  users: number;
  ratePerSecond: number;
  /** Stops after this long … */
  durationMs: number;
  /** … or after this many requests, whichever comes first. */
  maxRequests: number;
  /** Requests in flight at most; a request due while the cap is reached is skipped and counted. */
  maxInFlight?: number;
  /** Seed of the user picks, so two runs send the same sequence of users. */
  seed?: number;
}

export interface LoadStats {
  sent: number;
  skipped: number;
  /** Answers by status (0: no answer, a socket error or a timeout). */
  statuses: Record<number, number>;
  durationMs: number;
}

export interface LoadGenerator {
  /** Resolves when the load ends by its bounds or by `stop()`, with every request answered. */
  readonly done: Promise<LoadStats>;
  stop(): Promise<LoadStats>;
  stats(): LoadStats;
}

export { seededRandom };

/**
 * An open-loop load generator: requests leave at `ratePerSecond` whatever the answers' latency,
 * as real users would, bounded in time, in count and in concurrency.
 */
export function startLoad(options: LoadOptions): LoadGenerator {
  if (!(options.users >= 1 && options.ratePerSecond > 0 && options.durationMs > 0 && options.maxRequests >= 0)) {
    throw new Error('load needs users ≥ 1, ratePerSecond > 0, durationMs > 0 and maxRequests ≥ 0');
  }
  const maxInFlight = options.maxInFlight ?? 256;
  const agent = loopbackAgent(maxInFlight);
  const random = seededRandom(options.seed ?? 1);
  const started = performance.now();
  const statuses: Record<number, number> = {};
  let issued = 0;
  let sent = 0;
  let skipped = 0;
  let inFlight = 0;
  let ticking = true;
  let endedAt: number | undefined;
  let finish!: () => void;
  const drained = new Promise<void>((resolve) => (finish = resolve));

  const stats = (): LoadStats => ({ sent, skipped, statuses: { ...statuses }, durationMs: (endedAt ?? performance.now()) - started });
  const maybeFinish = () => {
    if (!ticking && inFlight === 0) {
      agent.destroy();
      finish();
    }
  };
  const end = () => {
    if (!ticking) return;
    ticking = false;
    endedAt = performance.now();
    clearInterval(timer);
    maybeFinish();
  };

  const send = () => {
    const user = `user-${Math.floor(random() * options.users)}`;
    inFlight += 1;
    sent += 1;
    get(`${options.target}/checkout?user=${user}`, agent)
      .then((answer) => answer.status, () => 0)
      .then((status) => {
        statuses[status] = (statuses[status] ?? 0) + 1;
        inFlight -= 1;
        maybeFinish();
      });
  };

  const tick = () => {
    const elapsed = performance.now() - started;
    if (elapsed >= options.durationMs) return end();
    const due = Math.min(Math.floor((options.ratePerSecond * elapsed) / 1000), options.maxRequests) - issued;
    for (let i = 0; i < due; i += 1) {
      issued += 1;
      if (inFlight >= maxInFlight) skipped += 1;
      else send();
    }
    if (issued >= options.maxRequests) end();
  };
  const timer = setInterval(tick, 5);

  const done = drained.then(stats);
  return {
    done,
    stats,
    stop() {
      end();
      return done;
    },
  };
}
