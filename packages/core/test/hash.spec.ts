/**
 * Literal hashes and buckets, computed once with the murmurhash package
 * (`murmurhash.v3(new TextEncoder().encode(s), seed)`) and pasted here, so that neither the engine
 * nor the reference can drift without a test noticing.
 */
import murmurhash from 'murmurhash';
import { describe, expect, it } from 'vitest';
import { bucket } from '../src/index.js';
import { hash, referenceBucket, SPLIT_SEED } from './reference.js';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('MurmurHash3 x86 32-bit', () => {
  // Published test vectors of the canonical MurmurHash3_x86_32 (SMHasher), hex as usually quoted.
  it.each([
    ['', 0, 0x00000000],
    ['', 1, 0x514e28b7],
    ['', 0xffffffff, 0x81f16f39],
    ['\0\0\0\0', 0, 0x2362f9de],
    ['a', 0, 0x3c2569b2],
    ['ab', 0, 0x9bbfd75f],
    ['abc', 0, 0xb3dd93fa],
    ['abcd', 0, 0x43ed676a],
    ['abcde', 0, 0xe89b9af6],
    ['hello', 0, 0x248bfa47],
    ['hello', 1, 0xbb4abcad],
    ['aaaa', 0x9747b28c, 0x5a97808a],
    ['Hello, world!', 0x9747b28c, 0x24884cba],
    ['The quick brown fox jumps over the lazy dog', 0, 0x2e4ff723],
  ] as const)('murmurhash.v3(%j, %i) is canonical', (s, seed, expected) => {
    expect(murmurhash.v3(utf8(s), seed)).toBe(expected);
    expect(hash(s, seed)).toBe(expected);
  });

  // Multi-byte UTF-8 input: the hash is over the bytes, not the UTF-16 code units.
  it.each([
    ['é', 0, 269551495],
    ['中文', 0, 3676729751],
    ['🚀', 0, 2137479269],
    ['sél:é', 0, 3930497079],
    ['new-checkout:user-42', 0, 1499260774],
    ['new-checkout:user-42', 86028157, 3276796958],
    ['🎉:中文', 86028157, 1742093910],
    ['split:user-1', 86028157, 965196758],
    ['colors:user-1', 86028157, 1157080675],
  ] as const)('hash(%j, %i) = %i', (s, seed, expected) => {
    expect(hash(s, seed)).toBe(expected);
  });

  it('the split seed is 86028157', () => {
    expect(SPLIT_SEED).toBe(86028157);
  });
});

describe('bucket(salt, unit)', () => {
  // bucket = (h % 100) * 1000 + floor(h / 100) % 1000 with h = hash(salt + ":" + unit, 0)
  it.each([
    ['edge', 'user-17291', 0], // h = 1144900000
    ['edge', 'user-45362', 1], // h = 2289700100
    ['edge', 'user-71863', 99998], // h = 2956599899
    ['edge', 'user-52548', 99999], // h = 1149399999
    ['edge', 'user-3', 5482], // h = 602848205
    ['new-checkout', 'user-42', 74607], // h = 1499260774
    ['sél', 'é', 79970], // h = 3930497079
    ['中文', '🚀', 71167], // h = 3213116771
    ['🎉', '中文', 19825], // h = 2755682519
    ['numeric', '12345', 22897], // h = 1863389722
    ['tenant-rollout', 'acme', 43805], // h = 1294180543
    ['shared-canary', 'user-1', 32595], // h = 411159532
  ] as const)('bucket(%j, %j) = %i', (salt, unit, expected) => {
    expect(bucket(salt, unit)).toBe(expected);
    expect(referenceBucket(salt, unit)).toBe(expected);
  });
});
