import murmurhash from 'murmurhash';

/** Seed of the variant split, distinct from the rollout's 0 so the two pick independently. */
export const SPLIT_SEED = 86028157;

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/**
 * MurmurHash3 x86 32-bit state after `salt + ":"`, computed once per salt and seed, so that
 * hashing a unit continues from it without concatenating or encoding strings.
 */
export interface HashPrefix {
  readonly salt: string;
  readonly seed: number;
  readonly h: number;
  /** Bytes of the unfinished block, little-endian. */
  readonly tail: number;
  readonly tailLength: number;
  readonly length: number;
}

function mixBlock(h: number, k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, C2);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function finish(h: number, tail: number, tailLength: number, length: number): number {
  if (tailLength > 0) {
    let k = Math.imul(tail, C1);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, C2);
  }
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** UTF-8 bytes of a string; lone surrogates become U+FFFD like TextEncoder. */
export function utf8(s: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
      } else {
        c = 0xfffd;
      }
    }
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return out;
}

export function hashPrefix(salt: string, seed: number): HashPrefix {
  const bytes = utf8(salt + ':');
  let h = seed | 0;
  let tail = 0;
  let tailLength = 0;
  for (const b of bytes) {
    tail |= b << (tailLength << 3);
    if (++tailLength === 4) {
      h = mixBlock(h, tail);
      tail = 0;
      tailLength = 0;
    }
  }
  return { salt, seed, h, tail, tailLength, length: bytes.length };
}

/** Grows on demand; only units with non-ASCII characters pass through it. */
let scratch = new Uint8Array(256);

function hashNonAscii(prefix: HashPrefix, unit: string): number {
  const bytes = utf8(prefix.salt + ':' + unit);
  if (bytes.length > scratch.length) scratch = new Uint8Array(bytes.length * 2);
  scratch.set(bytes);
  return murmurhash.v3(scratch.subarray(0, bytes.length), prefix.seed);
}

/**
 * `hash(salt + ":" + unit, seed)` of DESIGN §2: MurmurHash3 x86 32-bit over UTF-8 bytes, unsigned.
 * ASCII units (the common case) are read character by character with no allocation; anything
 * else goes through its UTF-8 bytes and the `murmurhash` package.
 */
export function hashUnit(prefix: HashPrefix, unit: string): number {
  let h = prefix.h;
  let tail = prefix.tail;
  let n = prefix.tailLength;
  const length = unit.length;
  for (let i = 0; i < length; i++) {
    const c = unit.charCodeAt(i);
    if (c > 0x7f) return hashNonAscii(prefix, unit);
    tail |= c << (n << 3);
    if (++n === 4) {
      h = mixBlock(h, tail);
      tail = 0;
      n = 0;
    }
  }
  return finish(h, tail, n, prefix.length + length);
}

/** Bucket 0 ≤ b < 100000 from a rollout hash: `(h % 100) * 1000 + floor(h / 100) % 1000`. */
export function bucketOf(h: number): number {
  return (h % 100) * 1000 + (Math.floor(h / 100) % 1000);
}

const prefixes = new Map<string, HashPrefix>();

/** The rollout bucket of `unit` under `salt` (DESIGN §2), `0 <= bucket < 100000`. */
export function bucket(salt: string, unit: string): number {
  let prefix = prefixes.get(salt);
  if (prefix === undefined) {
    if (prefixes.size > 1000) prefixes.clear();
    prefix = hashPrefix(String(salt), 0);
    prefixes.set(salt, prefix);
  }
  return bucketOf(hashUnit(prefix, String(unit)));
}
