import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { NestExpressApplication } from '@nestjs/platform-express';
import serveStatic from 'serve-static';

type Middleware = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

/** `nx build @aviary/dashboard` writes here (this file runs as apps/server/dist/apps/server/src/dashboard/). */
export const DASHBOARD_DIR = fileURLToPath(new URL('../../../../../../dashboard/dist/', import.meta.url));

/** Paths the dashboard never answers, not even with its page: the APIs, probes, metrics and the API docs. */
const RESERVED = /^\/(api|sdk|ofrep|docs|health|healthz|readyz|metrics|openapi\.json)(\/|\?|$)/;

export function isDashboardPath(url: string): boolean {
  return !RESERVED.test(url);
}

/**
 * The dashboard on the same origin as the API: its hashed assets (cached for a year), and its page
 * for every other GET that asks for HTML (client-side routes such as /flags/new-checkout or the
 * /setup and /invite links the server prints), never for the reserved paths above.
 * Without a build the server runs as before and `/` answers the API's 404.
 */
export function serveDashboard(app: NestExpressApplication, dir = DASHBOARD_DIR): boolean {
  const index = `${dir}index.html`;
  if (!existsSync(index)) return false;
  const page = readFileSync(index);
  app.useStaticAssets(`${dir}assets`, { prefix: '/assets/', immutable: true, maxAge: '365d', index: false, fallthrough: false });
  // The other files of the build's root (what Vite copies from public/), looked up only for a
  // path the dashboard answers: a GET to the APIs costs no file lookup (a failed `stat`, and the
  // error object made for it, were a third of a GET /sdk/v1/ruleset's CPU).
  app.use(onlyDashboardPaths(serveStatic(dir, { index: false, maxAge: '1h' })));
  app.use(spaFallback(page));
  return true;
}

function onlyDashboardPaths(serve: Middleware): Middleware {
  return (req, res, next) => ((req.method === 'GET' || req.method === 'HEAD') && isDashboardPath(req.url ?? '/') ? serve(req, res, next) : next());
}

function spaFallback(page: Buffer): Middleware {
  return (req, res, next) => {
    const url = req.url ?? '/';
    if ((req.method !== 'GET' && req.method !== 'HEAD') || !isDashboardPath(url) || !(req.headers.accept ?? '').includes('text/html')) return next();
    res.statusCode = 200;
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache');
    res.end(req.method === 'HEAD' ? undefined : page);
  };
}
