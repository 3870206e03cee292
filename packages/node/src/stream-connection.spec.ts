import { describe, expect, it } from 'vitest';
import { createConsoleLogger } from './logger.js';
import { openFetchStream } from './platform/fetch-stream.js';
import type { FetchLike, Platform } from './platform/platform.js';
import { openStreamConnection, type StreamMessage } from './stream.js';

/** A platform whose timers never fire, over `fetch`. */
function fakePlatform(fetch: FetchLike): Platform {
  return {
    fetch,
    openStream: openFetchStream(fetch),
    now: () => 0,
    random: () => 0.5,
    schedule: () => ({ cancel: () => undefined, refresh: () => undefined }),
  };
}

describe('stream connection', () => {
  it('parses events split at any byte, including inside a multi-byte character, and hands over each chunk', async () => {
    const text = 'event: change\nid: 11\ndata: {"flags":{"café-🚀":null}}\n\n: ping\n\nevent: kill\nid: 12\ndata: {}\n\n';
    const bytes = new TextEncoder().encode(text);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 3) controller.enqueue(bytes.slice(i, i + 3));
        controller.close();
      },
    });
    const served: FetchLike = async (_url, init) => {
      expect(init?.headers).toMatchObject({ authorization: 'Bearer avs_test', accept: 'text/event-stream', 'accept-encoding': 'gzip', 'last-event-id': '10' });
      return new Response(body, { headers: { 'content-type': 'text/event-stream; charset=utf-8' } });
    };
    const messages: StreamMessage[] = [];
    let opened = 0;
    let alive = 0;
    const connection = openStreamConnection({
      platform: fakePlatform(served),
      logger: createConsoleLogger('none'),
      baseUrl: 'http://aviary.test',
      sdkKey: 'avs_test',
      heartbeatTimeoutMs: 45_000,
      lastEventId: '10',
      onOpen: () => (opened += 1),
      onAlive: () => (alive += 1),
      onMessages: (batch) => messages.push(...batch),
    });
    const outcome = await connection.done;
    expect([opened, alive]).toEqual([1, 1]);
    expect(outcome).toMatchObject({ alive: true, error: { code: 'CONNECTION', message: 'Aviary: the server closed the stream http://aviary.test/sdk/v1/stream?protocol=2' } });
    expect(messages).toEqual([
      { event: 'change', id: '11', data: '{"flags":{"café-🚀":null}}' },
      { event: 'kill', id: '12', data: '{}' },
    ]);
  });

  it('tells a refused key (fatal) from a failure to connect', async () => {
    const answer = (status: number): FetchLike => async () => new Response(JSON.stringify({ message: 'nope' }), { status });
    const open = (fetch: FetchLike) =>
      openStreamConnection({
        platform: fakePlatform(fetch),
        logger: createConsoleLogger('none'),
        baseUrl: 'http://aviary.test',
        sdkKey: 'avs_test',
        heartbeatTimeoutMs: 45_000,
        lastEventId: undefined,
        onOpen: () => undefined,
        onAlive: () => undefined,
        onMessages: () => undefined,
      }).done;
    expect(await open(answer(401))).toMatchObject({ alive: false, error: { code: 'AUTHENTICATION', fatal: true } });
    expect(await open(answer(503))).toMatchObject({ alive: false, error: { code: 'CONNECTION', fatal: false, status: 503 } });
    expect(await open(() => Promise.reject(new TypeError('fetch failed')))).toMatchObject({ alive: false, error: { code: 'CONNECTION' } });
  });
});
