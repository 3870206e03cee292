/** A strict SemVer 2.0 version; build metadata is dropped since it does not affect precedence. */
export interface SemVer {
  /** Major, minor, patch as digit strings: SemVer sets no size limit, so they compare as text. */
  readonly core: readonly [string, string, string];
  readonly pre: readonly Identifier[];
}

/** A pre-release identifier; `numeric` ones compare by value. */
interface Identifier {
  readonly text: string;
  readonly numeric: boolean;
}

const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

export function parseSemver(input: string): SemVer | undefined {
  const m = SEMVER.exec(input);
  if (m === null) return undefined;
  const pre = m[4] === undefined ? [] : m[4].split('.').map((text) => ({ text, numeric: /^\d+$/.test(text) }));
  return { core: [m[1]!, m[2]!, m[3]!], pre };
}

/** Compares digit strings without leading zeros by value, at any length. */
function compareDigits(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Precedence per semver.org §11: negative, zero or positive. */
export function compareSemver(a: SemVer, b: SemVer): number {
  for (let i = 0; i < 3; i++) {
    const order = compareDigits(a.core[i]!, b.core[i]!);
    if (order !== 0) return order;
  }
  if (a.pre.length === 0 || b.pre.length === 0) return b.pre.length - a.pre.length;
  for (let i = 0; i < Math.min(a.pre.length, b.pre.length); i++) {
    const x = a.pre[i]!;
    const y = b.pre[i]!;
    if (x.text === y.text) continue;
    if (x.numeric && y.numeric) return compareDigits(x.text, y.text);
    if (x.numeric !== y.numeric) return x.numeric ? -1 : 1;
    return x.text < y.text ? -1 : 1;
  }
  return a.pre.length - b.pre.length;
}
