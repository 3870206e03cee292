import { describe, expect, it } from 'vitest';
import type { AviaryError } from './errors/aviary-error.js';
import { createConsoleLogger } from './logger.js';
import { openFetchStream } from './platform/fetch-stream.js';
import type { FetchLike, Platform } from './platform/platform.js';
import { createStream, type StreamMessage, type StreamOptions } from './stream.js';

/** A platform whose timers fire on the next turn (heartbeats never), with a fixed random. */
function fakePlatform(fetch: FetchLike, heartbeatMs: number) {
  const delays: number[] = [];
  const platform: Platform = {
    fetch,
    openStream: openFetchStream(fetch),
    now: () => 0,
    random: () => 0.5,
    schedule(delayMs, callback) {
      if (delayMs === heartbeatMs) return { cancel: () => undefined, refresh: () => undefined };
      delays.push(delayMs);
      const handle = setImmediate(callback);
      return { cancel: () => clearImmediate(handle), refresh: () => undefined };
    },
  };
  return { platform, delays };
}

function streamOptions(platform: Platform, overrides: Partial<StreamOptions>): StreamOptions {
  return {
    platform,
    logger: createConsoleLogger('none'),
    baseUrl: 'http://aviary.test',
    sdkKey: 'avs_test',
    heartbeatTimeoutMs: 45_000,
    initialReconnectDelayMs: 1_000,
    maxReconnectDelayMs: 30_000,
    lastEventId: () => undefined,
    onOpen: () => undefined,
    onAlive: () => undefined,
    onMessages: () => undefined,
    onConnectFailure: () => undefined,
    onDisconnect: () => undefined,
    onFatal: () => undefined,
    ...overrides,
  };
}

describe('stream', () => {
  it('backs off exponentially with full jitter up to the ceiling, counting consecutive failures', async () => {
    const refused: FetchLike = () => Promise.reject(new TypeError('fetch failed'));
    const { platform, delays } = fakePlatform(refused, 45_000);
    const failures: number[] = [];
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    const stream = createStream(
      streamOptions(platform, {
        onConnectFailure(_error: AviaryError, consecutive: number) {
          failures.push(consecutive);
          if (consecutive === 8) {
            stream.stop();
            done();
          }
        },
      }),
    );
    stream.start();
    await finished;
    expect(failures).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    // random() = 0.5 gives half of each ceiling: 1 s, 2 s, 4 s, … capped at 30 s.
    expect(delays).toEqual([500, 1_000, 2_000, 4_000, 8_000, 15_000, 15_000]);
  });

  it('parses events split at any byte, including inside a multi-byte character', async () => {
    const text = 'event: change\nid: 11\ndata: {"flags":{"café-🚀":null}}\n\n: ping\n\nevent: kill\nid: 12\ndata: {}\n\n';
    const bytes = new TextEncoder().encode(text);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 3) controller.enqueue(bytes.slice(i, i + 3));
        controller.close();
      },
    });
    const served: FetchLike = async (_url, init) => {
      expect(init?.headers).toMatchObject({ authorization: 'Bearer avs_test', accept: 'text/event-stream', 'last-event-id': '10' });
      return new Response(body, { headers: { 'content-type': 'text/event-stream; charset=utf-8' } });
    };
    const { platform } = fakePlatform(served, 45_000);
    const messages: StreamMessage[] = [];
    let alive = 0;
    let done!: () => void;
    const closed = new Promise<void>((resolve) => (done = resolve));
    const stream = createStream(
      streamOptions(platform, {
        lastEventId: () => '10',
        onAlive: () => (alive += 1),
        onMessages: (batch) => messages.push(...batch),
        onDisconnect() {
          stream.stop();
          done();
        },
      }),
    );
    stream.start();
    await closed;
    expect(alive).toBe(1);
    expect(messages).toEqual([
      { event: 'change', id: '11', data: '{"flags":{"café-🚀":null}}' },
      { event: 'kill', id: '12', data: '{}' },
    ]);
  });
});
