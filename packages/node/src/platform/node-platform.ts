import type { FetchLike, Platform, Timer } from './platform.js';

/** The Node 20 platform: global `fetch` (or the caller's), `Date.now`, `Math.random`, `setTimeout`. */
export function createNodePlatform(fetchImpl?: FetchLike): Platform {
  const doFetch: FetchLike = fetchImpl ?? ((input, init) => globalThis.fetch(input, init));
  return {
    fetch: doFetch,
    now: () => Date.now(),
    random: () => Math.random(),
    schedule(delayMs: number, callback: () => void): Timer {
      const handle = setTimeout(callback, Math.max(0, delayMs));
      return { cancel: () => clearTimeout(handle) };
    },
  };
}
