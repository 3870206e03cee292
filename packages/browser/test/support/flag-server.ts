import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Ruleset } from '@aviary/core';
import { applyPatch, type RulesetPatch } from '@aviary/core/protocol';

/** A `change`/`kill` patch as docs/protocol.md defines it. */
export type Patch = Omit<RulesetPatch, 'revision'>;

/** One request the server saw, for assertions on what the browser sent. */
export interface SeenRequest {
  path: string;
  query: Record<string, string>;
  headers: IncomingMessage['headers'];
  /** What the server answered on a stream: a whole ruleset, a replay of missed patches, or nothing yet. */
  answer?: 'ruleset' | 'replay' | 'nothing';
}

const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Headers': 'If-None-Match, Content-Type, Last-Event-ID',
  'Access-Control-Expose-Headers': 'ETag',
};

/**
 * A small real HTTP server speaking docs/protocol.md for client keys (`?clientKey=`, `?key=`), with
 * CORS, so the page can live on another origin. It keeps a change log for `Last-Event-ID` resumes,
 * and can be stopped and restarted on the same port (the same origin, so the same localStorage key).
 */
export class FlagServer {
  ruleset: Ruleset;
  readonly requests: SeenRequest[] = [];
  readonly metrics: unknown[] = [];
  readonly clientKey = 'avc_browser_test';
  private readonly log: { revision: number; event: 'change' | 'kill'; patch: Patch }[] = [];
  private readonly streams = new Set<ServerResponse>();
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;
  port = 0;

  constructor(initial: Ruleset) {
    this.ruleset = structuredClone(initial);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get openStreams(): number {
    return this.streams.size;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => this.handle(req, res));
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Stops answering at once, like a crashed server: open streams and sockets are cut. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    this.streams.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Applies a patch as one revision, logs it and pushes it to every open stream. */
  publish(event: 'change' | 'kill', patch: Patch): number {
    const revision = this.ruleset.revision + 1;
    this.ruleset = applyPatch(this.ruleset, patch, revision);
    this.log.push({ revision, event, patch });
    for (const res of this.streams) res.write(frame(event, revision, { revision, ...patch }));
    return revision;
  }

  kill(flag: string): number {
    const current = this.ruleset.flags[flag];
    if (current === undefined) throw new Error(`no flag ${flag}`);
    return this.publish('kill', { flags: { [flag]: { ...current, enabled: false } } });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const seen: SeenRequest = { path: url.pathname, query: Object.fromEntries(url.searchParams), headers: req.headers };
    this.requests.push(seen);
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { ...CORS, 'Access-Control-Allow-Methods': 'GET, POST' }).end();
      return;
    }
    if (url.searchParams.get('clientKey') !== this.clientKey) {
      res.writeHead(401, { ...CORS, 'Content-Type': 'application/json' }).end(JSON.stringify({ statusCode: 401, error: 'Unauthorized' }));
      return;
    }
    if (req.method === 'GET' && url.pathname === '/sdk/v1/ruleset') {
      const etag = `"${this.ruleset.revision}"`;
      if (String(req.headers['if-none-match'] ?? '').replace(/^W\//, '') === etag) {
        res.writeHead(304, { ...CORS, ETag: etag }).end();
        return;
      }
      res.writeHead(200, { ...CORS, ETag: etag, 'Content-Type': 'application/json' }).end(JSON.stringify(this.ruleset));
      return;
    }
    if (req.method === 'GET' && url.pathname === '/sdk/v1/stream') {
      res.writeHead(200, { ...CORS, 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
      res.write(': connected\n\n');
      const from = url.searchParams.get('lastEventId') ?? req.headers['last-event-id'];
      const last = from === undefined ? NaN : Number(from);
      const missed = this.log.filter((e) => e.revision > last);
      if (last === this.ruleset.revision) seen.answer = 'nothing';
      else if (Number.isInteger(last) && last < this.ruleset.revision && missed[0]?.revision === last + 1) {
        seen.answer = 'replay';
        for (const e of missed) res.write(frame(e.event, e.revision, { revision: e.revision, ...e.patch }));
      } else {
        seen.answer = 'ruleset';
        res.write(frame('ruleset', this.ruleset.revision, this.ruleset));
      }
      this.streams.add(res);
      res.on('close', () => this.streams.delete(res));
      return;
    }
    if (req.method === 'POST' && url.pathname === '/sdk/v1/metrics') {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk));
      req.on('end', () => {
        this.metrics.push(JSON.parse(body));
        res.writeHead(202, CORS).end();
      });
      return;
    }
    res.writeHead(404, CORS).end();
  }
}

function frame(event: string, id: number, data: unknown): string {
  return `id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
