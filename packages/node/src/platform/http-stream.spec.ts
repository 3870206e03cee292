import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync, createGzip, constants } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { openHttpStream } from './http-stream.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const servers: Server[] = [];

async function serve(handler: Handler): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

const tick = (ms = 20) => new Promise((resolve) => setTimeout(resolve, ms));
const headers = { authorization: 'Bearer avs_test', accept: 'text/event-stream' };

describe('the event stream over node:http', () => {
  it('hands over the body as text, chunk by chunk as it arrives, with characters split across packets decoded whole', async () => {
    const rocket = Buffer.from('data: 🚀\n\n');
    const url = await serve(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.flushHeaders();
      res.socket?.setNoDelay(true);
      await tick();
      res.write(rocket.subarray(0, 8)); // "data: " and half of the rocket
      await tick();
      res.write(rocket.subarray(8));
      await tick();
      res.end(': bye\n\n');
    });
    const answer = await openHttpStream(`${url}/sdk/v1/stream`, headers, new AbortController().signal);
    expect(answer.status).toBe(200);
    expect(answer.contentType).toBe('text/event-stream');
    const chunks: string[] = [];
    await answer.read((text) => chunks.push(text));
    expect(chunks.join('')).toBe('data: 🚀\n\n: bye\n\n');
    expect(chunks.length).toBeGreaterThanOrEqual(2);
    expect(chunks.every((chunk) => !chunk.includes('\uFFFD'))).toBe(true);
  });

  it('sends the given headers and gives an error answer\'s status and body', async () => {
    let seen: IncomingMessage['headers'] | undefined;
    const url = await serve((req, res) => {
      seen = req.headers;
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"message":"unknown key"}');
    });
    const answer = await openHttpStream(`${url}/sdk/v1/stream`, { ...headers, 'last-event-id': '42' }, new AbortController().signal);
    expect(answer.status).toBe(401);
    expect(await answer.text()).toBe('{"message":"unknown key"}');
    expect(seen).toMatchObject({ authorization: 'Bearer avs_test', accept: 'text/event-stream', 'last-event-id': '42' });
  });

  it('follows redirects as fetch does, keeping Authorization only on the same origin', async () => {
    const auth: Array<string | undefined> = [];
    const other = await serve((req, res) => {
      auth.push(req.headers.authorization);
      res.writeHead(200, { 'content-type': 'text/event-stream' }).end('data: other\n\n');
    });
    const url = await serve((req, res) => {
      auth.push(req.headers.authorization);
      if (req.url === '/old') res.writeHead(307, { location: '/new' }).end();
      else if (req.url === '/new') res.writeHead(308, { location: `${other}/elsewhere` }).end();
      else res.writeHead(404).end();
    });
    const answer = await openHttpStream(`${url}/old`, headers, new AbortController().signal);
    expect(answer.status).toBe(200);
    expect(await answer.text()).toBe('data: other\n\n');
    expect(auth).toEqual(['Bearer avs_test', 'Bearer avs_test', undefined]);
  });

  it('gives up after 20 redirects', async () => {
    const url = await serve((_req, res) => res.writeHead(302, { location: '/again' }).end());
    await expect(openHttpStream(`${url}/start`, headers, new AbortController().signal)).rejects.toThrow(/more than 20 redirects/);
  });

  it('decodes a gzip body flushed event by event, and one of a gzip member per event', async () => {
    const url = await serve(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'content-encoding': 'gzip' });
      const gzip = createGzip({ flush: constants.Z_SYNC_FLUSH });
      gzip.pipe(res);
      gzip.write('data: one\n\n');
      await tick();
      gzip.end('data: two\n\n');
    });
    const answer = await openHttpStream(url, headers, new AbortController().signal);
    let text = '';
    await answer.read((chunk) => (text += chunk));
    expect(text).toBe('data: one\n\ndata: two\n\n');

    // The server's form (apps/server/src/stream/sse.ts): every frame its own gzip member, as they arrive.
    const members = await serve(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'content-encoding': 'gzip' });
      res.write(gzipSync('data: one\n\n'));
      await tick();
      res.write(Buffer.concat([gzipSync('data: '), gzipSync('two')]));
      await tick();
      res.end(gzipSync('\n\n'));
    });
    const chunks: string[] = [];
    await (await openHttpStream(members, headers, new AbortController().signal)).read((chunk) => chunks.push(chunk));
    expect(chunks).toEqual(['data: one\n\n', 'data: two', '\n\n']);

    const whole = await serve((_req, res) => res.writeHead(500, { 'content-encoding': 'gzip' }).end(gzipSync('{"message":"down"}')));
    expect(await (await openHttpStream(whole, headers, new AbortController().signal)).text()).toBe('{"message":"down"}');
  });

  it('rejects the read when the connection drops mid-body', async () => {
    const url = await serve(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': connected\n\n');
      await tick();
      res.destroy();
    });
    const answer = await openHttpStream(url, headers, new AbortController().signal);
    const chunks: string[] = [];
    await expect(answer.read((text) => chunks.push(text))).rejects.toBeInstanceOf(Error);
    expect(chunks.join('')).toBe(': connected\n\n');
  });

  it('rejects on abort, before and after the answer, and on a refused connection', async () => {
    const url = await serve((req, res) => {
      if (req.url === '/hang') return;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': connected\n\n');
    });
    const early = new AbortController();
    const pending = openHttpStream(`${url}/hang`, headers, early.signal);
    await tick();
    early.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });

    const late = new AbortController();
    const answer = await openHttpStream(url, headers, late.signal);
    const reading = answer.read(() => late.abort());
    await expect(reading).rejects.toBeInstanceOf(Error);

    const closed = await serve(() => undefined);
    servers.pop()!.close();
    await tick();
    await expect(openHttpStream(closed, headers, new AbortController().signal)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('passes an exception of the reader on as a rejection and closes the connection', async () => {
    let closed = false;
    const url = await serve((_req, res) => {
      res.on('close', () => (closed = true));
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': connected\n\n');
    });
    const answer = await openHttpStream(url, headers, new AbortController().signal);
    await expect(
      answer.read(() => {
        throw new Error('listener bug');
      }),
    ).rejects.toThrow('listener bug');
    await tick(50);
    expect(closed).toBe(true);
  });
});
