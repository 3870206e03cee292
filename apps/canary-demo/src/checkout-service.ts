/**
 * The checkout service the demo ships in two versions (src/service.ts runs one per process).
 * `GET /checkout?user=…` answers 200 with a small JSON body, or 500 for a `bugRate` share of
 * requests (the canary's defect) plus a `baseErrorRate` share (the background noise every
 * version has), after `latencyMs × slowFactor` jittered ±50 % (a slow canary: `slowFactor` > 1).
 */
import { createServer, type Server } from 'node:http';
import { parseArgs } from 'node:util';

export interface ServiceOptions {
  name: string;
  bugRate: number;
  baseErrorRate: number;
  latencyMs: number;
  /** A slow version: its latency is this many times `latencyMs` (1: as fast as configured). */
  slowFactor: number;
  port: number;
}

export function parseServiceArgs(argv: string[]): ServiceOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      name: { type: 'string', default: 'v1' },
      'bug-rate': { type: 'string', default: '0' },
      'base-error-rate': { type: 'string', default: '0' },
      'latency-ms': { type: 'string', default: '0' },
      'slow-factor': { type: 'string', default: '1' },
      port: { type: 'string', default: '0' },
    },
  });
  const share = (name: string, raw: string) => {
    const value = Number(raw);
    if (!(value >= 0 && value <= 1)) throw new Error(`--${name} must be a share from 0 to 1, got ${raw}`);
    return value;
  };
  const latencyMs = Number(values['latency-ms']);
  const port = Number(values.port);
  const slowFactor = Number(values['slow-factor']);
  if (!(slowFactor >= 1)) throw new Error(`--slow-factor must be a number ≥ 1, got ${values['slow-factor']}`);
  if (!(latencyMs >= 0)) throw new Error(`--latency-ms must be a number ≥ 0, got ${values['latency-ms']}`);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be a port number, got ${values.port}`);
  return {
    name: values.name,
    bugRate: share('bug-rate', values['bug-rate']),
    baseErrorRate: share('base-error-rate', values['base-error-rate']),
    latencyMs,
    slowFactor,
    port,
  };
}

export function createCheckoutService(options: ServiceOptions): Server {
  let served = 0;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://service');
    if (url.pathname === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name: options.name, served }));
      return;
    }
    if (url.pathname !== '/checkout') {
      res.writeHead(404).end();
      return;
    }
    served += 1;
    const answer = () => {
      const failed = Math.random() < options.bugRate || Math.random() < options.baseErrorRate;
      const status = failed ? 500 : 200;
      const body = failed
        ? { version: options.name, error: 'checkout failed' }
        : { version: options.name, user: url.searchParams.get('user'), total: 42 };
      res.writeHead(status, { 'content-type': 'application/json', 'x-version': options.name }).end(JSON.stringify(body));
    };
    const latencyMs = options.latencyMs * options.slowFactor;
    if (latencyMs > 0) setTimeout(answer, latencyMs * (0.5 + Math.random()));
    else answer();
  });
  server.keepAliveTimeout = 30_000;
  return server;
}
