import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Cohort, Flag, Ruleset } from '@aviary/core';
import type { MetricsReport } from '../../src/metrics.js';

/** What one `/sdk/v1/stream` connection asked for and was sent first. */
export interface StreamRequest {
  authorization: string | undefined;
  lastEventId: string | undefined;
  /** `ruleset` when it got a whole ruleset, `replay` when missed patches, `nothing` when already current. */
  answer: 'ruleset' | 'replay' | 'nothing' | 'refused';
  /** What sent the request: a WHATWG fetch (it adds `Sec-Fetch-Mode`) or `node:http`. */
  transport: 'fetch' | 'node:http';
}

export interface RulesetRequest {
  ifNoneMatch: string | undefined;
  status: number;
}

interface LoggedEvent {
  revision: number;
  event: 'change' | 'kill';
  data: string;
}

/**
 * A real HTTP server speaking docs/protocol.md, with switches to misbehave. Tests talk to it over
 * real sockets; it keeps a change log so `Last-Event-ID` resumes replay what was missed.
 */
export interface FakeAviary {
  readonly url: string;
  readonly port: number;
  ruleset: Ruleset;
  readonly streamRequests: StreamRequest[];
  readonly rulesetRequests: RulesetRequest[];
  readonly metrics: MetricsReport[];
  /** The key the server accepts (default `avs_test`); `forbiddenKey` gets 403. */
  validKey: string;
  forbiddenKey: string;
  /**
   * `ok`; `fail` answers 500; `hang` never answers; `silent` sends the first events and then nothing;
   * `mute` answers 200 and then nothing at all (a buffering proxy).
   */
  streamMode: 'ok' | 'fail' | 'hang' | 'silent' | 'mute';
  rulesetMode: 'ok' | 'fail';
  /** Interval of `: ping` comments on open streams (0 = none). */
  pingMs: number;
  /** Upserts flags/cohorts (or removes with null) as one revision and pushes a `change`. */
  change(patch: { flags?: Record<string, Flag | null>; cohorts?: Record<string, Cohort | null> }): number;
  /** Switches a flag off as one revision and pushes a `kill`. */
  kill(flag: string): number;
  /** Writes raw SSE text to every open stream. */
  sendRaw(text: string): void;
  /** Ends every open stream (as a restart or a proxy would). */
  dropStreams(): void;
  openStreams(): number;
  listen(): Promise<void>;
  close(): Promise<void>;
}

