/**
 * Exponential backoff with full jitter: attempt n waits a uniformly random time in
 * [0, min(max, initial * 2^n)], which spreads thousands of clients reconnecting after a restart.
 */
export function backoffDelay(attempt: number, initialMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}
