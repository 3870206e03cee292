import { parse, serialize, type SerializeOptions } from 'cookie';
import type { IncomingMessage, ServerResponse } from 'node:http';

export const SESSION_COOKIE = 'aviary_session';
/** Readable by the dashboard's scripts, which echo it in `X-CSRF-Token` (double submit). */
export const CSRF_COOKIE = 'aviary_csrf';
export const CSRF_HEADER = 'X-CSRF-Token';
/** The state, nonce and PKCE verifier of a single sign-on in progress. */
export const OIDC_COOKIE = 'aviary_oidc';
export const OIDC_COOKIE_PATH = '/api/v1/auth/oidc';

export function readCookie(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header || header.length > 8192) return undefined;
  const value = parse(header)[name];
  return value === undefined || value === '' || value.length > 4096 ? undefined : value;
}

function append(res: ServerResponse, cookie: string): void {
  const existing = res.getHeader('Set-Cookie');
  res.setHeader('Set-Cookie', [...(Array.isArray(existing) ? existing : existing ? [String(existing)] : []), cookie]);
}

/** `Secure` when the server's public URL is https; `SameSite=Lax`, so cross-site writes carry no session. */
export function setCookie(res: ServerResponse, name: string, value: string, publicUrl: string, options: SerializeOptions): void {
  append(res, serialize(name, value, { path: '/', sameSite: 'lax', secure: publicUrl.startsWith('https:'), ...options }));
}

export function clearCookie(res: ServerResponse, name: string, publicUrl: string, options: SerializeOptions = {}): void {
  setCookie(res, name, '', publicUrl, { ...options, maxAge: 0 });
}

/** The session's two cookies: the HttpOnly token and the readable CSRF value. */
export function setSessionCookies(res: ServerResponse, session: { token: string; csrfToken: string; maxAgeMs: number }, publicUrl: string): void {
  const maxAge = Math.floor(session.maxAgeMs / 1000);
  setCookie(res, SESSION_COOKIE, session.token, publicUrl, { httpOnly: true, maxAge });
  setCookie(res, CSRF_COOKIE, session.csrfToken, publicUrl, { httpOnly: false, maxAge });
}

export function clearSessionCookies(res: ServerResponse, publicUrl: string): void {
  clearCookie(res, SESSION_COOKIE, publicUrl, { httpOnly: true });
  clearCookie(res, CSRF_COOKIE, publicUrl);
}
