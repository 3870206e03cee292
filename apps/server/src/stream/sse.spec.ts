import { type IncomingMessage, type ServerResponse, createServer, get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SSE_HEARTBEAT, openEventStream, sseEvent, writeFrame } from './sse.js';

const BIG = 16 * 1024 * 1024;
const bigFrame = (id: number) => sseEvent('ruleset', id, `"${'x'.repeat(BIG)}"`);
const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

/** A real stream over a loopback socket whose reader does not read until told to. */
async function pausedStream() {
  let res!: ServerResponse;
  const opened = new Promise<void>((resolve) => {
    server = createServer((_req, answer) => {
      res = answer;
      openEventStream(res);
      resolve();
    }).listen(0, '127.0.0.1');
  });
  await new Promise((resolve) => server!.once('listening', resolve));
  let reply!: IncomingMessage;
  const replied = new Promise<void>((resolve) => {
    get(`http://127.0.0.1:${(server!.address() as AddressInfo).port}/`, (answer) => {
      reply = answer;
      answer.pause();
      resolve();
    });
  });
  await Promise.all([opened, replied]);
  return {
    res: () => res,
    /** Reads everything until the server ends or cuts the stream; answers the frames it received. */
    readAll: () =>
      new Promise<string[]>((resolve) => {
        let body = '';
        reply.setEncoding('utf8');
        reply.on('data', (chunk: string) => (body += chunk));
        const done = () => resolve(body.split('\n\n').slice(1, -1));
        reply.on('end', done).on('aborted', done).on('error', done);
        reply.resume();
      }),
  };
}

let server: ReturnType<typeof createServer> | undefined;
afterEach(() => {
  server?.closeAllConnections();
  server?.close();
});

describe('writeFrame, a slow reader', () => {
  it('keeps the stream a frame bigger than the limit is still leaving on: a heartbeat behind it does not cut it', async () => {
    const stream = await pausedStream();
    expect(writeFrame(stream.res(), bigFrame(1))).toBe(true);
    await settle();
    // Most of the frame waits in the process (beyond what the kernel took): more than the 4 MB limit.
    expect(stream.res().writableLength).toBeGreaterThan(4 * 1024 * 1024);
    expect(writeFrame(stream.res(), SSE_HEARTBEAT)).toBe(true);
    const reading = stream.readAll();
    await settle();
    expect(writeFrame(stream.res(), sseEvent('change', 2, '{}'))).toBe(true);
    stream.res().end();
    const frames = await reading;
    expect(frames.map((f) => f.slice(0, 30).split('\n')[0])).toEqual(['id: 1', 'event: ping', 'id: 2']);
    expect(frames[0].length).toBe(bigFrame(1).length - 2);
  });

  it('cuts a reader that falls a whole big frame behind (more than the limit piles up behind the one leaving)', async () => {
    const stream = await pausedStream();
    expect(writeFrame(stream.res(), bigFrame(1))).toBe(true);
    await settle();
    expect(writeFrame(stream.res(), bigFrame(2))).toBe(true);
    await settle();
    expect(writeFrame(stream.res(), SSE_HEARTBEAT)).toBe(false);
    expect(stream.res().destroyed).toBe(true);
  });
});
