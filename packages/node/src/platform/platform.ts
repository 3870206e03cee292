/** A `fetch` with the WHATWG signature: Node's global, undici's, or a test double. */
export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

/** A scheduled callback that can be cancelled. */
export interface Timer {
  cancel(): void;
  /** Starts the countdown again from now, with the same delay (cheaper than cancel + schedule). */
  refresh(): void;
}

/** The answer to a long-lived GET (the event stream): status and headers, then the body as text. */
export interface TextStream {
  readonly status: number;
  /** The `content-type` header; `''` when there is none. */
  readonly contentType: string;
  /** The whole body as text (for the message of an error answer). */
  text(): Promise<string>;
  /**
   * Hands the body to `onText` as decoded UTF-8 text, chunk by chunk as it arrives, each chunk on
   * its own (no buffering across chunks). Resolves when the server ends the body; rejects when the
   * connection fails or the request's signal aborts.
   */
  read(onText: (text: string) => void): Promise<void>;
  /** Drops the body unread. */
  cancel(): void;
}

/** Opens a long-lived GET; rejects when no answer arrives (network error, abort). */
export type OpenTextStream = (url: string, headers: Record<string, string>, signal: AbortSignal) => Promise<TextStream>;

/**
 * Everything the SDK needs from its host. The client, stream, poller and metrics reach the
 * network, the clock and randomness only through this, so the logic can be driven in tests.
 */
export interface Platform {
  /** Polls and metrics reports. */
  readonly fetch: FetchLike;
  /** The event stream (over `node:http` by default, over `fetch` when the caller brings one). */
  readonly openStream: OpenTextStream;
  /** Milliseconds since the epoch. */
  now(): number;
  /** A number in [0, 1), for backoff jitter. */
  random(): number;
  schedule(delayMs: number, callback: () => void): Timer;
}
