import helmet from 'helmet';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppConfig } from '../config/config.js';

type Middleware = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

/**
 * Security headers (helmet). The API answers JSON and event streams only, so its CSP allows
 * nothing; the Swagger UI at /docs needs its own scripts, inline styles and data: images, and no
 * `upgrade-insecure-requests` (it would break the UI on plain http://localhost). SDK routes may
 * be read cross-origin by browsers.
 */
export function securityHeaders(): Middleware {
  const api = helmet({
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
  });
  const sdk = helmet({
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    crossOriginResourcePolicy: { policy: 'cross-origin' },
  });
  const docs = helmet({
    contentSecurityPolicy: { directives: { imgSrc: ["'self'", 'data:', 'https:'], upgradeInsecureRequests: null } },
  });
  return (req, res, next) => {
    const url = req.url ?? '';
    (url.startsWith('/docs') ? docs : url.startsWith('/sdk/') ? sdk : api)(req, res, next);
  };
}

/** CORS for the configured origins (none by default: no CORS headers at all). Browser SDKs send
 *  `Authorization` and `Last-Event-ID` and read `ETag`; admin UIs send `If-Match`. */
export function corsOptions(config: AppConfig) {
  if (config.corsOrigins.length === 0) return undefined;
  return {
    origin: config.corsOrigins.includes('*') ? '*' : config.corsOrigins,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type', 'If-Match', 'If-None-Match', 'Last-Event-ID', 'X-Request-Id'],
    exposedHeaders: ['ETag', 'X-Request-Id', 'Retry-After'],
    credentials: false,
    maxAge: 600,
  };
}
