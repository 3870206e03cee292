import type { IncomingMessage } from 'node:http';

/** JSON nesting deeper than this is refused before parsing goes further. */
export const MAX_JSON_DEPTH = 32;

/** A body-parser `verify` hook: refuses bodies that Postgres or the validators cannot take
 *  safely (the escaped NUL character, absurd nesting) with a 400 instead of a 500 later. */
export function guardJsonBody(_req: IncomingMessage, _res: unknown, buf: Buffer): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (inString) {
      if (c === 0x5c /* \ */) {
        // `\u0000` (any case of the hex digits is just digits here) cannot be stored in text or jsonb.
        if (buf[i + 1] === 0x75 && buf[i + 2] === 0x30 && buf[i + 3] === 0x30 && buf[i + 4] === 0x30 && buf[i + 5] === 0x30) {
          throw badRequest('Strings must not contain the NUL character (\\u0000)');
        }
        i++;
      } else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > MAX_JSON_DEPTH) throw badRequest(`The request body is nested deeper than ${MAX_JSON_DEPTH} levels`);
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
}

function badRequest(message: string): Error {
  return Object.assign(new Error(message), { status: 400, statusCode: 400, expose: true, type: 'aviary.body.refused' });
}

/** Express middleware: refuses URLs carrying an encoded NUL (`%00`), which Postgres cannot store
 *  or compare, with a 400. */
export function guardUrl(req: IncomingMessage, _res: unknown, next: (err?: unknown) => void): void {
  if (req.url && /%00/.test(req.url)) next(badRequest('The URL must not contain the NUL character (%00)'));
  else next();
}
