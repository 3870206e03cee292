import type { FetchLike, OpenTextStream, TextStream } from './platform.js';

/**
 * The event stream over a WHATWG `fetch` (the caller's `fetch` option, or a replaced global one):
 * works with any fetch (proxy dispatchers, recording doubles), at the cost of web-stream plumbing
 * per chunk.
 */
export function openFetchStream(fetchImpl: FetchLike): OpenTextStream {
  return async (url, headers, signal) => {
    const response = await fetchImpl(url, { headers, signal });
    const body = response.body;
    const stream: TextStream = {
      status: response.status,
      contentType: response.headers.get('content-type') ?? '',
      text: () => response.text(),
      async read(onText) {
        if (body === null) return;
        const reader = body.getReader();
        const decoder = new TextDecoder();
        try {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) return;
            onText(decoder.decode(value, { stream: true }));
          }
        } finally {
          reader.cancel().catch(() => undefined);
        }
      },
      cancel() {
        body?.cancel().catch(() => undefined);
      },
    };
    return stream;
  };
}
