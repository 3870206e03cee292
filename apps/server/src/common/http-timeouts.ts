import type { Server } from 'node:http';
import type { AppConfig } from '../config/config.js';

/**
 * Node's HTTP server timeouts, so idle and slow clients cannot hold connections: the headers must
 * arrive within `headersTimeoutMs` of the first byte (slowloris), the whole request within
 * `requestTimeoutMs` (a body that never completes), and a kept-alive connection may sit idle for
 * `keepAliveTimeoutMs`. A connection that sends nothing at all is closed by the headers timeout too.
 * Streams are not affected: both timeouts end when the request has been received, however long
 * the response then lasts, and no socket inactivity timeout is set.
 */
export function applyHttpTimeouts(server: Server, { headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs }: AppConfig['http']): void {
  server.headersTimeout = headersTimeoutMs;
  server.requestTimeout = requestTimeoutMs;
  server.keepAliveTimeout = keepAliveTimeoutMs;
  // Node checks the headers and request timeouts on this interval (default 30 s; read when the
  // server starts listening, and not in @types/node): check often enough that a timeout fires
  // close to when it is due.
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = Math.max(250, Math.min(1_000, Math.floor(Math.min(headersTimeoutMs, requestTimeoutMs) / 4)));
}
