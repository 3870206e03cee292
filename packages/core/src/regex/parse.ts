/**
 * The parser of the `matches` dialect: RE2 syntax, accepted and refused exactly as RE2 (Go's
 * regexp/syntax, re2js) does, except Unicode classes (`\pL`, `\p{Greek}`), which are refused.
 * Captures, names, greediness and `(?U)` are checked and then forgotten: a condition only asks
 * whether the pattern occurs. See docs/evaluation.md ("The `matches` dialect").
 * Kept small, because it ships in the browser SDK: kinds and problems are numbers.
 */
import { MAX_CODE_POINT, foldCase, negate, normalize } from './ranges.js';

// Node kinds.
export const SET = 0;
export const ASSERT = 1;
export const CAT = 2;
export const ALT = 3;
export const REP = 4;

// Zero-width assertions.
export const BEGIN_TEXT = 0;
export const END_TEXT = 1;
export const BEGIN_LINE = 2;
export const END_LINE = 3;
export const WORD_BOUNDARY = 4;
export const NOT_WORD_BOUNDARY = 5;

export type Node =
  /** One code point out of the normalized ranges `r`. */
  | { k: typeof SET; r: number[] }
  | { k: typeof ASSERT; a: number }
  | { k: typeof CAT; xs: Node[] }
  | { k: typeof ALT; xs: Node[] }
  /** `x{min,max}` (`max` -1: no limit); `n` for the brace form, which RE2 limits. */
  | { k: typeof REP; x: Node; min: number; max: number; n: boolean };

// Why a pattern is refused (PatternError.problem); validate.ts words them.
export const BACK_REFERENCE = 0;
export const LOOKAROUND = 1;
export const UNICODE_CLASS = 2;
export const BAD_ESCAPE = 3;
export const TRAILING_BACKSLASH = 4;
export const MISSING_PAREN = 5;
export const UNEXPECTED_PAREN = 6;
export const MISSING_BRACKET = 7;
export const BAD_GROUP = 8;
export const BAD_GROUP_NAME = 9;
export const DUPLICATE_GROUP_NAME = 10;
export const MISSING_REPEAT_ARGUMENT = 11;
export const NESTED_REPEAT = 12;
export const BAD_REPEAT_COUNT = 13;
export const BAD_CLASS_RANGE = 14;
export const BAD_POSIX_CLASS = 15;
export const TOO_LARGE = 16;

export class PatternError extends Error {
  constructor(
    readonly problem: number,
    /** The part of the pattern at fault. */
    readonly fragment: string,
  ) {
    super(fragment);
  }
}

/** RE2's limit of a repetition count, and of the counts of nested repetitions multiplied. */
const MAX_REPEAT = 1000;
const FOLD = 1;
const MULTI_LINE = 2;
const DOT_NL = 4;

/** Named classes, written as class contents (parsed on first use). */
const WORD = '0-9A-Za-z_';
const PERL: Record<string, string> = { d: '0-9', s: '\\t\\n\\f\\r ', w: WORD };
const POSIX: Record<string, string> = {
  alnum: '0-9A-Za-z', alpha: 'A-Za-z', ascii: '\\x00-\\x7f', blank: '\\t ', cntrl: '\\x00-\\x1f\\x7f', digit: '0-9', graph: '!-~', lower: 'a-z',
  print: ' -~', punct: '!-/:-@[-`{-~', space: '\\t-\\r ', upper: 'A-Z', word: WORD, xdigit: '0-9A-Fa-f',
};

const isOctal = (c: string | undefined) => !!c && c >= '0' && c <= '7';

/** Whether nested counted repetitions stay within `n` copies of what they repeat (Go's repeatIsValid). */
function withinRepeatLimit(node: Node, n: number): boolean {
  if (node.k === REP && node.n) {
    const m = node.max < 0 ? node.min : node.max;
    if (!node.max) return true;
    if (m > n) return false;
    if (m) n = Math.floor(n / m);
  }
  return (node.k === REP ? [node.x] : node.k > ASSERT ? (node as { xs: Node[] }).xs : []).every((x) => withinRepeatLimit(x, n));
}

