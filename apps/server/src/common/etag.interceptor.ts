import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { map, type Observable } from 'rxjs';

/** Sets `ETag: "<version>"` from a response that carries a config `version`, for `If-Match`. */
@Injectable()
export class VersionETagInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const res = context.switchToHttp().getResponse<ServerResponse>();
    return next.handle().pipe(
      map((body: unknown) => {
        const version = (body as { version?: unknown } | undefined)?.version;
        if (typeof version === 'number') res.setHeader('ETag', `"${version}"`);
        return body;
      }),
    );
  }
}
