import {
  type CanActivate,
  type ExecutionContext,
  ForbiddenException,
  HttpException,
  HttpStatus,
  Inject,
  Injectable,
  SetMetadata,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiKeysService, KEY_PREFIXES } from '../api-keys/api-keys.service.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { ServerMetrics } from '../observability/server-metrics.js';
import type { AuthenticatedKey, AviaryRequest } from './actor.js';
import { AuthFailures } from './auth-failures.js';
import { capitalized, withArticle } from './english.js';

export type KeyKind = AuthenticatedKey['kind'];

const KEY_KINDS = 'aviary:key-kinds';
const READ_OPERATION = 'aviary:read-operation';

/** Which kinds of key may call a controller or route; without it, admin keys only. */
export const AllowKeys = (...kinds: KeyKind[] | ['public']) => SetMetadata(KEY_KINDS, kinds);
/** No key needed (health checks). */
export const Public = () => AllowKeys('public');
/** A POST that changes nothing (evaluate): read-only admin keys may call it. */
export const ReadOperation = () => SetMetadata(READ_OPERATION, true);

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The one auth guard (an `APP_GUARD`): `Authorization: Bearer <key>` or `X-API-Key`; unknown or missing key
 *  401, a key of the wrong kind or a read-only key on a write 403; an address past its failed
 *  authentications 429. */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly apiKeys: ApiKeysService,
    private readonly failures: AuthFailures,
    private readonly metrics: ServerMetrics,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    const kinds = this.reflector.getAllAndOverride<string[] | undefined>(KEY_KINDS, targets) ?? ['admin'];
    if (kinds.includes('public')) return true;
    const req = context.switchToHttp().getRequest<AviaryRequest & { ip?: string }>();
    // Express's req.ip: the client as AVIARY_TRUST_PROXY lets X-Forwarded-For name it.
    const address = req.ip ?? req.socket?.remoteAddress ?? 'unknown';
    const key = await this.authenticate(req, kinds, address, context.switchToHttp().getResponse<ServerResponse>());
    req.apiKey = key;
    if (!kinds.includes(key.kind)) {
      throw new ForbiddenException(`${capitalized(withArticle(key.kind))} key cannot call this endpoint; it needs ${withArticle(kinds.join(' or '))} key`);
    }
    const readOperation = this.reflector.getAllAndOverride<boolean | undefined>(READ_OPERATION, targets);
    if (key.readOnly && !SAFE_METHODS.has(req.method ?? '') && !readOperation) {
      throw new ForbiddenException('A read-only admin key cannot change anything');
    }
    return true;
  }

  private async authenticate(req: AviaryRequest, kinds: string[], address: string, res: ServerResponse): Promise<AuthenticatedKey> {
    const retryAfter = this.failures.retryAfter(address);
    let token: string | undefined;
    try {
      // A browser cannot always send headers (EventSource, sendBeacon): routes open to client keys
      // also take one as `?clientKey=`, and only a client key, so secret keys never sit in URLs.
      token = presentedToken(req, kinds.includes('client'));
    } catch (err) {
      if (retryAfter > 0) this.refuse(res, retryAfter);
      this.failures.record(address);
      throw err;
    }
    if (retryAfter > 0) {
      // Past the limit, only a key this instance verified recently passes, and nothing is looked
      // up: SDKs with good keys behind the same NAT as a misconfigured one keep getting updates.
      const known = token ? this.apiKeys.recentlyVerified(token) : undefined;
      if (!known) this.refuse(res, retryAfter);
      return known;
    }
    if (!token) {
      this.failures.record(address);
      throw new UnauthorizedException('Missing API key: send "Authorization: Bearer <key>" (or "X-API-Key: <key>")');
    }
    const key = await this.apiKeys.verify(token);
    if (!key) {
      this.failures.record(address);
      throw new UnauthorizedException('Unknown or revoked API key');
    }
    return key;
  }

  private refuse(res: ServerResponse, retryAfter: number): never {
    this.metrics.rateLimited.inc({ limit: 'auth-failures' });
    res.setHeader('Retry-After', String(retryAfter));
    const { authFailures, windowMs } = this.config.rateLimit;
    throw new HttpException(
      `Too many failed authentications from this address (more than ${authFailures} in ${windowMs / 1000} s); retry in ${retryAfter} s`,
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}

/** The key a request presents: `Authorization: Bearer <key>`, else `X-API-Key: <key>` (OFREP's
 *  other scheme), else, where client keys may call, `?clientKey=`. Throws 401 for a `?clientKey=`
 *  that is not a client key. */
export function presentedToken(req: IncomingMessage, clientKeyInUrl: boolean): string | undefined {
  return bearerToken(req.headers.authorization) ?? apiKeyHeader(req.headers['x-api-key']) ?? (clientKeyInUrl ? clientKeyParam(req.url) : undefined);
}

function apiKeyHeader(header: string | string[] | undefined): string | undefined {
  return typeof header === 'string' && /^\S{1,512}$/.test(header.trim()) ? header.trim() : undefined;
}

function clientKeyParam(url: string | undefined): string | undefined {
  const query = url?.indexOf('?') ?? -1;
  if (query < 0) return undefined;
  const key = new URLSearchParams(url!.slice(query + 1)).get('clientKey');
  if (key === null || key === '') return undefined;
  if (!key.startsWith(KEY_PREFIXES.client) || key.length > 512) throw new UnauthorizedException('?clientKey= takes a client key only');
  return key;
}

function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer[ \t]+(\S{1,512})[ \t]*$/i.exec(header);
  return match?.[1];
}
