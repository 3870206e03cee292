/**
 * The parsed form of a `matches` pattern that client keys receive (`Condition.parsed`, see
 * docs/protocol.md "Parsed patterns"): the server parses, so the browser SDK ships only the
 * matcher (`program.ts`), not the parser. JSON, and close to the pattern's own length:
 * - a string: its code points in a row, each matched literally;
 * - a number: an assertion (BEGIN_TEXT … NOT_WORD_BOUNDARY);
 * - `[0, lo, hi, …]`: one code point out of the normalized ranges;
 * - `[2, …]` a sequence, `[3, …]` alternatives;
 * - `[4, x, min, max]`: `x` repeated min to max times (max -1: no limit).
 */
import { ASSERT, CAT, REP, SET, parse, type Node } from './parse.js';
import { compileTree, type Matcher } from './program.js';
import { MAX_PATTERN_LENGTH, type PatternCompiler } from '../conditions/compile.js';
import type { Condition, Flag } from '../types.js';

export type ParsedPattern = string | number | ParsedPattern[];

const isSurrogate = (c: number) => c >= 0xd800 && c <= 0xdfff;

/** The parsed form of a tree. A lone surrogate stays a set: as a string, it could pair with its neighbour. */
export function encodeTree(node: Node): ParsedPattern {
  if (node.k === SET) {
    const [lo, hi] = node.r;
    return node.r.length === 2 && lo === hi && !isSurrogate(lo!) ? String.fromCodePoint(lo!) : [SET, ...node.r];
  }
  if (node.k === ASSERT) return node.a;
  if (node.k === REP) return [REP, encodeTree(node.x), node.min, node.max];
  const xs: ParsedPattern[] = [];
  for (const x of node.xs.map(encodeTree)) {
    if (node.k === CAT && typeof x === 'string' && typeof xs[xs.length - 1] === 'string') xs[xs.length - 1] += x;
    else xs.push(x);
  }
  return node.k === CAT && xs.length === 1 && typeof xs[0] === 'string' ? xs[0] : [node.k, ...xs];
}

/**
 * The tree of a parsed form. Not checked further: a form that did not come from `encodeTree`
 * gives wrong answers or throws, and `compileTree` bounds what any tree costs.
 */
export function decodeTree(form: ParsedPattern): Node {
  if (typeof form == 'number') return { k: ASSERT, a: form };
  if (typeof form == 'string') return { k: CAT, xs: Array.from(form, (c) => ({ k: SET, r: [c.codePointAt(0)!, c.codePointAt(0)!] })) };
  const [k, x, min, max] = form;
  return k === SET ? { k, r: form.slice(1) as number[] } : k === REP ? { k, x: decodeTree(x!), min: min as number, max: max as number, n: false } : { k: k as typeof CAT, xs: form.slice(1).map(decodeTree) };
}

/** The parsed form of `pattern` (as compiled with `caseInsensitive`); undefined when it is refused. */
export function parsePattern(pattern: string, caseInsensitive = false): ParsedPattern | undefined {
  if (pattern.length > MAX_PATTERN_LENGTH) return undefined;
  try {
    const root = parse(pattern, caseInsensitive);
    compileTree(root, pattern);
    return encodeTree(root);
  } catch {
    return undefined;
  }
}

/** `matches` from the condition's parsed form alone (`parsed`, which the server adds for client
 *  keys): what the browser SDK compiles with. Without one the condition is false. */
export const parsedPatterns: PatternCompiler = (condition): Matcher => compileTree(decodeTree(condition.parsed!), String(condition.values?.[0]));

/** The conditions with each `matches` pattern's parsed form added; the same array when none has a pattern. */
export function withParsedPatterns(conditions: Condition[]): Condition[];
export function withParsedPatterns(conditions: Condition[] | undefined): Condition[] | undefined;
export function withParsedPatterns(conditions: Condition[] | undefined): Condition[] | undefined {
  if (!conditions?.some((c) => c.operator === 'matches')) return conditions;
  return conditions.map((c) => {
    if (c.operator !== 'matches') return c;
    const { parsed: _, ...condition } = c;
    const form = typeof c.values?.[0] === 'string' ? parsePattern(c.values[0], c.caseInsensitive === true) : undefined;
    return form === undefined ? condition : { ...condition, parsed: form };
  });
}

/** The flag with its rules' patterns parsed (`withParsedPatterns`); the same object when it has none. */
export function withParsedFlag(flag: Flag): Flag {
  const rules = flag.rules?.map((r) => {
    const conditions = withParsedPatterns(r.conditions);
    return conditions === r.conditions ? r : { ...r, conditions };
  });
  return rules === undefined || rules.every((r, i) => r === flag.rules![i]) ? flag : { ...flag, rules };
}
