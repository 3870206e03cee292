import { ForbiddenException } from '@nestjs/common';
import helmet from 'helmet';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { KEY_PREFIXES } from '../api-keys/api-keys.service.js';
import type { AppConfig } from '../config/config.js';
import { isDashboardPath } from '../dashboard/dashboard-static.js';
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
  // The dashboard's page loads its own scripts, styles and fetches only (no inline script).
  const dashboard = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'self'"], imgSrc: ["'self'", 'data:'], objectSrc: ["'none'"], baseUri: ["'self'"], formAction: ["'self'"], frameAncestors: ["'none'"] },
    },
  });
  return (req, res, next) => {
    const url = req.url ?? '';
    (url.startsWith('/docs') ? docs : url.startsWith('/sdk/') ? sdk : isDashboardPath(url) ? dashboard : api)(req, res, next);
  };
}

const CORS_BASE = {
  methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
  allowedHeaders: ['Authorization', 'Content-Type', 'If-Match', 'If-None-Match', 'Last-Event-ID', 'X-API-Key', 'X-Request-Id'],
  exposedHeaders: ['ETag', 'X-Request-Id', 'Retry-After'],
  credentials: false,
  maxAge: 600,
};

type CorsOrigin = false | '*' | string[];
type CorsDelegate = (req: IncomingMessage, callback: (err: Error | null, options: typeof CORS_BASE & { origin: CorsOrigin }) => void) => void;
type ApiKeyLookup = { verify(token: string): Promise<AuthenticatedKey | undefined> };

const originOf = (origins: readonly string[]): CorsOrigin => (origins.length === 0 ? false : origins.includes('*') ? '*' : [...origins]);

/** The origins a request may come from, and the setting they come from. */
interface CorsPolicy {
  origins: readonly string[];
  setting: 'AVIARY_CORS_ORIGINS' | 'allowedOrigins';
}

/**
 * The CORS policy of a request (docs/deploy.md): the server-wide `AVIARY_CORS_ORIGINS` (none by
 * default), or, for an SDK request carrying a client key that has its own `allowedOrigins`, that
 * key's. Keys are looked up through the SDK key cache, so this costs no query per request.
 */
function corsPolicy(config: AppConfig, apiKeys: ApiKeyLookup): (req: IncomingMessage) => Promise<CorsPolicy> {
  const serverWide: CorsPolicy = { origins: config.corsOrigins, setting: 'AVIARY_CORS_ORIGINS' };
  return async (req) => {
    const token = clientKeyOf(req);
    if (token === undefined) return serverWide;
    const key = await apiKeys.verify(token).catch(() => undefined);
    return key?.kind === 'client' && key.allowedOrigins ? { origins: key.allowedOrigins, setting: 'allowedOrigins' } : serverWide;
  };
}

/** CORS headers per request. Browser SDKs send `Authorization` and `Last-Event-ID` and read
 *  `ETag`; admin UIs send `If-Match`. */
export function corsDelegate(config: AppConfig, apiKeys: ApiKeyLookup): CorsDelegate {
  const policyOf = corsPolicy(config, apiKeys);
  return (req, callback) => {
    policyOf(req).then(({ origins }) => callback(null, { ...CORS_BASE, origin: originOf(origins) }));
  };
}

/** How often the log names one refused origin at most. */
const REFUSAL_LOG_INTERVAL_MS = 60_000;

/**
 * Express middleware before the CORS one: a preflight from an origin the policy does not allow
 * is a 403 whose body, and a warn line in the server's log, name the setting that would allow it.
 * (Without it the preflight falls through to the router: a bare `404 Cannot OPTIONS`.)
 */
export function refuseForeignPreflight(
  config: AppConfig,
  apiKeys: ApiKeyLookup,
  logger: { warn(obj: object, message: string): void },
): (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void {
  const policyOf = corsPolicy(config, apiKeys);
  const lastLogged = new Map<string, number>();
  return (req, _res, next) => {
    const origin = req.headers.origin;
    if (req.method !== 'OPTIONS' || !origin || !req.headers['access-control-request-method']) return next();
    policyOf(req).then(({ origins, setting }) => {
      if (origins.includes('*') || origins.includes(origin)) return next();
      const message = refusalMessage(origin, setting, (req.url ?? '').startsWith('/sdk/'));
      const key = `${setting} ${origin}`;
      const now = Date.now();
      if ((lastLogged.get(key) ?? -Infinity) <= now - REFUSAL_LOG_INTERVAL_MS) {
        if (lastLogged.size >= 1000) lastLogged.clear();
        lastLogged.set(key, now);
        logger.warn({ context: 'CORS', origin, setting }, `Refused a preflight for ${req.method} ${(req.url ?? '').split('?')[0]}: ${message}`);
      }
      next(new ForbiddenException(message));
    }, next);
  };
}

function refusalMessage(origin: string, setting: CorsPolicy['setting'], sdk: boolean): string {
  if (setting === 'allowedOrigins') {
    return `The origin ${origin} is not in this client key's allowedOrigins; add it with PATCH /api/v1/api-keys/:id`;
  }
  const keyHint = sdk ? " (a client key sent as ?clientKey= is checked against its own allowedOrigins instead)" : '';
  return `The origin ${origin} is not allowed to call this server from a browser; add it to AVIARY_CORS_ORIGINS${keyHint}`;
}

/** The client key of an SDK or OFREP request (`?clientKey=`, a bearer `avc_…` or `X-API-Key`), if it has one. */
function clientKeyOf(req: IncomingMessage): string | undefined {
  const url = req.url ?? '';
  if (!url.startsWith('/sdk/') && !url.startsWith('/ofrep/')) return undefined;
  const query = url.indexOf('?');
  const param = query < 0 ? null : new URLSearchParams(url.slice(query + 1)).get('clientKey');
  const bearer = /^Bearer[ \t]+(\S{1,512})[ \t]*$/i.exec(req.headers.authorization ?? '')?.[1];
  const header = req.headers['x-api-key'];
  const token = param || bearer || (typeof header === 'string' ? header.trim() : undefined);
  return token?.startsWith(KEY_PREFIXES.client) && token.length <= 512 ? token : undefined;
}
