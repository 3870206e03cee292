import { createHash, randomBytes } from 'node:crypto';

/** A random secret for a link or a session: 256 bits, URL-safe. Only its SHA-256 is stored. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export function sha256(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}
