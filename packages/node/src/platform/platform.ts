/** A `fetch` with the WHATWG signature: Node's global, undici's, or a test double. */
export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

/** A scheduled callback that can be cancelled. */
export interface Timer {
  cancel(): void;
}

/**
 * Everything the SDK needs from its host. The client, stream, poller and metrics reach the
 * network, the clock and randomness only through this, so the logic can be driven in tests.
 */
export interface Platform {
  readonly fetch: FetchLike;
  /** Milliseconds since the epoch. */
  now(): number;
  /** A number in [0, 1), for backoff jitter. */
  random(): number;
  schedule(delayMs: number, callback: () => void): Timer;
}
