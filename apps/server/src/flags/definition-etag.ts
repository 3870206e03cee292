import { createHash } from 'node:crypto';
import { BadRequestException, type CallHandler, type ExecutionContext, Injectable, type NestInterceptor, PreconditionFailedException } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { map, type Observable } from 'rxjs';
import type { FlagView } from './dto/flag.dto.js';

type Definition = Pick<FlagView, 'name' | 'description' | 'tags' | 'variants' | 'clientVisible'>;

/** A definition's ETag is a hash of what PATCH can change: it moves exactly when the definition does
 *  (a definition has no version number; its config has one per environment). */
export function definitionETag(flag: Definition): string {
  const content = JSON.stringify([flag.name, flag.description, flag.tags, flag.variants, flag.clientVisible]);
  return `"${createHash('sha256').update(content).digest('base64url').slice(0, 22)}"`;
}

/** Parses `If-Match` for a definition: one ETag as GET answered it, or `*` / absent (unconditional). */
export function parseDefinitionIfMatch(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const value = (Array.isArray(header) ? header.join(',') : header).trim().replace(/^W\//, '');
  if (value === '' || value === '*') return undefined;
  if (!/^"[A-Za-z0-9_-]{1,64}"$/.test(value)) throw new BadRequestException('If-Match must be the ETag of GET /api/v1/flags/:key, such as "3q2-7w"');
  return value;
}

/** 412 when the caller edited a definition that has changed since. */
export function assertDefinitionETag(expected: string | undefined, current: Definition): void {
  if (expected !== undefined && expected !== definitionETag(current)) {
    throw new PreconditionFailedException("The flag's definition changed since you read it: reload it and retry");
  }
}

/** Sets `ETag` on the answers that carry a definition, for `If-Match` on PATCH. */
@Injectable()
export class DefinitionETagInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const res = context.switchToHttp().getResponse<ServerResponse>();
    return next.handle().pipe(
      map((body: unknown) => {
        const flag = body as Partial<Definition> | undefined;
        if (flag && typeof flag.name === 'string' && Array.isArray(flag.variants)) res.setHeader('ETag', definitionETag(flag as Definition));
        return body;
      }),
    );
  }
}
