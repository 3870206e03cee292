import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AviaryRequest } from '../common/actor.js';
import { loggableUrl, type Logger } from './logger.js';
import type { ServerMetrics } from './server-metrics.js';

/** Probes and scrapes: logged at debug so they do not drown the access log. */
const QUIET_ROUTES = new Set(['/healthz', '/readyz', '/health', '/metrics']);

/** The route pattern (`/api/v1/flags/:key`), never the raw URL, so label values stay few. */
function routeOf(req: IncomingMessage & { route?: { path?: unknown } }): string {
  const path = req.route?.path;
  if (typeof path === 'string') return path;
  if (req.url?.startsWith('/docs')) return '/docs';
  return 'unmatched';
}

/** Express middleware: one access-log line and one latency observation per request (a stream is
 *  logged when it closes and kept out of the latency histogram). */
export function observeHttp(metrics: ServerMetrics, logger: Logger) {
  return (req: AviaryRequest, res: ServerResponse, next: () => void): void => {
    const started = process.hrtime.bigint();
    res.on('close', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = routeOf(req);
      const method = req.method ?? 'GET';
      const status = res.statusCode;
      const stream = String(res.getHeader('content-type') ?? '').startsWith('text/event-stream');
      if (!stream) metrics.httpDuration.observe({ method, route, status: String(status) }, seconds);
      const ms = Math.round(seconds * 1000);
      const fields = {
        reqId: req.requestId,
        method,
        url: loggableUrl(req.originalUrl ?? req.url ?? ''),
        route,
        status,
        ms,
        ...(res.writableFinished || stream ? {} : { aborted: true }),
      };
      const level = QUIET_ROUTES.has(route) ? 'debug' : status === 503 ? 'warn' : status >= 500 ? 'error' : 'info';
      logger[level](fields, stream ? `stream closed after ${(seconds).toFixed(1)} s` : `${method} ${route} ${status} ${ms} ms`);
    });
    next();
  };
}
