import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Context } from '@aviary/node';
import { get, loopbackAgent, wallClock } from './http.js';

/** What the router needs of a flag client: `AviaryClient` from @aviary/node fits. */
export interface FlagGate {
  isEnabled(flag: string, context: Context, fallback?: boolean): boolean;
  track(event: string, context: Context, options?: { value?: number }): void;
}

export type Arm = 'v1' | 'v2';
export const arms: readonly Arm[] = ['v1', 'v2'];

/** One line of the router's log: a request it sent to one version. */
export interface RoutedRequest {
  /** When the router decided and sent it (wall clock, ms). */
  sentAt: number;
  /** When the version's answer (or the failure) came back. */
  doneAt: number;
  user: string;
  arm: Arm;
  /** The version's status; 502 when it could not be reached. */
  status: number;
}

export interface ArmCounts {
  requests: number;
  errors: number;
}

export interface Router {
  readonly url: string;
  /** Every routed request, in the order the answers came back. */
  readonly log: readonly RoutedRequest[];
  /** Totals per version since the router started. */
  counts(): Record<Arm, ArmCounts>;
  close(): Promise<void>;
}

export interface RouterOptions {
  gate: FlagGate;
  /** The flag that sends a user to v2. */
  flag: string;
  upstreams: Record<Arm, string>;
  maxSockets?: number;
}

export function isError(status: number): boolean {
  return status >= 500;
}

/**
 * The router in front of both versions: `GET /checkout?user=…` goes to v2 when the flag is on
 * for `{ key: user }`, else to v1, and the outcome is tracked as `request` (and `error` on a 5xx)
 * for the arm that user saw, with the answer's milliseconds as `latency`: what the rollout
 * guards compare.
 */
export async function startRouter(options: RouterOptions): Promise<Router> {
  const agent = loopbackAgent(options.maxSockets ?? 256);
  const log: RoutedRequest[] = [];
  const totals: Record<Arm, ArmCounts> = { v1: { requests: 0, errors: 0 }, v2: { requests: 0, errors: 0 } };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://router');
    const user = url.searchParams.get('user');
    if (url.pathname !== '/checkout' || !user) {
      res.writeHead(url.pathname === '/checkout' ? 400 : 404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: 'GET /checkout?user=<id>' }));
      return;
    }
    const context: Context = { key: user };
    const arm: Arm = options.gate.isEnabled(options.flag, context, false) ? 'v2' : 'v1';
    const sentAt = wallClock();
    get(`${options.upstreams[arm]}/checkout?user=${encodeURIComponent(user)}`, agent)
      .catch((err: Error) => ({ status: 502, body: JSON.stringify({ error: `${arm} unreachable: ${err.message}` }) }))
      .then(({ status, body }) => {
        const failed = isError(status);
        const doneAt = wallClock();
        options.gate.track('request', context);
        if (failed) options.gate.track('error', context);
        options.gate.track('latency', context, { value: doneAt - sentAt });
        totals[arm].requests += 1;
        if (failed) totals[arm].errors += 1;
        log.push({ sentAt, doneAt, user, arm, status });
        res.writeHead(status, { 'content-type': 'application/json', 'x-routed-to': arm }).end(body);
      });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;

  return {
    url: `http://127.0.0.1:${port}`,
    log,
    counts: () => ({ v1: { ...totals.v1 }, v2: { ...totals.v2 } }),
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }).then(() => agent.destroy());
      return closed;
    },
  };
}
