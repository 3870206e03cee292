/**
 * The parser of the `matches` dialect: RE2 syntax (as Go's regexp/syntax and re2js accept it),
 * except Unicode classes (`\pL`, `\p{Greek}`), which are refused. Captures, greediness and
 * `(?U)` are parsed and then forgotten: a condition only asks whether the pattern matches.
 * See docs/evaluation.md ("The `matches` dialect").
 */
import { MAX_CODE_POINT, foldCase, negate, normalize } from './ranges.js';

/** Zero-width assertions. */
export const BEGIN_TEXT = 0;
export const END_TEXT = 1;
export const BEGIN_LINE = 2;
export const END_LINE = 3;
export const WORD_BOUNDARY = 4;
export const NOT_WORD_BOUNDARY = 5;

export type Node =
  /** One code point out of the normalized ranges `r`. */
  | { k: 'set'; r: number[] }
  | { k: 'assert'; a: number }
  | { k: 'cat'; xs: Node[] }
  | { k: 'alt'; xs: Node[] }
  /** `x{min,max}` (`max` -1: no limit); `counted` for the brace form, which RE2 limits. */
  | { k: 'rep'; x: Node; min: number; max: number; counted: boolean };

/** Why a pattern is refused; validate.ts words each for people. */
export type PatternProblem =
  | 'backReference' | 'lookaround' | 'unicodeClass' | 'escape' | 'trailingBackslash'
  | 'missingParen' | 'unexpectedParen' | 'missingBracket' | 'group' | 'groupName' | 'duplicateName'
  | 'missingRepeatArgument' | 'nestedRepeat' | 'repeatCount' | 'classRange' | 'posixClass' | 'tooLarge';

export class PatternError extends Error {
  constructor(
    readonly problem: PatternProblem,
    /** The part of the pattern at fault. */
    readonly fragment: string,
  ) {
    super(problem);
  }
}

/** RE2's limit of a repetition count, and of the counts of nested repetitions multiplied. */
const MAX_REPEAT = 1000;
const FOLD = 1;
const MULTI_LINE = 2;
const DOT_NL = 4;

const DIGIT = [0x30, 0x39];
const WORD = [0x30, 0x39, 0x41, 0x5a, 0x5f, 0x5f, 0x61, 0x7a];
const PERL: Record<string, number[]> = { d: DIGIT, s: [0x09, 0x0a, 0x0c, 0x0d, 0x20, 0x20], w: WORD };
const POSIX: Record<string, number[]> = {
  alnum: [0x30, 0x39, 0x41, 0x5a, 0x61, 0x7a],
  alpha: [0x41, 0x5a, 0x61, 0x7a],
  ascii: [0, 0x7f],
  blank: [0x09, 0x09, 0x20, 0x20],
  cntrl: [0, 0x1f, 0x7f, 0x7f],
  digit: DIGIT,
  graph: [0x21, 0x7e],
  lower: [0x61, 0x7a],
  print: [0x20, 0x7e],
  punct: [0x21, 0x2f, 0x3a, 0x40, 0x5b, 0x60, 0x7b, 0x7e],
  space: [0x09, 0x0d, 0x20, 0x20],
  upper: [0x41, 0x5a],
  word: WORD,
  xdigit: [0x30, 0x39, 0x41, 0x46, 0x61, 0x66],
};
const SIMPLE_ESCAPES: Record<string, number> = { a: 7, f: 12, n: 10, r: 13, t: 9, v: 11 };

const isOctal = (c: string | undefined) => c !== undefined && c >= '0' && c <= '7';
const isAlnum = (c: string) => /^[0-9A-Za-z]$/.test(c);

/** Whether nested counted repetitions stay within `n` copies of what they repeat (Go's repeatIsValid). */
function withinRepeatLimit(node: Node, n: number): boolean {
  if (node.k === 'rep' && node.counted) {
    const m = node.max < 0 ? node.min : node.max;
    if (node.max === 0) return true;
    if (m > n) return false;
    if (m > 0) n = Math.floor(n / m);
  }
  const subs = node.k === 'rep' ? [node.x] : node.k === 'cat' || node.k === 'alt' ? node.xs : [];
  return subs.every((x) => withinRepeatLimit(x, n));
}

