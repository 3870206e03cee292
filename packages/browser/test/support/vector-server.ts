import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const CORS = { 'Access-Control-Allow-Origin': '*', 'Access-Control-Allow-Headers': 'Content-Type' };

/** One stream request, open until the client closes it. */
export interface VectorConnection {
  lastEventId: string | undefined;
  write(text: string): void;
  readonly closed: boolean;
}

/**
 * A real HTTP server whose stream sends exactly what the test writes, for running the protocol
 * vectors in Chromium: each client key is one session with its own connections, in order.
 */
export class VectorServer {
  private server: Server | undefined;
  private readonly sessions = new Map<string, VectorConnection[]>();
  private readonly waiters = new Set<() => void>();
  url = '';

  async start(): Promise<void> {
    const server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    this.server = server;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  connections(clientKey: string): readonly VectorConnection[] {
    return this.sessions.get(clientKey) ?? [];
  }

  /** Resolves once `clientKey` has opened more than `count` streams; rejects after `timeoutMs`. */
  async connection(clientKey: string, count: number, timeoutMs = 5_000): Promise<VectorConnection> {
    const deadline = Date.now() + timeoutMs;
    while (this.connections(clientKey).length <= count) {
      if (Date.now() > deadline) throw new Error(`${clientKey}: no stream request #${count + 1} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, 50);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.waiters.add(done);
      });
    }
    return this.connections(clientKey)[count]!;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'OPTIONS') return void res.writeHead(204, { ...CORS, 'Access-Control-Allow-Methods': 'GET, POST' }).end();
    if (req.method === 'POST') return void req.resume().on('end', () => res.writeHead(202, CORS).end());
    if (url.pathname !== '/sdk/v1/stream') return void res.writeHead(404, CORS).end();
    res.writeHead(200, { ...CORS, 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
    res.write(': connected\n\n');
    let closed = false;
    res.on('close', () => (closed = true));
    const key = url.searchParams.get('clientKey') ?? '';
    const connection: VectorConnection = {
      lastEventId: url.searchParams.get('lastEventId') ?? (req.headers['last-event-id'] as string | undefined),
      write: (text) => void res.write(text),
      get closed() {
        return closed;
      },
    };
    this.sessions.set(key, [...this.connections(key), connection]);
    for (const wake of this.waiters) wake();
    this.waiters.clear();
  }
}
