/** Parsers for the typed operators; each answers undefined for input it does not accept. */

/** A number from a number or a non-blank numeric string. */
export const toNumber = (v: unknown): number | undefined => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() ? +v : NaN;
  return n === n ? n : undefined;
};

const ISO = /^(\d{4})-(\d\d)-(\d\d)(?:T(\d\d):(\d\d)(?::(\d\d)(?:\.(\d+))?)?)?(?:(Z)|([+-])(\d\d):?(\d\d))?$/;

/**
 * Epoch milliseconds from a number, a string of digits, or an ISO-8601 string (`YYYY-MM-DD`,
 * optionally `THH:mm[:ss[.fraction]]`, then `Z` or `±HH:mm`; no offset means UTC).
 */
export function toInstant(v: unknown): number | undefined {
  if (typeof v === 'number') return isFinite(v) ? v : undefined;
  if (typeof v !== 'string') return undefined;
  if (/^-?\d+$/.test(v)) return +v;
  const m = ISO.exec(v);
  if (!m || (!m[4] && (m[8] || m[9]))) return undefined;
  const [year, month, day, hour, minute, second, oh, om] = [1, 2, 3, 4, 5, 6, 10, 11].map((i) => +(m[i] ?? 0)) as number[] as [number, number, number, number, number, number, number, number];
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59 || oh > 23 || om > 59) return undefined;
  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not read years below 100 as 19xx.
  date.setUTCFullYear(year, month - 1, day);
  if (date.getUTCDate() !== day) return undefined;
  date.setUTCHours(hour, minute, second, Math.floor(+('0.' + (m[7] ?? 0)) * 1000));
  return date.getTime() - (m[9] === '-' ? -1 : 1) * (oh * 60 + om) * 60000;
}

/** A strict SemVer 2.0 version: [major, minor, patch, ...pre-release identifiers]; build metadata dropped. */
export type SemVer = string[];

const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*)?$/;

export const toSemver = (v: unknown): SemVer | undefined => {
  const m = typeof v === 'string' ? SEMVER.exec(v) : null;
  return m ? [m[1]!, m[2]!, m[3]!, ...(m[4] ? m[4].split('.') : [])] : undefined;
};

const isDigits = (s: string) => /^\d+$/.test(s);
/** Digit strings without leading zeros compare by value at any length: SemVer sets no size limit. */
const compareDigits = (a: string, b: string) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);

/** Precedence per semver.org §11: negative, zero or positive. */
export function compareSemver(a: SemVer, b: SemVer): number {
  for (let i = 0; i < 3; i++) {
    const o = compareDigits(a[i]!, b[i]!);
    if (o) return o;
  }
  // A version without pre-release ranks above one with it.
  if (a.length === 3 || b.length === 3) return b.length - a.length;
  for (let i = 3; i < Math.min(a.length, b.length); i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x === y) continue;
    const dx = isDigits(x);
    const dy = isDigits(y);
    if (dx && dy) return compareDigits(x, y);
    return dx !== dy ? (dx ? -1 : 1) : x < y ? -1 : 1;
  }
  return a.length - b.length;
}

/** An address as eight 16-bit groups; IPv4 a.b.c.d is ::ffff:a.b.c.d. */
export type Address = number[];

function ipv4(s: string): number[] | undefined {
  const parts = s.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && +p < 256)) return undefined;
  const [a, b, c, d] = parts.map(Number) as [number, number, number, number];
  return [(a << 8) | b, (c << 8) | d];
}

export function toAddress(s: string): Address | undefined {
  if (!s.includes(':')) {
    const v4 = ipv4(s);
    return v4 && [0, 0, 0, 0, 0, 0xffff, ...v4];
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groups = halves.map((h) => (h ? h.split(':') : []));
  const last = groups[groups.length - 1]!;
  // An embedded IPv4 tail (::ffff:1.2.3.4) is two groups.
  if (last.length && last[last.length - 1]!.includes('.')) {
    const v4 = ipv4(last.pop()!);
    if (!v4) return undefined;
    last.push(...v4.map((g) => g.toString(16)));
  }
  const [head, tail] = groups as [string[], string[] | undefined];
  const fill = tail ? 8 - head.length - tail.length : 0;
  if (fill < (tail ? 1 : 0)) return undefined;
  const all = tail ? [...head, ...Array<string>(fill).fill('0'), ...tail] : head;
  return all.length === 8 && all.every((g) => /^[0-9a-f]{1,4}$/i.test(g)) ? all.map((g) => parseInt(g, 16)) : undefined;
}

/** `address/prefix` or a bare address (a one-host block), as [address, prefix bits of 128]. */
export function toCidr(s: string): [Address, number] | undefined {
  const [text, bits, extra] = s.split('/') as [string, string | undefined, string | undefined];
  const address = toAddress(text);
  const v4 = !text.includes(':');
  const max = v4 ? 32 : 128;
  if (!address || extra !== undefined || (bits !== undefined && !(/^(0|[1-9]\d{0,2})$/.test(bits) && +bits <= max))) return undefined;
  return [address, (bits === undefined ? max : +bits) + (v4 ? 96 : 0)];
}

export function inCidr(a: Address, [block, prefix]: [Address, number]): boolean {
  for (let i = 0; i < 8 && prefix > 16 * i; i++) {
    const bits = Math.min(16, prefix - 16 * i);
    if ((a[i]! ^ block[i]!) & (0xffff << (16 - bits)) & 0xffff) return false;
  }
  return true;
}
