import { createHash, randomBytes } from 'node:crypto';

/** How secrets (keys, session tokens, one-time links) are stored: their SHA-256 only. They are
 *  256 random bits, so a fast hash suffices; passwords, which people choose, use scrypt. */
export function sha256(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** 256 random bits, URL-safe. */
export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}
