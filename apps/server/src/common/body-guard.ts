import type { IncomingMessage } from 'node:http';
import { UnsupportedMediaTypeException } from '@nestjs/common';
import { joinPath } from './validation.js';
import { type FieldError, ValidationFailedException } from './validation-failed.exception.js';

/** JSON nesting deeper than this is refused before parsing goes further. */
export const MAX_JSON_DEPTH = 32;
/** Field errors one refused body reports at most (a 100,000-key list may be all wrong). */
const MAX_STRING_ERRORS = 10;

type Next = (err?: unknown) => void;
type BodyRequest = IncomingMessage & { body?: unknown };

const BODYLESS_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The media type and charset of a `Content-Type` header, lower-cased (`charset` unquoted). */
function contentTypeOf(req: IncomingMessage): { type: string; charset?: string } {
  const [type = '', ...params] = (req.headers['content-type'] ?? '').split(';');
  const charset = params.map((p) => /^\s*charset\s*=\s*"?([^"\s]*)"?\s*$/i.exec(p)?.[1]).find((c) => c !== undefined);
  return { type: type.trim().toLowerCase(), charset: charset?.toLowerCase() };
}

/** What the JSON parser reads: `application/json` in UTF-8 (RFC 8259 §8.1). Any other charset,
 *  which the parser would decode, would also hide a NUL or a nesting from the byte-level guard. */
export function isUtf8Json(req: IncomingMessage): boolean {
  const { type, charset } = contentTypeOf(req);
  return type === 'application/json' && (charset === undefined || charset === 'utf-8');
}

/** A body-parser `verify` hook: refuses absurd nesting with a 400 before the validators recurse
 *  into it. It sees UTF-8 only (`isUtf8Json`). */
export function guardJsonBody(_req: IncomingMessage, _res: unknown, buf: Buffer): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > MAX_JSON_DEPTH) throw badRequest(`The request body is nested deeper than ${MAX_JSON_DEPTH} levels`);
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
}

function badRequest(message: string): Error {
  return Object.assign(new Error(message), { status: 400, statusCode: 400, expose: true, type: 'aviary.body.refused' });
}

/**
 * Express middleware after the JSON parser: a body it did not parse (another content type or
 * charset) is refused with a 415 instead of reaching the validators as `{}`, where it would pass
 * as "change nothing" or, worse, as a write of defaults. An empty body is no body: a DELETE or a
 * kill without a reason keeps working whatever its headers say.
 */
export function refuseUnparsedBody(req: BodyRequest, _res: unknown, next: Next): void {
  if (req.body !== undefined || BODYLESS_METHODS.has(req.method ?? '')) return next();
  const length = req.headers['content-length'];
  if (length !== undefined) return next(Number(length) > 0 ? unsupportedBody(req) : undefined);
  if (req.headers['transfer-encoding'] === undefined) return next();
  // Chunked: only reading tells an empty body from one. What is left is drained by Node.
  let settled = false;
  const settle = (err?: unknown) => {
    if (settled) return;
    settled = true;
    req.off('data', onData).off('end', onEnd).off('error', settle);
    next(err);
  };
  const onData = (chunk: Buffer) => {
    if (chunk.length > 0) settle(unsupportedBody(req));
  };
  const onEnd = () => settle();
  req.on('data', onData).on('end', onEnd).on('error', settle);
}

function unsupportedBody(req: IncomingMessage): UnsupportedMediaTypeException {
  const { type, charset } = contentTypeOf(req);
  if (type === 'application/json' && charset !== undefined) {
    return new UnsupportedMediaTypeException(`Unsupported charset "${charset.toUpperCase()}": send UTF-8 JSON with Content-Type: application/json`);
  }
  return new UnsupportedMediaTypeException('The request body must be JSON: send it with Content-Type: application/json');
}

/**
 * Express middleware after the JSON parser: every string of the body (values and object keys, at
 * any depth) must be storable and valid Unicode. Postgres cannot store the NUL character, and a
 * lone surrogate (`"\ud800"`) is not a character at all: text columns would turn it into U+FFFD
 * silently, and jsonb refuses it with an error. Refused with a 400 naming the field path.
 */
export function guardBodyStrings(req: BodyRequest, _res: unknown, next: Next): void {
  if (req.body === undefined || req.body === null || typeof req.body !== 'object') return next();
  const errors: FieldError[] = [];
  collectStringErrors(req.body, '', errors);
  next(errors.length > 0 ? new ValidationFailedException(errors) : undefined);
}

function collectStringErrors(value: unknown, path: string, errors: FieldError[]): void {
  if (errors.length >= MAX_STRING_ERRORS) return;
  if (typeof value === 'string') {
    const problem = stringProblem(value);
    if (problem) errors.push({ path: path || '(body)', message: `must not contain ${problem}` });
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  if (Array.isArray(value)) {
    // A string item is checked here: its path is made only when it is wrong (a member list holds
    // 100,000 keys, and a path string per key was most of what this guard allocated).
    for (let i = 0; i < value.length && errors.length < MAX_STRING_ERRORS; i++) {
      const item: unknown = value[i];
      if (typeof item !== 'string' || UNSTORABLE.test(item)) collectStringErrors(item, joinPath(path, i), errors);
    }
    return;
  }
  for (const [key, item] of Object.entries(value)) {
    const problem = stringProblem(key);
    if (problem) {
      errors.push({ path: path || '(body)', message: `must not have a key containing ${problem}` });
      if (errors.length >= MAX_STRING_ERRORS) return;
      continue;
    }
    collectStringErrors(item, joinPath(path, key), errors);
  }
}

// A NUL, a high surrogate not followed by a low one, or a low one not preceded by a high one.
const UNSTORABLE = /\0|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function stringProblem(text: string): string | undefined {
  const found = UNSTORABLE.exec(text)?.[0];
  if (found === undefined) return undefined;
  if (found === '\0') return 'the NUL character (\\u0000): Postgres cannot store it';
  return `a lone surrogate (\\u${found.charCodeAt(0).toString(16)}): strings must be valid Unicode`;
}

/** Express middleware: refuses URLs carrying an encoded NUL (`%00`), which Postgres cannot store
 *  or compare, with a 400. */
export function guardUrl(req: IncomingMessage, _res: unknown, next: Next): void {
  if (req.url && /%00/.test(req.url)) next(badRequest('The URL must not contain the NUL character (%00)'));
  else next();
}