/** Parses `src`; throws a PatternError for what RE2 (or this subset) refuses. */
export function parse(src: string, caseInsensitive: boolean): Node {
  let i = 0;
  let flags = caseInsensitive ? FOLD : 0;
  const names = new Set<string>();
  const fail = (problem: number, from: number, to = i): never => {
    throw new PatternError(problem, src.slice(from, to));
  };
  const set = (r: number[], fold = flags & FOLD): Node => ({ k: SET, r: fold ? foldCase(r) : r });
  const literal = (c: number) => set([c, c]);
  /** A Perl (`\d`) or POSIX (`[:alpha:]`) group: folded, then negated (RE2's order). */
  const group = (members: string, negated: boolean): number[] => {
    const r = (parse(`[${members}]`, !!(flags & FOLD)) as { r: number[] }).r;
    return negated ? negate(r) : r;
  };
  const char = (): number => {
    const c = src.codePointAt(i)!;
    i += c > 0xffff ? 2 : 1;
    return c;
  };

  /** After a backslash at `start`: the code point of an escape that stands for one. */
  function escape(start: number): number {
    const c = src[i];
    if (!c) fail(TRAILING_BACKSLASH, start);
    if (isOctal(c) && (c === '0' || isOctal(src[i + 1]))) {
      let v = 0;
      for (let n = 0; n < 3 && isOctal(src[i]); n++) v = v * 8 + +src[i++]!;
      return v;
    }
    i++;
    if (/[1-9k]/.test(c!)) fail(BACK_REFERENCE, start);
    if (c === 'p' || c === 'P') unicodeClass(start);
    if (c === 'x') {
      const m = /^(?:\{([0-9A-Fa-f]+)\}|([0-9A-Fa-f]{2}))/.exec(src.slice(i));
      const v = m ? parseInt(m[1] ?? m[2]!, 16) : NaN;
      if (!(v <= MAX_CODE_POINT)) fail(BAD_ESCAPE, start, i + 1);
      i += m![0].length;
      return v;
    }
    const simple = 'afnrtv'.indexOf(c!);
    if (simple >= 0) return [7, 12, 10, 13, 9, 11][simple]!;
    // Other ASCII punctuation (and space) stands for itself; letters, digits and the rest are errors.
    return c! < '\x80' && !/[0-9A-Za-z]/.test(c!) ? c!.charCodeAt(0) : fail(BAD_ESCAPE, start);
  }

  /** `\pL`, `\p{Greek}`: RE2 has them, this subset does not (their tables would outweigh the engine). */
  function unicodeClass(start: number): never {
    const close = src[start + 2] === '{' ? src.indexOf('}', start) : -1;
    return fail(UNICODE_CLASS, start, close < 0 ? start + 3 : close + 1);
  }

  function parseClass(): Node {
    const start = i++;
    const negated = src[i] === '^';
    if (negated) i++;
    const plain: number[] = [];
    const groups: number[] = [];
    const classChar = (): number => {
      if (i >= src.length) fail(MISSING_BRACKET, start);
      return src[i] === '\\' ? (i++, escape(i - 1)) : char();
    };
    for (let first = true; first || src[i] !== ']'; first = false) {
      if (i >= src.length) fail(MISSING_BRACKET, start);
      const end = src.startsWith('[:', i) ? src.indexOf(':]', i + 2) : -1;
      if (end >= 0) {
        const name = src.slice(i + 2, end);
        const key = name.replace(/^\^/, '');
        if (!Object.hasOwn(POSIX, key)) fail(BAD_POSIX_CLASS, i, end + 2);
        groups.push(...group(POSIX[key]!, name !== key));
        i = end + 2;
        continue;
      }
      const perl = src[i] === '\\' ? src[i + 1] : '';
      if (perl === 'p' || perl === 'P') unicodeClass(i);
      if (perl && Object.hasOwn(PERL, perl.toLowerCase())) {
        groups.push(...group(PERL[perl.toLowerCase()]!, perl < 'a'));
        i += 2;
        continue;
      }
      const from = i;
      const lo = classChar();
      let hi = lo;
      if (src[i] === '-' && src[i + 1] && src[i + 1] !== ']') {
        i++;
        hi = classChar();
        if (hi < lo) fail(BAD_CLASS_RANGE, from);
      }
      plain.push(lo, hi);
    }
    i++;
    const members = normalize([...(flags & FOLD ? foldCase(normalize(plain)) : plain), ...groups]);
    return set(negated ? negate(members) : members, 0);
  }

  /** `(` at i: a group's content, a flag change (undefined), or an error. */
  function parseGroup(): Node | undefined {
    const start = i++;
    let next = flags;
    if (src[i] === '?') {
      const rest = src.slice(++i);
      const named = /^P?<([^>]*)(>?)/.exec(rest);
      if (/^(=|!|<=|<!)/.test(rest)) fail(LOOKAROUND, start, i + (rest[0] === '<' ? 2 : 1));
      if (rest.startsWith('P=')) fail(BACK_REFERENCE, start, i + 2);
      if (named && (rest[0] === '<' || rest.length > 2)) {
        i += named[0].length;
        const name = named[1]!;
        if (!named[2] || !/^\w+$/.test(name)) fail(BAD_GROUP_NAME, start);
        if (names.has(name)) fail(DUPLICATE_GROUP_NAME, start);
        names.add(name);
      } else {
        // (?flags) or (?flags:…): flags, then optionally - and at least one flag to clear.
        const m = /^([imsU]*)(?:-([imsU]+))?([:)])/.exec(rest) ?? fail(BAD_GROUP, start, i + 1);
        const bits = (f = '') => (f.includes('i') ? FOLD : 0) | (f.includes('m') ? MULTI_LINE : 0) | (f.includes('s') ? DOT_NL : 0);
        next = (flags | bits(m[1])) & ~bits(m[2]);
        i += m[0].length;
        if (m[3] === ')') {
          flags = next;
          return undefined;
        }
      }
    }
    const outer = flags;
    flags = next;
    const node = parseAlternation();
    if (src[i] !== ')') fail(MISSING_PAREN, start, src.length);
    i++;
    flags = outer;
    return node;
  }

  /** One item at i, pushed onto `xs` (a `\Q…\E` run pushes several, a flag change none). */
  function parseItem(xs: Node[]): void {
    const c = src[i];
    const assertion = (a: number) => (i++, xs.push({ k: ASSERT, a }));
    if (c === '(') {
      const node = parseGroup();
      if (node) xs.push(node);
    } else if (c === '[') xs.push(parseClass());
    else if (c === '.') {
      i++;
      xs.push(set(flags & DOT_NL ? [0, MAX_CODE_POINT] : [0, 9, 11, MAX_CODE_POINT], 0));
    }
    else if (c === '^') assertion(flags & MULTI_LINE ? BEGIN_LINE : BEGIN_TEXT);
    else if (c === '$') assertion(flags & MULTI_LINE ? END_LINE : END_TEXT);
    else if (c !== '\\') xs.push(literal(char()));
    else {
      const start = i++;
      const e = src[i] ?? '';
      const a = e ? 'AzbB'.indexOf(e) : -1;
      if (a >= 0) assertion([BEGIN_TEXT, END_TEXT, WORD_BOUNDARY, NOT_WORD_BOUNDARY][a]!);
      else if (e === 'Q') {
        const end = src.indexOf('\\E', ++i);
        for (const ch of src.slice(i, end < 0 ? undefined : end)) xs.push(literal(ch.codePointAt(0)!));
        i = end < 0 ? src.length : end + 2;
      } else if (e && Object.hasOwn(PERL, e.toLowerCase())) {
        i++;
        xs.push(set(group(PERL[e.toLowerCase()]!, e < 'a'), 0));
      }
      else xs.push(literal(escape(start)));
    }
  }

  function parseConcatenation(): Node {
    const xs: Node[] = [];
    let lastRepeat = -1;
    while (i < src.length && src[i] !== '|' && src[i] !== ')') {
      const start = i;
      const c = src[i];
      // {n}, {n,} or {n,m}; anything else that starts with { is a literal.
      const braces = c === '{' ? /^\{(0|[1-9]\d*)(,(0|[1-9]\d*)?)?\}/.exec(src.slice(i)) : null;
      if (c !== '*' && c !== '+' && c !== '?' && !braces) {
        lastRepeat = -1;
        parseItem(xs);
        continue;
      }
      // Go reads numbers of up to 8 digits; longer ones count as too big.
      const count = (s: string) => (s.length > 8 ? Infinity : +s);
      const min = braces ? count(braces[1]!) : +(c === '+');
      const max = braces ? (braces[2] ? (braces[3] ? count(braces[3]) : -1) : min) : c === '?' ? 1 : -1;
      i += braces ? braces[0].length : 1;
      if (braces && (min > MAX_REPEAT || max > MAX_REPEAT || (max >= 0 && min > max))) fail(BAD_REPEAT_COUNT, start);
      // A lazy form answers the same: a condition only asks whether there is a match.
      if (src[i] === '?') i++;
      if (lastRepeat >= 0) fail(NESTED_REPEAT, lastRepeat);
      if (!xs.length) fail(MISSING_REPEAT_ARGUMENT, start);
      const node: Node = { k: REP, x: xs.pop()!, min, max, n: !!braces };
      if (braces && (min > 1 || max > 1) && !withinRepeatLimit(node, MAX_REPEAT)) fail(BAD_REPEAT_COUNT, start);
      xs.push(node);
      lastRepeat = start;
    }
    return xs.length === 1 ? xs[0]! : { k: CAT, xs };
  }

  function parseAlternation(): Node {
    const xs = [parseConcatenation()];
    while (src[i] === '|') {
      i++;
      xs.push(parseConcatenation());
    }
    return xs.length === 1 ? xs[0]! : { k: ALT, xs };
  }

  const node = parseAlternation();
  if (i < src.length) fail(UNEXPECTED_PAREN, i, i + 1);
  return node;
}
