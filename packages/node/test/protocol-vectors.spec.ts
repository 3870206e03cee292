import { loadProtocolVectors, toServerSentEvent } from '@aviary/test-support';
import { describe, expect, it } from 'vitest';
import { createClientOnPlatform } from '../src/client.js';
import { resolveOptions } from '../src/options.js';
import { createNodePlatform } from '../src/platform/node-platform.js';
import type { OpenTextStream } from '../src/platform/platform.js';
import { recordingLogger } from './support/fixtures.js';
import { waitFor } from './support/aviary-server.js';

// The protocol vectors of @aviary/core through the client's own path: each step's event is sent as
// text on the stream (parser, supervisor, served ruleset, events), only the socket is a stand-in.

const { context, vectors } = loadProtocolVectors();

/** One stream request: what it asked for, and the means to send it text. */
interface Connection {
  lastEventId: string | undefined;
  signal: AbortSignal;
  /** Set once the client reads the body. */
  send?: (text: string) => void;
}

function fakeStreams() {
  const opened: Connection[] = [];
  const openStream: OpenTextStream = async (_url, headers, signal) => {
    const connection: Connection = { lastEventId: headers['last-event-id'], signal };
    opened.push(connection);
    return {
      status: 200,
      contentType: 'text/event-stream',
      text: async () => '',
      cancel: () => undefined,
      read: (onText) =>
        new Promise<void>((_resolve, reject) => {
          connection.send = onText;
          signal.addEventListener('abort', () => reject(new Error('aborted')));
        }),
    };
  };
  return { opened, openStream };
}

describe('protocol vectors through the Node client', () => {
  it('has the vectors', () => {
    expect(vectors.length).toBeGreaterThanOrEqual(25);
  });

  it.each(vectors.map((vector) => [vector.name, vector] as const))('%s', async (_name, vector) => {
    const streams = fakeStreams();
    const logger = recordingLogger();
    const { options } = resolveOptions({ url: 'http://vectors.test', sdkKey: 'avs_test', sendMetrics: false, logger, initialReconnectDelayMs: 1, maxReconnectDelayMs: 5 });
    const platform = { ...createNodePlatform(), openStream: streams.openStream, fetch: () => Promise.reject(new Error('no polling in the vectors')) };
    const client = createClientOnPlatform(options, platform);
    const seen: [string, unknown][] = [];
    for (const name of ['ready', 'change', 'kill'] as const) client.on(name, (payload) => seen.push([name, payload]));
    client.on('error', (error) => seen.push(['error', { code: error.code }]));
    try {
      let connection = await opened(streams.opened, 0);
      expect(connection.lastEventId).toBeUndefined();
      for (const [i, { send, expect: expected }] of vector.steps.entries()) {
        const count = streams.opened.length;
        connection.send!(toServerSentEvent(send));
        // The client asks for a reload at once, within the chunk's handling: it drops the connection.
        expect(connection.signal.aborted, `step ${i + 1}: reload`).toBe(expected.reload);
        if (expected.reload) {
          connection = await opened(streams.opened, count);
          expect(connection.lastEventId, `step ${i + 1}: the reload asks for the whole ruleset`).toBeUndefined();
        }
        const flags: Record<string, boolean | null> = {};
        for (const flag of Object.keys(expected.flags)) {
          const result = client.evaluate(flag, context);
          flags[flag] = result.reason === 'FLAG_NOT_FOUND' ? null : result.enabled;
        }
        const { reload: _reload, ...shown } = expected;
        expect({ revision: client.revision ?? null, flags, events: seen.splice(0) }, `step ${i + 1}`).toEqual(shown);
      }
    } finally {
      await client.close();
    }
  });
});

/** The `index`-th stream request, once the client reads it. */
async function opened(list: Connection[], index: number): Promise<Connection> {
  await waitFor(() => list[index]?.send !== undefined, 2_000, `stream request #${index + 1}`);
  return list[index]!;
}
