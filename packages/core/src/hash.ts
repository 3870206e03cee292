/** Seed of the variant split, distinct from the rollout's 0 so the two pick independently. */
export const SPLIT_SEED = 86028157;

/**
 * MurmurHash3 x86 32-bit state after `salt + ":"`: [h, bytes of the unfinished block
 * (little-endian), how many, total length]. Made once per salt, so hashing a unit continues from
 * it without concatenating or encoding strings.
 */
export type HashPrefix = readonly [number, number, number, number];

const mix = (h: number, k: number): number => {
  k = Math.imul(k, 0xcc9e2d51);
  h ^= Math.imul((k << 15) | (k >>> 17), 0x1b873593);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
};

const finish = (h: number, tail: number, n: number, length: number): number => {
  if (n) {
    tail = Math.imul(tail, 0xcc9e2d51);
    h ^= Math.imul((tail << 15) | (tail >>> 17), 0x1b873593);
  }
  h ^= length;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
};

/** UTF-8 bytes of a string; lone surrogates become U+FFFD, as with TextEncoder. */
export function utf8(s: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >> 11 === 27) {
      // A surrogate: a valid pair is one code point, a lone one is U+FFFD.
      const d = s.charCodeAt(i + 1);
      if (c < 0xdc00 && d >> 10 === 55) {
        c = 0x10000 + ((c - 0xd800) << 10) + d - 0xdc00;
        i++;
      } else c = 0xfffd;
    }
    if (c < 128) out.push(c);
    else {
      const n = c < 0x800 ? 1 : c < 0x10000 ? 2 : 3;
      out.push(((0xff80 >> n) & 0xff) | (c >> (6 * n)));
      for (let k = n - 1; k >= 0; k--) out.push(128 | ((c >> (6 * k)) & 63));
    }
  }
  return out;
}

/** Continues the hash state `p` over `bytes`; answers the new state. */
function absorb(p: HashPrefix, bytes: readonly number[]): HashPrefix {
  let [h, tail, n] = p;
  for (const b of bytes) {
    tail |= b << (n << 3);
    if (++n === 4) {
      h = mix(h, tail);
      tail = n = 0;
    }
  }
  return [h, tail, n, p[3] + bytes.length];
}

export const hashPrefix = (salt: string, seed: number): HashPrefix => absorb([seed, 0, 0, 0], utf8(salt + ':'));

/**
 * `hash(salt + ":" + unit, seed)` of DESIGN §2: MurmurHash3 x86 32-bit over UTF-8 bytes,
 * unsigned. ASCII units (the common case) are read character by character with no allocation.
 */
export function hashUnit(p: HashPrefix, unit: string): number {
  let h = p[0];
  let tail = p[1];
  let n = p[2];
  const length = unit.length;
  for (let i = 0; i < length; i++) {
    const c = unit.charCodeAt(i);
    if (c > 127) {
      const q = absorb(p, utf8(unit));
      return finish(q[0], q[1], q[2], q[3]);
    }
    tail |= c << (n << 3);
    if (++n === 4) {
      h = mix(h, tail);
      tail = n = 0;
    }
  }
  return finish(h, tail, n, p[3] + length);
}

/** Bucket 0 ≤ b < 100000 of a rollout hash: `(h % 100) * 1000 + floor(h / 100) % 1000`. */
export const bucketOf = (h: number): number => (h % 100) * 1000 + (Math.floor(h / 100) % 1000);

/** The rollout bucket of `unit` under `salt` (DESIGN §2), `0 <= bucket < 100000`. */
let lastSalt: string | undefined;
let lastPrefix: HashPrefix = [0, 0, 0, 0];
export function bucket(salt: string, unit: string): number {
  // Callers usually bucket many units under one salt: keep its prefix.
  if (salt !== lastSalt) lastPrefix = hashPrefix(String((lastSalt = salt)), 0);
  return bucketOf(hashUnit(lastPrefix, String(unit)));
}
