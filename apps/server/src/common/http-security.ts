import helmet from 'helmet';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { KEY_PREFIXES } from '../api-keys/api-keys.service.js';
import type { AppConfig } from '../config/config.js';
import type { AuthenticatedKey } from './actor.js';

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

const CORS_BASE = {
  methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
  allowedHeaders: ['Authorization', 'Content-Type', 'If-Match', 'If-None-Match', 'Last-Event-ID', 'X-Request-Id'],
  exposedHeaders: ['ETag', 'X-Request-Id', 'Retry-After'],
  credentials: false,
  maxAge: 600,
};

type CorsOrigin = false | '*' | string[];
type CorsDelegate = (req: IncomingMessage, callback: (err: Error | null, options: typeof CORS_BASE & { origin: CorsOrigin }) => void) => void;

const originOf = (origins: readonly string[]): CorsOrigin => (origins.length === 0 ? false : origins.includes('*') ? '*' : [...origins]);

/**
 * CORS (docs/deploy.md): the server-wide `AVIARY_CORS_ORIGINS` (none by default: no CORS headers
 * at all), or, for an SDK request carrying a client key that has its own `allowedOrigins`, that
 * key's. Browser SDKs send `Authorization` and `Last-Event-ID` and read `ETag`; admin UIs send
 * `If-Match`. Keys are looked up through the SDK key cache, so this costs no query per request.
 */
export function corsDelegate(config: AppConfig, apiKeys: { verify(token: string): Promise<AuthenticatedKey | undefined> }): CorsDelegate {
  const serverWide = { ...CORS_BASE, origin: originOf(config.corsOrigins) };
  return (req, callback) => {
    const token = clientKeyOf(req);
    if (token === undefined) return callback(null, serverWide);
    apiKeys.verify(token).then(
      (key) => callback(null, key?.kind === 'client' && key.allowedOrigins ? { ...CORS_BASE, origin: originOf(key.allowedOrigins) } : serverWide),
      () => callback(null, serverWide),
    );
  };
}

/** The client key of an SDK request (`?clientKey=` or a bearer `avc_…`), if it has one. */
function clientKeyOf(req: IncomingMessage): string | undefined {
  const url = req.url ?? '';
  if (!url.startsWith('/sdk/')) return undefined;
  const query = url.indexOf('?');
  const param = query < 0 ? null : new URLSearchParams(url.slice(query + 1)).get('clientKey');
  const bearer = /^Bearer[ \t]+(\S{1,512})[ \t]*$/i.exec(req.headers.authorization ?? '')?.[1];
  const token = param || bearer;
  return token?.startsWith(KEY_PREFIXES.client) && token.length <= 512 ? token : undefined;
}
