import { STATUS_CODES } from 'node:http';
import { randomUUID } from 'node:crypto';
import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { pgCode, PG_UNIQUE_VIOLATION } from '../database/sql.js';
import { databaseTimeout, isDatabaseUnavailable } from '../observability/database-errors.js';
import { loggableUrl } from '../observability/logger.js';
import { ofrepErrorBody } from '../ofrep/ofrep-errors.js';
import type { AviaryRequest } from './actor.js';

/** The one error body: `{ statusCode, error, message, requestId }` (+ `errors` for field
 *  problems). Internals never reach the client; anything unexpected is a logged 500. */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<AviaryRequest>();
    const res = http.getResponse<ServerResponse>();
    const requestId = req.requestId ?? randomUUID();
    const { statusCode, message, errors, retryAfter } = this.describe(exception);
    const unavailable = statusCode === 503 && (isDatabaseUnavailable(exception) || databaseTimeout(exception) !== undefined);
    // A deliberate 503 (not ready, draining, database down) is in the access log, not worth a stack.
    if (statusCode >= 500 && statusCode !== 503) {
      this.logger.error(`${req.method} ${loggableUrl(req.originalUrl ?? req.url ?? '')} ${requestId}: ${(exception as Error)?.stack ?? String(exception)}`);
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    const body = ofrepErrorBody(req.originalUrl ?? req.url ?? '', statusCode, message) ?? {
      statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message, requestId, ...(errors ? { errors } : {}),
    };
    res.statusCode = statusCode;
    res.setHeader('X-Request-Id', requestId);
    // Counted and logged (rate-limited) where the database error happens.
    if (unavailable) res.setHeader('Retry-After', '5');
    else if (retryAfter !== undefined) res.setHeader('Retry-After', String(retryAfter));
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.end(JSON.stringify(body));
  }

  private describe(exception: unknown): { statusCode: number; message: string; errors?: unknown; retryAfter?: number } {
    if (exception instanceof HttpException) {
      const statusCode = exception.getStatus();
      const body = exception.getResponse();
      if (typeof body === 'string') return { statusCode, message: body };
      // `retryAfter` (seconds) becomes the Retry-After header of a 429 or 503.
      const { message, errors, retryAfter } = body as { message?: unknown; errors?: unknown; retryAfter?: unknown };
      return {
        statusCode,
        message: Array.isArray(message) ? message.join('; ') : String(message ?? exception.message),
        errors,
        retryAfter: typeof retryAfter === 'number' ? retryAfter : undefined,
      };
    }
    // Errors of the body parser and the router (http-errors): client mistakes with a 4xx status.
    const httpError = exception as { status?: unknown; statusCode?: unknown; type?: unknown; expose?: unknown; message?: unknown };
    const status = Number(httpError?.status ?? httpError?.statusCode);
    if (Number.isInteger(status) && status >= 400 && status < 500) {
      return { statusCode: status, message: bodyParserMessage(httpError.type, status, httpError.message) };
    }
    if (pgCode(exception) === PG_UNIQUE_VIOLATION) {
      return { statusCode: 409, message: 'A resource with this key already exists' };
    }
    const timeout = databaseTimeout(exception);
    if (timeout !== undefined && timeout !== 'connect') {
      return { statusCode: 503, message: `The database did not answer in time (${timeout} timeout), so this request could not be completed; retry in a few seconds` };
    }
    if (isDatabaseUnavailable(exception)) {
      return { statusCode: 503, message: 'The database is unreachable, so this request could not be completed; retry in a few seconds' };
    }
    return { statusCode: 500, message: 'Internal server error' };
  }
}

function bodyParserMessage(type: unknown, status: number, message: unknown): string {
  switch (type) {
    case 'entity.parse.failed':
      return 'The request body is not valid JSON';
    case 'entity.too.large':
      return 'The request body is too large';
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return String(message);
    case 'request.aborted':
      return 'The request was aborted';
    default:
      return status === 400 && typeof message === 'string' && message.length < 200 ? message : STATUS_CODES[status] ?? 'Bad request';
  }
}
