import { openFetchStream } from './fetch-stream.js';
import { openHttpStream } from './http-stream.js';
import type { FetchLike, OpenTextStream, Platform, Timer } from './platform.js';

/** Node's own `fetch`, as it was when this module loaded. */
const nativeFetch: unknown = globalThis.fetch;

/**
 * The Node 20 platform: global `fetch` (or the caller's), `Date.now`, `Math.random`, `setTimeout`.
 * The event stream goes over `node:http`, unless the caller passed a `fetch` (a proxy dispatcher,
 * a test double) or the global one has been replaced since: then it goes through that `fetch`.
 */
export function createNodePlatform(fetchImpl?: FetchLike): Platform {
  const doFetch: FetchLike = fetchImpl ?? ((input, init) => globalThis.fetch(input, init));
  const overFetch = openFetchStream(doFetch);
  const openStream: OpenTextStream =
    fetchImpl !== undefined ? overFetch : (url, headers, signal) => (globalThis.fetch === nativeFetch ? openHttpStream : overFetch)(url, headers, signal);
  return {
    fetch: doFetch,
    openStream,
    now: () => Date.now(),
    random: () => Math.random(),
    schedule(delayMs: number, callback: () => void): Timer {
      const handle = setTimeout(callback, Math.max(0, delayMs));
      return { cancel: () => clearTimeout(handle), refresh: () => void handle.refresh() };
    },
  };
}
