import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';

/** Who performs a write, as the audit log records it. */
export interface Actor {
  keyId: string | null;
  name: string;
  requestId?: string;
}

export const SYSTEM_ACTOR: Actor = { keyId: null, name: 'system' };

/** The authenticated key behind a request, set by the auth guard. */
export interface AuthenticatedKey {
  id: string;
  name: string;
  kind: 'admin' | 'server' | 'client';
  readOnly: boolean;
  environmentId: string | null;
  /** A client key's own CORS origins; null: the server-wide ones. */
  allowedOrigins: readonly string[] | null;
}

export interface AviaryRequest extends IncomingMessage {
  originalUrl?: string;
  requestId?: string;
  apiKey?: AuthenticatedKey;
}

/** The request's actor: its API key's id and name. */
export const CurrentActor = createParamDecorator((_: unknown, ctx: ExecutionContext): Actor => {
  const req = ctx.switchToHttp().getRequest<AviaryRequest>();
  return req.apiKey
    ? { keyId: req.apiKey.id, name: req.apiKey.name, requestId: req.requestId }
    : { ...SYSTEM_ACTOR, requestId: req.requestId };
});
