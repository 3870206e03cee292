import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';

export const ROLES = ['viewer', 'editor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Who performs a write, as the audit log records it: a person (through a session) or an API
 *  key, or the server itself (first start, the rollout scheduler). */
export interface Actor {
  keyId: string | null;
  personId?: string | null;
  email?: string | null;
  /** The key's name or the person's display name. */
  name: string;
  via?: 'session' | 'key' | 'system';
  requestId?: string;
}

export const SYSTEM_ACTOR: Actor = { keyId: null, name: 'system', via: 'system' };

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

/** The signed-in person behind a request (session cookie), set by the auth guard. */
export interface AuthenticatedPerson {
  id: string;
  email: string;
  name: string;
  role: Role;
  /** null: every environment; else the only environments an editor may change (kill: all). */
  environments: readonly string[] | null;
  sessionId: string;
}

export interface AviaryRequest extends IncomingMessage {
  originalUrl?: string;
  requestId?: string;
  apiKey?: AuthenticatedKey;
  person?: AuthenticatedPerson;
}

export function actorOf(req: AviaryRequest): Actor {
  if (req.person) return { keyId: null, personId: req.person.id, email: req.person.email, name: req.person.name, via: 'session', requestId: req.requestId };
  if (req.apiKey) return { keyId: req.apiKey.id, name: req.apiKey.name, via: 'key', requestId: req.requestId };
  return { ...SYSTEM_ACTOR, requestId: req.requestId };
}

/** The request's actor: its person or its API key. */
export const CurrentActor = createParamDecorator((_: unknown, ctx: ExecutionContext): Actor => actorOf(ctx.switchToHttp().getRequest<AviaryRequest>()));
