import type { Condition, Context } from '../types.js';
import { inBlock, parseAddress, parseCidr, type CidrBlock } from './cidr.js';
import { parseInstant } from './dates.js';
import { compareSemver, parseSemver, type SemVer } from './semver.js';

/** A condition prepared once per ruleset; `now` (NaN: read the clock) only matters to `before`/`after`. */
export type Predicate = (context: Context, now: number) => boolean;

export const MAX_PATTERN_LENGTH = 256;

/** The attribute as a primitive, or undefined when missing (null, undefined, objects). */
function read(context: Context, attribute: string): string | number | boolean | undefined {
  const value = context[attribute];
  // Each `typeof` compared in place: a `typeof` kept in a variable is a call to the runtime.
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? value : undefined;
}

export function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return value.trim() === '' ? NaN : Number(value);
  return NaN;
}

const never: Predicate = () => false;

/** The attribute as text (`String(attribute)`), folded to lower case when asked; undefined when missing. */
function text(context: Context, attribute: string, fold: boolean): string | undefined {
  const value = read(context, attribute);
  if (value === undefined) return undefined;
  const actual = typeof value === 'string' ? value : String(value);
  return fold ? actual.toLowerCase() : actual;
}

/**
 * `contains`, `startsWith`, `endsWith` one of the values; a missing attribute is false. A plain
 * loop: `values.some((v) => …)` allocated a closure on every call.
 */
function affix(attribute: string, values: readonly string[], fold: boolean, test: (actual: string, value: string) => boolean): Predicate {
  // A dense copy: `some` skipped the holes of a sparse array, and so does the loop over this one.
  const wanted = (fold ? values.map((v) => v.toLowerCase()) : values).filter(() => true);
  return (context) => {
    const actual = text(context, attribute, fold);
    if (actual === undefined) return false;
    for (let i = 0; i < wanted.length; i++) if (test(actual, wanted[i]!)) return true;
    return false;
  };
}

function membership(attribute: string, values: readonly string[], fold: boolean, member: boolean): Predicate {
  const set = new Set(fold ? values.map((v) => v.toLowerCase()) : values);
  return (context) => {
    const value = read(context, attribute);
    if (value === undefined) return !member;
    const actual = typeof value === 'string' ? value : String(value);
    return set.has(fold ? actual.toLowerCase() : actual) === member;
  };
}

function numeric(attribute: string, raw: unknown, compare: (a: number, b: number) => boolean): Predicate {
  const target = toNumber(raw);
  if (Number.isNaN(target)) return never;
  return (context) => {
    const actual = toNumber(read(context, attribute));
    return !Number.isNaN(actual) && compare(actual, target);
  };
}

function instant(attribute: string, raw: unknown, before: boolean): Predicate {
  const target = parseInstant(raw);
  if (Number.isNaN(target)) return never;
  const defaultsToNow = attribute === 'currentTime';
  return (context, now) => {
    const value = read(context, attribute);
    const actual = value === undefined ? (defaultsToNow ? (Number.isNaN(now) ? Date.now() : now) : NaN) : parseInstant(value);
    if (Number.isNaN(actual)) return false;
    return before ? actual < target : actual > target;
  };
}

function semver(attribute: string, raw: unknown, accept: (order: number) => boolean): Predicate {
  const target = typeof raw === 'string' ? parseSemver(raw) : undefined;
  if (target === undefined) return never;
  let lastText = '';
  let last: SemVer | undefined;
  return (context) => {
    const value = read(context, attribute);
    if (typeof value !== 'string') return false;
    // Most callers ask with the same app version over and over.
    if (value !== lastText) {
      lastText = value;
      last = parseSemver(value);
    }
    return last !== undefined && accept(compareSemver(last, target));
  };
}

function cidr(attribute: string, values: readonly unknown[]): Predicate {
  const blocks: CidrBlock[] = [];
  for (const v of values) {
    const block = typeof v === 'string' ? parseCidr(v.trim()) : undefined;
    if (block !== undefined) blocks.push(block);
  }
  if (blocks.length === 0) return never;
  return (context) => {
    const value = read(context, attribute);
    const address = typeof value === 'string' ? parseAddress(value.trim()) : undefined;
    return address !== undefined && blocks.some((b) => inBlock(address, b));
  };
}

function pattern(attribute: string, raw: unknown, fold: boolean): Predicate {
  if (raw === undefined || raw === null) return never;
  const source = String(raw);
  if (source.length > MAX_PATTERN_LENGTH) return never;
  let regex: RegExp;
  try {
    regex = new RegExp(source, fold ? 'i' : '');
  } catch {
    return never;
  }
  return (context) => {
    const value = read(context, attribute);
    return value !== undefined && regex.test(typeof value === 'string' ? value : String(value));
  };
}

function base(condition: Condition): Predicate | undefined {
  const { attribute } = condition;
  const raw: readonly unknown[] = condition.values ?? [];
  const values = raw.map(String);
  const fold = condition.caseInsensitive === true;
  switch (condition.operator) {
    case 'in':
      return membership(attribute, values, fold, true);
    case 'notIn':
      return membership(attribute, values, fold, false);
    case 'contains':
      return affix(attribute, values, fold, (a, v) => a.includes(v));
    case 'startsWith':
      return affix(attribute, values, fold, (a, v) => a.startsWith(v));
    case 'endsWith':
      return affix(attribute, values, fold, (a, v) => a.endsWith(v));
    case 'matches':
      return pattern(attribute, raw[0], fold);
    case 'numEq':
      return numeric(attribute, raw[0], (a, b) => a === b);
    case 'numGt':
      return numeric(attribute, raw[0], (a, b) => a > b);
    case 'numGte':
      return numeric(attribute, raw[0], (a, b) => a >= b);
    case 'numLt':
      return numeric(attribute, raw[0], (a, b) => a < b);
    case 'numLte':
      return numeric(attribute, raw[0], (a, b) => a <= b);
    case 'before':
      return instant(attribute, raw[0], true);
    case 'after':
      return instant(attribute, raw[0], false);
    case 'semverEq':
      return semver(attribute, raw[0], (o) => o === 0);
    case 'semverGt':
      return semver(attribute, raw[0], (o) => o > 0);
    case 'semverGte':
      return semver(attribute, raw[0], (o) => o >= 0);
    case 'semverLt':
      return semver(attribute, raw[0], (o) => o < 0);
    case 'semverLte':
      return semver(attribute, raw[0], (o) => o <= 0);
    case 'inCidr':
      return cidr(attribute, raw);
    case 'exists':
      return (context) => {
        const value = read(context, attribute);
        return value !== undefined && value !== '';
      };
    default:
      return undefined;
  }
}

/** Compiles a schema-valid condition; an unknown operator is false, negated or not. */
export function compileCondition(condition: Condition): Predicate {
  const predicate = base(condition);
  if (predicate === undefined) return never;
  if (condition.negate !== true) return predicate;
  return (context, now) => !predicate(context, now);
}

/** All of the conditions; the empty list holds for everyone. */
export function compileConditions(conditions: readonly Condition[] | undefined): Predicate | undefined {
  if (conditions === undefined || conditions.length === 0) return undefined;
  const predicates = conditions.map(compileCondition);
  if (predicates.length === 1) return predicates[0];
  return (context, now) => {
    for (let i = 0; i < predicates.length; i++) if (!predicates[i]!(context, now)) return false;
    return true;
  };
}
