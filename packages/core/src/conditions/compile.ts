import { Operators, type Condition, type Context } from '../types.js';
import { compilePattern, type Matcher } from '../regex/program.js';
import { compareSemver, inCidr, toAddress, toCidr, toInstant, toNumber, toSemver } from './parse.js';

/** A condition prepared once per ruleset; `now` (NaN: read the clock) matters only to `before`/`after`. */
export type Predicate = (context: Context, now: number) => boolean;

export const MAX_PATTERN_LENGTH = 256;
/** `matches` is false for a longer attribute: with the program size limit it bounds the cost of a search. */
export const MAX_MATCHED_LENGTH = 1024;

/**
 * How a `matches` condition becomes a matcher; throws when its pattern is refused (the condition is
 * then false). `caseInsensitive` compiles the pattern as `(?i)`.
 */
export type PatternCompiler = (condition: Condition, caseInsensitive: boolean) => Matcher;

/** `matches` from the pattern itself (`values[0]`): the Node SDK's and the server's. */
export const sourcePatterns: PatternCompiler = (condition, caseInsensitive) => compilePattern(String(condition.values![0]), caseInsensitive);

/** The attribute as a primitive, or undefined when missing (null, undefined, objects). */
const read = (context: Context, attribute: string): string | number | boolean | undefined => {
  const v = context[attribute];
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : undefined;
};

/** Which comparison outcomes an ordered operator accepts, by the operator's suffix. */
const ORDER: Record<string, (o: number) => boolean> = {
  Eq: (o) => o === 0,
  Gt: (o) => o > 0,
  Gte: (o) => o >= 0,
  Lt: (o) => o < 0,
  Lte: (o) => o <= 0,
  before: (o) => o < 0,
  after: (o) => o > 0,
};

const STRING_TESTS: Record<string, (actual: string, value: string) => boolean> = {
  contains: (a, v) => a.includes(v),
  startsWith: (a, v) => a.startsWith(v),
  endsWith: (a, v) => a.endsWith(v),
};

function base(c: Condition, patterns: PatternCompiler): Predicate | undefined {
  const { attribute, operator } = c;
  const raw: readonly unknown[] = c.values ?? [];
  const ci = c.caseInsensitive === true;
  const fold = (s: string) => (ci ? s.toLowerCase() : s);
  const values = raw.map((v) => fold(String(v)));
  /** A string operator: `whenMissing` for a missing attribute, else `test` on the folded text. */
  const text = (test: (s: string) => boolean, whenMissing = false): Predicate => (context) => {
    const v = read(context, attribute);
    return v === undefined ? whenMissing : test(fold(typeof v === 'string' ? v : String(v)));
  };
  /** An ordered operator: parse both sides, compare, accept by the operator's suffix. */
  const ordered = <T>(parse: (v: unknown) => T | undefined, compare: (a: T, b: T) => number, accept: ((o: number) => boolean) | undefined): Predicate | undefined => {
    const target = parse(raw[0]);
    if (target === undefined || accept === undefined) return undefined;
    return (context, now) => {
      let v: unknown = read(context, attribute);
      if (v === undefined && attribute === 'currentTime' && parse === toInstant) v = now === now ? now : Date.now();
      const actual = v === undefined ? undefined : parse(v);
      return actual !== undefined && accept(compare(actual, target));
    };
  };
  const minus = (a: number, b: number) => a - b;

  if (operator === 'in' || operator === 'notIn') {
    const set = new Set(values);
    const member = operator === 'in';
    return (context) => {
      const v = read(context, attribute);
      return v === undefined ? !member : set.has(fold(typeof v === 'string' ? v : String(v))) === member;
    };
  }
  const stringTest = STRING_TESTS[operator];
  if (stringTest) {
    // A loop, not `some` (a closure per call), over a dense copy (`some` skips holes).
    const dense = values.filter(() => true);
    return text((s) => {
      for (const v of dense) if (stringTest(s, v)) return true;
      return false;
    });
  }
  if (operator === 'exists') return (context) => (read(context, attribute) ?? '') !== '';
  if (operator === 'matches') {
    const source = raw[0];
    if (source === undefined || source === null || String(source).length > MAX_PATTERN_LENGTH) return undefined;
    let regex: (s: string) => boolean;
    try {
      // The engine folds case itself (`caseInsensitive` compiles the pattern as `(?i)`).
      regex = patterns(c, ci);
    } catch {
      return undefined;
    }
    return (context) => {
      const v = read(context, attribute);
      const s = v === undefined ? '' : typeof v === 'string' ? v : String(v);
      return v !== undefined && s.length <= MAX_MATCHED_LENGTH && regex(s);
    };
  }
  if (operator === 'inCidr') {
    const blocks: [number[], number][] = [];
    for (const v of raw) {
      const block = typeof v === 'string' ? toCidr(v) : undefined;
      if (block) blocks.push(block);
    }
    if (!blocks.length) return undefined;
    return (context) => {
      const v = read(context, attribute);
      const address = typeof v === 'string' ? toAddress(v) : undefined;
      return !!address && blocks.some((b) => inCidr(address, b));
    };
  }
  if (operator.startsWith('num')) return ordered(toNumber, minus, ORDER[operator.slice(3)]);
  if (operator.startsWith('semver')) return ordered(toSemver, compareSemver, ORDER[operator.slice(6)]);
  if (operator === 'before' || operator === 'after') return ordered(toInstant, minus, ORDER[operator]);
  return undefined;
}

const never: Predicate = () => false;

/** Compiles a structurally sound condition; an unknown operator is false, negated or not. */
export function compileCondition(condition: Condition, patterns: PatternCompiler): Predicate {
  if (!(Operators as readonly string[]).includes(condition.operator)) return never;
  // A known operator with values it cannot use is false, and so true when negated.
  const predicate = base(condition, patterns) ?? never;
  return condition.negate === true ? (context, now) => !predicate(context, now) : predicate;
}

/** All of the conditions; undefined (everyone) for none. */
export function compileConditions(conditions: readonly Condition[] | undefined, patterns: PatternCompiler): Predicate | undefined {
  if (!conditions?.length) return undefined;
  const predicates = conditions.map((c) => compileCondition(c, patterns));
  if (predicates.length === 1) return predicates[0];
  return (context, now) => {
    for (let i = 0; i < predicates.length; i++) if (!predicates[i]!(context, now)) return false;
    return true;
  };
}