export async function startAviary(initial: Ruleset, options: { listen?: boolean } = {}): Promise<FakeAviary> {
  const port = await freePort();
  const streams = new Set<ServerResponse>();
  const log: LoggedEvent[] = [];
  let server: Server | undefined;
  let pinger: NodeJS.Timeout | undefined;

  const fake: FakeAviary = {
    url: `http://127.0.0.1:${port}`,
    port,
    ruleset: structuredClone(initial),
    streamRequests: [],
    rulesetRequests: [],
    metrics: [],
    validKey: 'avs_test',
    forbiddenKey: 'avc_client',
    streamMode: 'ok',
    rulesetMode: 'ok',
    pingMs: 0,
    change(patch) {
      const revision = fake.ruleset.revision + 1;
      const flags = { ...fake.ruleset.flags };
      for (const [key, flag] of Object.entries(patch.flags ?? {})) {
        if (flag === null) delete flags[key];
        else flags[key] = flag;
      }
      const cohorts = { ...fake.ruleset.cohorts };
      for (const [key, cohort] of Object.entries(patch.cohorts ?? {})) {
        if (cohort === null) delete cohorts[key];
        else cohorts[key] = cohort;
      }
      fake.ruleset = { ...fake.ruleset, revision, flags, cohorts };
      publish({ revision, event: 'change', data: JSON.stringify({ revision, ...patch }) });
      return revision;
    },
    kill(key) {
      const revision = fake.ruleset.revision + 1;
      const flag = { ...fake.ruleset.flags[key]!, enabled: false };
      fake.ruleset = { ...fake.ruleset, revision, flags: { ...fake.ruleset.flags, [key]: flag } };
      publish({ revision, event: 'kill', data: JSON.stringify({ revision, flags: { [key]: flag } }) });
      return revision;
    },
    sendRaw(text) {
      for (const stream of streams) stream.write(text);
    },
    dropStreams() {
      for (const stream of streams) stream.destroy();
      streams.clear();
    },
    openStreams: () => streams.size,
    async listen() {
      server = createServer(handle);
      await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
      pinger = setInterval(() => {
        if (fake.pingMs > 0 && fake.streamMode === 'ok') fake.sendRaw(': ping\n\n');
      }, 20);
    },
    async close() {
      clearInterval(pinger);
      fake.dropStreams();
      if (!server) return;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server!.close(() => resolve()));
      server = undefined;
    },
  };

  function publish(entry: LoggedEvent): void {
    log.push(entry);
    fake.sendRaw(format(entry.event, entry.revision, entry.data));
  }

  function authorize(req: IncomingMessage, res: ServerResponse): boolean {
    const header = req.headers.authorization;
    if (header === `Bearer ${fake.validKey}`) return true;
    const status = header === `Bearer ${fake.forbiddenKey}` ? 403 : 401;
    const error = status === 403 ? 'Forbidden' : 'Unauthorized';
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ statusCode: status, error, message: status === 403 ? 'a client key cannot read this' : 'unknown key', requestId: 'req-1' }));
    return false;
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', fake.url).pathname;
    if (path === '/sdk/v1/ruleset' && req.method === 'GET') return serveRuleset(req, res);
    if (path === '/sdk/v1/stream' && req.method === 'GET') return serveStream(req, res);
    if (path === '/sdk/v1/metrics' && req.method === 'POST') return collectMetrics(req, res);
    res.writeHead(404).end();
  }

  function serveRuleset(req: IncomingMessage, res: ServerResponse): void {
    const ifNoneMatch = req.headers['if-none-match'];
    const record = (status: number) => fake.rulesetRequests.push({ ifNoneMatch, status });
    if (!authorize(req, res)) {
      record(res.statusCode);
      return;
    }
    if (fake.rulesetMode === 'fail') {
      record(500);
      res.writeHead(500).end();
      return;
    }
    const etag = `"${fake.ruleset.revision}"`;
    if (ifNoneMatch !== undefined && ifNoneMatch.replace(/^W\//, '').replace(/"/g, '') === String(fake.ruleset.revision)) {
      record(304);
      res.writeHead(304, { etag }).end();
      return;
    }
    record(200);
    res.writeHead(200, { 'content-type': 'application/json', etag });
    res.end(JSON.stringify(fake.ruleset));
  }

  function serveStream(req: IncomingMessage, res: ServerResponse): void {
    const header = req.headers['last-event-id'];
    const lastEventId = Array.isArray(header) ? header[0] : header;
    const request: StreamRequest = {
      authorization: req.headers.authorization,
      lastEventId,
      answer: 'refused',
      transport: req.headers['sec-fetch-mode'] === undefined ? 'node:http' : 'fetch',
    };
    fake.streamRequests.push(request);
    if (!authorize(req, res)) return;
    if (fake.streamMode === 'fail') {
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"message":"stream unavailable"}');
      return;
    }
    if (fake.streamMode === 'hang') {
      streams.add(res);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.flushHeaders();
    if (fake.streamMode === 'mute') {
      request.answer = 'nothing';
      return;
    }
    const from = lastEventId === undefined ? undefined : Number(lastEventId);
    const current = fake.ruleset.revision;
    const missed = from === undefined ? [] : log.filter((entry) => entry.revision > from);
    if (from !== undefined && from === current) {
      request.answer = 'nothing';
    } else if (from !== undefined && from < current && missed.length === current - from && missed[0]?.revision === from + 1) {
      request.answer = 'replay';
      for (const entry of missed) res.write(format(entry.event, entry.revision, entry.data));
    } else {
      request.answer = 'ruleset';
      res.write(format('ruleset', current, JSON.stringify(fake.ruleset)));
    }
    if (fake.streamMode === 'silent') return;
    streams.add(res);
    res.on('close', () => streams.delete(res));
  }

  function collectMetrics(req: IncomingMessage, res: ServerResponse): void {
    if (!authorize(req, res)) return;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      fake.metrics.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as MetricsReport);
      res.writeHead(202).end();
    });
  }

  if (options.listen !== false) await fake.listen();
  return fake;
}

export function format(event: string, id: number | string, data: string): string {
  return `event: ${event}\nid: ${id}\ndata: ${data}\n\n`;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** Polls `check` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(check: () => T, timeoutMs = 3_000, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