/** Parses `src`; throws a PatternError for what RE2 (or this subset) refuses. */
export function parse(src: string, caseInsensitive: boolean): Node {
  let i = 0;
  let flags = caseInsensitive ? FOLD : 0;
  const names = new Set<string>();
  const fail = (problem: PatternProblem, from: number, to = i): never => {
    throw new PatternError(problem, src.slice(from, to));
  };
  const set = (r: number[], fold = (flags & FOLD) !== 0): Node => ({ k: 'set', r: fold ? foldCase(r) : r });
  /** A Perl (`\d`) or POSIX (`[:alpha:]`) group: folded, then negated (RE2's order). */
  const group = (r: number[], negated: boolean): number[] => {
    const folded = flags & FOLD ? foldCase(r) : r;
    return negated ? negate(folded) : folded;
  };

  /** Reads one code point. */
  const char = (): number => {
    const c = src.codePointAt(i)!;
    i += c > 0xffff ? 2 : 1;
    return c;
  };

  /** After a backslash: the code point of an escape that stands for one (octal, hex, `\n`, punctuation). */
  function escape(start: number): number {
    if (i >= src.length) fail('trailingBackslash', start);
    const c = src[i]!;
    if (c >= '1' && c <= '7' && !isOctal(src[i + 1])) fail('backReference', start, i + 1);
    if (isOctal(c)) {
      let v = 0;
      for (let n = 0; n < 3 && isOctal(src[i]); n++) v = v * 8 + Number(src[i++]);
      return v;
    }
    i++;
    if (c === '8' || c === '9' || c === 'k') fail('backReference', start);
    if (c === 'x') {
      const braces = src[i] === '{';
      const end = braces ? src.indexOf('}', i) : i + 2;
      const hex = src.slice(braces ? i + 1 : i, end);
      if (end < 0 || !/^[0-9A-Fa-f]+$/.test(hex) || hex.length < (braces ? 1 : 2)) fail('escape', start, end < 0 ? src.length : Math.min(end + (braces ? 1 : 0), src.length));
      const v = parseInt(hex, 16);
      i = braces ? end + 1 : end;
      if (v > MAX_CODE_POINT) fail('escape', start);
      return v;
    }
    if (SIMPLE_ESCAPES[c] !== undefined) return SIMPLE_ESCAPES[c]!;
    // Any other ASCII punctuation (and space) stands for itself; letters, digits and the rest are errors.
    if (c < '\x80' && !isAlnum(c)) return c.charCodeAt(0);
    if (c === 'p' || c === 'P') unicodeClass(start);
    return fail('escape', start);
  }

  /** `\pL`, `\p{Greek}`: RE2 has them, this subset does not (their tables would outweigh the engine). */
  function unicodeClass(start: number): never {
    const close = src[start + 2] === '{' ? src.indexOf('}', start) : -1;
    return fail('unicodeClass', start, close >= 0 ? close + 1 : start + 3);
  }

  /** `{n}`, `{n,}` or `{n,m}` at i, as [min, max, end]; undefined when it is not one (then `{` is a literal). */
  function counts(): [number, number, number] | undefined {
    const m = /^\{(0|[1-9][0-9]*)(?:(,)(0|[1-9][0-9]*)?)?\}/.exec(src.slice(i));
    if (!m) return undefined;
    // Go reads numbers of up to 8 digits; longer ones count as too big.
    const num = (s: string) => (s.length > 8 ? Infinity : Number(s));
    return [num(m[1]!), m[2] ? (m[3] === undefined ? -1 : num(m[3])) : num(m[1]!), i + m[0].length];
  }

  function parseClass(): Node {
    const start = i++;
    const negated = src[i] === '^';
    if (negated) i++;
    const plain: number[] = [];
    const groups: number[] = [];
    const classChar = (): number => {
      if (i >= src.length) fail('missingBracket', start);
      if (src[i] !== '\\') return char();
      i++;
      return escape(i - 1);
    };
    for (let first = true; first || src[i] !== ']'; first = false) {
      if (i >= src.length) fail('missingBracket', start);
      if (src.startsWith('[:', i)) {
        const end = src.indexOf(':]', i + 2);
        if (end >= 0) {
          const name = src.slice(i + 2, end);
          const key = name.replace(/^\^/, '');
          if (!Object.hasOwn(POSIX, key)) fail('posixClass', i, end + 2);
          groups.push(...group(POSIX[key]!, name !== key));
          i = end + 2;
          continue;
        }
      }
      const perl = src[i] === '\\' ? src[i + 1] : undefined;
      if (perl === 'p' || perl === 'P') unicodeClass(i);
      if (perl && Object.hasOwn(PERL, perl.toLowerCase())) {
        groups.push(...group(PERL[perl.toLowerCase()]!, perl < 'a'));
        i += 2;
        continue;
      }
      const from = i;
      const lo = classChar();
      let hi = lo;
      if (src[i] === '-' && src[i + 1] !== undefined && src[i + 1] !== ']') {
        i++;
        hi = classChar();
        if (hi < lo) fail('classRange', from);
      }
      plain.push(lo, hi);
    }
    i++;
    const members = normalize([...(flags & FOLD ? foldCase(normalize(plain)) : plain), ...groups]);
    return set(negated ? negate(members) : members, false);
  }

  /** `(` at i: a group's content, a flag change (undefined), or an error. */
  function parseGroup(): Node | undefined {
    const start = i++;
    let next = flags;
    if (src[i] === '?') {
      const rest = src.slice(i + 1);
      if (/^(=|!|<=|<!)/.test(rest)) fail('lookaround', start, i + (rest[0] === '<' ? 3 : 2));
      if (rest.startsWith('P=')) fail('backReference', start, i + 3);
      const named = /^(P?<)([^>]*)(>?)/.exec(rest);
      if (named && (named[1] === '<' || rest.length > 2)) {
        const [whole, , name, closed] = named;
        i += 1 + whole!.length;
        if (!closed || !/^[0-9A-Za-z_]+$/.test(name!)) fail('groupName', start);
        if (names.has(name!)) fail('duplicateName', start);
        names.add(name!);
      } else {
        i++;
        let sign = 1;
        let sawFlag = false;
        for (;;) {
          const c = src[i++];
          const bit = c === 'i' ? FOLD : c === 'm' ? MULTI_LINE : c === 's' ? DOT_NL : c === 'U' ? -1 : 0;
          if (bit) {
            if (bit > 0) next = sign > 0 ? next | bit : next & ~bit;
            sawFlag = true;
          } else if (c === '-' && sign > 0) {
            sign = -1;
            sawFlag = false;
          } else if ((c === ':' || c === ')') && (sign > 0 || sawFlag)) {
            if (c === ')') {
              flags = next;
              return undefined;
            }
            break;
          } else fail('group', start, Math.min(i, src.length));
        }
      }
    }
    const outer = flags;
    flags = next;
    const node = parseAlternation();
    if (src[i] !== ')') fail('missingParen', start, src.length);
    i++;
    flags = outer;
    return node;
  }

  /** One item at i, pushed onto `xs` (a `\Q…\E` run pushes several, a flag change none). */
  function parseItem(xs: Node[]): void {
    const c = src[i]!;
    if (c === '(') {
      const node = parseGroup();
      if (node) xs.push(node);
    } else if (c === '[') xs.push(parseClass());
    else if (c === '.') i++, xs.push(set(flags & DOT_NL ? [0, MAX_CODE_POINT] : [0, 9, 11, MAX_CODE_POINT], false));
    else if (c === '^') i++, xs.push({ k: 'assert', a: flags & MULTI_LINE ? BEGIN_LINE : BEGIN_TEXT });
    else if (c === '$') i++, xs.push({ k: 'assert', a: flags & MULTI_LINE ? END_LINE : END_TEXT });
    else if (c === '\\') {
      const start = i++;
      const e = src[i];
      const assertion = e === undefined ? -1 : 'AzbB'.indexOf(e);
      if (assertion >= 0) i++, xs.push({ k: 'assert', a: [BEGIN_TEXT, END_TEXT, WORD_BOUNDARY, NOT_WORD_BOUNDARY][assertion]! });
      else if (e === 'Q') {
        const end = src.indexOf('\\E', ++i);
        const text = src.slice(i, end < 0 ? src.length : end);
        for (const ch of text) xs.push(set([ch.codePointAt(0)!, ch.codePointAt(0)!]));
        i = end < 0 ? src.length : end + 2;
      } else if (e !== undefined && Object.hasOwn(PERL, e.toLowerCase())) i++, xs.push(set(group(PERL[e.toLowerCase()]!, e < 'a'), false));
      else {
        const v = escape(start);
        xs.push(set([v, v]));
      }
    } else {
      const v = char();
      xs.push(set([v, v]));
    }
  }

  function parseConcatenation(): Node {
    const xs: Node[] = [];
    let lastRepeat = -1;
    while (i < src.length && src[i] !== '|' && src[i] !== ')') {
      const start = i;
      const c = src[i]!;
      const braces = c === '{' ? counts() : undefined;
      if (c === '*' || c === '+' || c === '?' || braces) {
        let [min, max] = braces ?? [c === '+' ? 1 : 0, c === '?' ? 1 : -1];
        i = braces ? braces[2] : i + 1;
        if (braces && (min > MAX_REPEAT || max > MAX_REPEAT || (max >= 0 && min > max))) fail('repeatCount', start);
        // A lazy form answers the same: a condition only asks whether there is a match.
        if (src[i] === '?') i++;
        if (lastRepeat >= 0) fail('nestedRepeat', lastRepeat);
        if (!xs.length) fail('missingRepeatArgument', start);
        const node: Node = { k: 'rep', x: xs.pop()!, min, max, counted: !!braces };
        if (braces && (min >= 2 || max >= 2) && !withinRepeatLimit(node, MAX_REPEAT)) fail('repeatCount', start);
        xs.push(node);
        lastRepeat = start;
        continue;
      }
      lastRepeat = -1;
      parseItem(xs);
    }
    return xs.length === 1 ? xs[0]! : { k: 'cat', xs };
  }

  function parseAlternation(): Node {
    const xs = [parseConcatenation()];
    while (src[i] === '|') {
      i++;
      xs.push(parseConcatenation());
    }
    return xs.length === 1 ? xs[0]! : { k: 'alt', xs };
  }

  const node = parseAlternation();
  if (i < src.length) fail('unexpectedParen', i, i + 1);
  return node;
}
