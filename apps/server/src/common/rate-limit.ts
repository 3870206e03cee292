import { type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerException,
  ThrottlerGuard,
  type ThrottlerLimitDetail,
  type ThrottlerModuleOptions,
  type ThrottlerOptions,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import type { ServerResponse } from 'node:http';
import type { AppConfig } from '../config/config.js';
import { ServerMetrics } from '../observability/server-metrics.js';
import type { AviaryRequest } from './actor.js';

type RoutedRequest = AviaryRequest & { route?: { path?: string }; ip?: string };

const requestOf = (context: ExecutionContext) => context.switchToHttp().getRequest<RoutedRequest>();
const isAdminApi = (context: ExecutionContext) => requestOf(context).route?.path?.startsWith('/api/v1/') === true;
const isSdkMetrics = (context: ExecutionContext) => {
  const req = requestOf(context);
  return req.method === 'POST' && req.route?.path === '/sdk/v1/metrics';
};

/**
 * The rate limits (`@nestjs/throttler`, counted per instance): the admin API per API key, and
 * `POST /sdk/v1/metrics` per key and client address (browsers share a client key). Ruleset and
 * stream reads are never limited. Runs after the auth guard, so the key is known.
 */
export function rateLimitOptions(config: AppConfig): ThrottlerModuleOptions {
  const { admin, sdkMetrics, windowMs } = config.rateLimit;
  const throttlers: ThrottlerOptions[] = [];
  if (admin > 0) {
    throttlers.push({
      name: 'admin',
      limit: admin,
      ttl: windowMs,
      skipIf: (context) => !isAdminApi(context),
      getTracker: (req) => `key:${(req as RoutedRequest).apiKey?.id ?? (req as RoutedRequest).ip}`,
    });
  }
  if (sdkMetrics > 0) {
    throttlers.push({
      name: 'sdk-metrics',
      limit: sdkMetrics,
      ttl: windowMs,
      skipIf: (context) => !isSdkMetrics(context),
      getTracker: (req) => `key:${(req as RoutedRequest).apiKey?.id}:${(req as RoutedRequest).ip}`,
    });
  }
  return {
    throttlers,
    // One budget across all routes of a limit (the default would give each route its own).
    generateKey: (_context, tracker, name) => `${name}|${tracker}`,
    setHeaders: false,
  };
}

/** The throttler guard with a standard `Retry-After`, a message that says what the limit is, and a metric. */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    private readonly metrics: ServerMetrics,
  ) {
    super(options, storage, reflector);
  }

  protected override async throwThrottlingException(context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    const name = detail.key.slice(0, detail.key.indexOf('|'));
    this.metrics.rateLimited.inc({ limit: name });
    context.switchToHttp().getResponse<ServerResponse>().setHeader('Retry-After', String(Math.max(1, detail.timeToBlockExpire)));
    const who = name === 'admin' ? 'this API key' : 'this key from this address';
    throw new ThrottlerException(
      `Rate limit exceeded: at most ${detail.limit} requests per ${detail.ttl / 1000} s for ${who}; retry in ${Math.max(1, detail.timeToBlockExpire)} s`,
    );
  }
}
