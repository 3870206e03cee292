/**
 * Sets of code points as sorted, disjoint, non-adjacent ranges `[lo0, hi0, lo1, hi1, ...]`, and
 * case folding over them.
 */

export const MAX_CODE_POINT = 0x10ffff;

/** Sorts and merges overlapping or adjacent ranges. */
export function normalize(r: readonly number[]): number[] {
  const pairs: Array<[number, number]> = [];
  for (let k = 0; k < r.length; k += 2) pairs.push([r[k]!, r[k + 1]!]);
  pairs.sort((x, y) => x[0] - y[0]);
  const out: number[] = [];
  for (const [lo, hi] of pairs) {
    const n = out.length;
    if (n && lo <= out[n - 1]! + 1) out[n - 1] = Math.max(out[n - 1]!, hi);
    else out.push(lo, hi);
  }
  return out;
}

/** The complement of normalized ranges, within 0..U+10FFFF. */
export function negate(r: readonly number[]): number[] {
  const out: number[] = [];
  let next = 0;
  for (let k = 0; k < r.length; k += 2) {
    if (r[k]! > next) out.push(next, r[k]! - 1);
    next = r[k + 1]! + 1;
  }
  if (next <= MAX_CODE_POINT) out.push(next, MAX_CODE_POINT);
  return out;
}

/** Whether normalized ranges hold `c` (binary search). */
export function has(r: ArrayLike<number>, c: number): boolean {
  let lo = 0;
  let hi = r.length >> 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (r[2 * mid + 1]! < c) lo = mid + 1;
    else hi = mid;
  }
  return 2 * lo < r.length && r[2 * lo]! <= c;
}

/** The scripts with case (Latin … Adlam): only there can a code point's case form differ. */
const CASED = [
  0x41, 0x24f, 0x345, 0x587, 0x10a0, 0x10ff, 0x13a0, 0x13ff, 0x1c80, 0x1cbf, 0x1e00, 0x1fff, 0x2100, 0x2183, 0x24b6, 0x24cf, 0x2c00, 0x2cff,
  0xa640, 0xa7ff, 0xff21, 0xff3a, 0x10400, 0x104ff, 0x10570, 0x105bf, 0x10c80, 0x10cff, 0x10d50, 0x10d6f, 0x118a0, 0x118bf, 0x16e40, 0x16ebf,
  0x1e900, 0x1e92f,
];

/** The code points whose simple case fold differs from themselves, and their folds; built once, on first use. */
let folds: [number[], number[]] | undefined;

/** `c.toUpperCase().toLowerCase()` where both are one code point: Σ, σ and ς fold to σ; K, k and the Kelvin sign to k. */
function foldTable(): [number[], number[]] {
  if (folds) return folds;
  const from: number[] = [];
  const to: number[] = [];
  for (let k = 0; k < CASED.length; k += 2) {
    for (let c = CASED[k]!; c <= CASED[k + 1]!; c++) {
      const upper = String.fromCodePoint(c).toUpperCase();
      const f = upper.toLowerCase().codePointAt(0)!;
      if (f !== c && [...upper].length === 1 && String.fromCodePoint(f) === upper.toLowerCase()) {
        from.push(c);
        to.push(f);
      }
    }
  }
  return (folds = [from, to]);
}

/** Closes ranges under case folding: every code point whose fold is the fold of a member joins. */
export function foldCase(r: readonly number[]): number[] {
  const [from, to] = foldTable();
  const withFolds = [...r];
  from.forEach((c, k) => has(r, c) && withFolds.push(to[k]!, to[k]!));
  const folded = normalize(withFolds);
  const out = [...folded];
  to.forEach((f, k) => has(folded, f) && out.push(from[k]!, from[k]!));
  return normalize(out);
}
