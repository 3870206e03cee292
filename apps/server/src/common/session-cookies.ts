import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseCookie, stringifySetCookie } from 'cookie';

/** HttpOnly: scripts never see the session token. */
export const SESSION_COOKIE = 'aviary_session';
/** Readable by the page, which echoes it in the CSRF header on writes (double submit). */
export const CSRF_COOKIE = 'aviary_csrf';
export const CSRF_HEADER = 'X-CSRF-Token';

export function readCookie(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header || header.length > 8192) return undefined;
  return parseCookie(header)[name] || undefined;
}

/** Both cookies, `SameSite=Lax`, `Secure` when the public URL is https, ending with the session. */
export function setSessionCookies(res: ServerResponse, session: { token: string; csrf: string; expiresAt: Date }, secure: boolean): void {
  const common = { path: '/', sameSite: 'lax', secure, expires: session.expiresAt } as const;
  res.setHeader('Set-Cookie', [
    stringifySetCookie({ name: SESSION_COOKIE, value: session.token, httpOnly: true, ...common }),
    stringifySetCookie({ name: CSRF_COOKIE, value: session.csrf, httpOnly: false, ...common }),
  ]);
}

export function clearSessionCookies(res: ServerResponse, secure: boolean): void {
  const gone = { value: '', path: '/', sameSite: 'lax', secure, expires: new Date(0) } as const;
  res.setHeader('Set-Cookie', [stringifySetCookie({ name: SESSION_COOKIE, httpOnly: true, ...gone }), stringifySetCookie({ name: CSRF_COOKIE, ...gone })]);
}
