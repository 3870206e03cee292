import { cohortProblems, flagProblems, isObject } from './check.js';
import { compileConditions, sourcePatterns, type PatternCompiler, type Predicate } from './conditions/compile.js';
import { SPLIT_SEED, bucketOf, hashPrefix, hashUnit } from './hash.js';
import type { Cohort, Context, ErrorCode, EvaluateOptions, Flag, Reason, Result, Rule, Ruleset, SplitArm } from './types.js';

/** Prerequisite chains deeper than this fail. */
export const MAX_PREREQUISITE_DEPTH = 10;
/** A 100 % rollout in thousandths of a percent. */
const EVERYONE = 100_000;

/** Results are made once and shared, so evaluating allocates nothing; they are frozen. */
const result = (enabled: boolean, reason: Reason, extra?: Partial<Result>): Result => Object.freeze({ enabled, reason, ...extra });
const error = (errorCode: ErrorCode, errorMessage: string) => result(false, 'ERROR', { errorCode, errorMessage });

const NOT_FOUND = result(false, 'FLAG_NOT_FOUND');
const DISABLED = result(false, 'DISABLED');
const NO_MATCH = result(false, 'NO_MATCH');
const PREREQUISITE_FAILED = result(false, 'PREREQUISITE_FAILED');
/** A cycle or a chain too deep: fails every prerequisite on the way back to the root. */
const BROKEN_CHAIN = error('GENERAL', 'prerequisite cycle or chain deeper than 10');

/** A prepared flag: its answer for a context, at a prerequisite depth. */
type FlagFn = (context: Context, now: number, depth: number) => Result;
/** A prepared rule: its answer, or undefined when it does not match. */
type RuleFn = (context: Context, now: number) => Result | undefined;
/** Picks a result for a unit (undefined: the context has none). */
type Outcome = (unit: string | undefined) => Result;

/** What one evaluator (`evaluator`) prepares with, and its caches. */
interface Engine {
  readonly patterns: PatternCompiler;
  readonly prepared: WeakMap<object, Prepared>;
  /** Cohorts by object: a cohort that several rulesets share (every environment's, and each next
   *  revision's while it did not change) builds its member sets once. */
  readonly cohorts: WeakMap<object, Predicate | null>;
}

interface Prepared {
  readonly engine: Engine;
  readonly source: Ruleset;
  readonly flags: Map<string, FlagFn>;
  /** `null`: the cohort breaks the schema; `undefined`: there is no such cohort (it contains no one). */
  readonly cohorts: Map<string, Predicate | null | undefined>;
}

/** Flags being evaluated, to find prerequisite cycles. */
const stack: string[] = [];

const own = <T>(record: Record<string, T>, key: string): T | undefined => (isObject(record) && Object.hasOwn(record, key) ? record[key] : undefined);

/** The unit as a string, or undefined when missing or empty. */
function unitOf(context: Context, attribute: string): string | undefined {
  const v = context[attribute];
  return typeof v === 'string' ? (v === '' ? undefined : v) : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
}

function cohort(p: Prepared, key: string): Predicate | null | undefined {
  if (p.cohorts.has(key)) return p.cohorts.get(key);
  const source = own(p.source.cohorts, key);
  // WeakMap#get answers undefined for a primitive (a malformed cohort), which `predicate` reports.
  const member = source === undefined ? undefined : (p.engine.cohorts.get(source as object) ?? predicate(p.engine, source));
  p.cohorts.set(key, member);
  return member;
}

function predicate(engine: Engine, source: unknown): Predicate | null {
  let member: Predicate | null = null;
  if (!cohortProblems(source).length) {
    const c = source as Cohort;
    // A MemberSet (compactCohorts) answers `has` itself; an array becomes a Set.
    const members = (list: unknown) => (typeof (list as Set<string> | undefined)?.has == 'function' ? (list as Set<string>) : new Set(list as string[]));
    const included = members(c.included);
    const excluded = members(c.excluded);
    const conditions = compileConditions(c.conditions, engine.patterns);
    member = (context, now) => {
      const k = context.key;
      const id = typeof k === 'string' ? k : typeof k === 'number' || typeof k === 'boolean' ? String(k) : undefined;
      if (id !== undefined && excluded.size > 0 && excluded.has(id)) return false;
      return (id !== undefined && included.has(id)) || (conditions !== undefined && conditions(context, now));
    };
  }
  if (isObject(source)) engine.cohorts.set(source, member);
  return member;
}

/** The result naming `variant`, with its value from the flag's variants. */
function withVariant(flag: Flag, variant: string, reason: Reason, ruleId: string | undefined): Result {
  const value = flag.variants?.find((v) => v.key === variant)?.value;
  return result(true, reason, { variant, ...(value === undefined ? {} : { value }), ...(ruleId === undefined ? {} : { ruleId }) });
}

/** A weighted split over `arms` with `salt`; without weight, the plain enabled result. */
function split(flag: Flag, arms: readonly SplitArm[], salt: string, reason: Reason, ruleId: string | undefined): Outcome {
  const plain = result(true, reason, ruleId === undefined ? undefined : { ruleId });
  const results = arms.map((a) => withVariant(flag, a.variant, reason, ruleId));
  const ends: number[] = [];
  let total = 0;
  for (const a of arms) ends.push((total += a.weight));
  const firstIndex = arms.findIndex((a) => a.weight > 0);
  if (!total) return () => plain;
  const prefix = hashPrefix(salt, SPLIT_SEED);
  return (unit) => {
    if (unit === undefined) return results[firstIndex]!;
    const t = hashUnit(prefix, unit) % total;
    let i = 0;
    while (ends[i]! <= t) i++;
    return results[i]!;
  };
}

const armsOf = (flag: Flag): SplitArm[] => (flag.variants ?? []).map((v) => ({ variant: v.key, weight: v.weight ?? 0 }));

function prepareRule(p: Prepared, flag: Flag, salt: string, rule: Rule): RuleFn | Result {
  const members: Array<Predicate | undefined> = [];
  for (const key of rule.cohorts ?? []) {
    const m = cohort(p, key);
    if (m === null) return error('INVALID_COHORT', `cohort "${key}" breaks the schema`);
    members.push(m);
  }
  const conditions = compileConditions(rule.conditions, p.engine.patterns);
  const threshold = rule.rollout ? Math.round(rule.rollout.percentage * 1000) : EVERYONE;
  const bucketBy = rule.rollout?.bucketBy ?? 'key';
  const ruleSalt = rule.rollout?.salt ?? salt;
  const rollout = hashPrefix(ruleSalt, 0);
  const fixed = rule.variant === undefined ? undefined : withVariant(flag, rule.variant, 'RULE_MATCH', rule.id);
  const outcome = fixed ? () => fixed : split(flag, rule.split ?? armsOf(flag), ruleSalt, 'RULE_MATCH', rule.id);
  return (context, now) => {
    if (conditions !== undefined && !conditions(context, now)) return undefined;
    for (let i = 0; i < members.length; i++) if (!members[i]?.(context, now)) return undefined;
    const unit = unitOf(context, bucketBy);
    if (threshold < EVERYONE && (unit === undefined || bucketOf(hashUnit(rollout, unit)) >= threshold)) return undefined;
    return outcome(unit);
  };
}

function prepareFlag(p: Prepared, key: string): FlagFn {
  const raw = own(p.source.flags, key) as unknown;
  const fixed = (r: Result): FlagFn => () => r;
  if (raw === undefined) return fixed(NOT_FOUND);
  // The kill switch works even on a damaged flag.
  if (isObject(raw) && raw.enabled === false) return fixed(DISABLED);
  const problems = flagProblems(raw);
  if (problems.length) return fixed(error('INVALID_FLAG', `flag "${key}": invalid ${problems[0] || 'flag'}`));
  const flag = raw as unknown as Flag;
  const salt = flag.salt ?? key;
  const rules: RuleFn[] = [];
  for (const rule of flag.rules ?? []) {
    const r = prepareRule(p, flag, salt, rule);
    if (typeof r !== 'function') return fixed(r);
    rules.push(r);
  }
  const prerequisites = flag.prerequisites ?? [];
  const fallthrough = rules.length ? undefined : split(flag, armsOf(flag), salt, 'DEFAULT', undefined);
  return (context, now, depth) => {
    if (prerequisites.length) {
      stack.push(key);
      try {
        for (const q of prerequisites) {
          const expected = q.enabled !== false;
          const r = stack.includes(q.flag) || depth >= MAX_PREREQUISITE_DEPTH ? BROKEN_CHAIN : flagFn(p, q.flag)(context, now, depth + 1);
          if (r === BROKEN_CHAIN) return depth ? BROKEN_CHAIN : PREREQUISITE_FAILED;
          const holds =
            r.reason !== 'ERROR' &&
            r.reason !== 'FLAG_NOT_FOUND' &&
            r.enabled === expected &&
            (!expected || !q.variants?.length || q.variants.includes(r.variant as string));
          if (!holds) return PREREQUISITE_FAILED;
        }
      } finally {
        stack.pop();
      }
    }
    if (fallthrough) return fallthrough(unitOf(context, 'key'));
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i]!(context, now);
      if (r !== undefined) return r;
    }
    return NO_MATCH;
  };
}

function flagFn(p: Prepared, key: string): FlagFn {
  let f = p.flags.get(key);
  if (f === undefined) p.flags.set(key, (f = prepareFlag(p, key)));
  return f;
}

export type Evaluate = (ruleset: Ruleset, flagKey: string, context?: Context | null, options?: EvaluateOptions) => Result;

/**
 * An `evaluate` whose `matches` conditions compile with `patterns`: the browser SDK's uses the
 * parsed forms the server sends client keys (`parsedPatterns`), so it ships no pattern parser.
 * Each evaluator prepares rulesets for itself.
 */
export function evaluator(patterns: PatternCompiler): Evaluate {
  const engine: Engine = { patterns, prepared: new WeakMap(), cohorts: new WeakMap() };
  // The ruleset evaluated last, and the flag asked about last in it: callers ask about one ruleset, often one flag, over and over.
  let last: Prepared | undefined;
  let lastKey: string | undefined;
  let lastFn: FlagFn | undefined;
  return (ruleset, flagKey, context, options) => {
    try {
      if (!isObject(ruleset) || !isObject(ruleset.flags)) return error('INVALID_INPUT', 'the ruleset has no flags object');
      const ctx = context ?? {};
      if (!isObject(ctx)) return error('INVALID_INPUT', 'the context must be an object');
      let p = last !== undefined && last.source === ruleset ? last : engine.prepared.get(ruleset);
      if (p === undefined) engine.prepared.set(ruleset, (p = { engine, source: ruleset, flags: new Map(), cohorts: new Map() }));
      const at = options?.now;
      if (stack.length) stack.length = 0;
      const key = typeof flagKey === 'string' ? flagKey : String(flagKey);
      if (p !== last || key !== lastKey) {
        lastFn = flagFn(p, key);
        last = p;
        lastKey = key;
      }
      // NaN: read the clock only if a date condition needs it.
      return lastFn!(ctx, at === undefined ? NaN : typeof at === 'number' ? at : at.getTime(), 0);
    } catch (e) {
      return error('GENERAL', e instanceof Error ? e.message : String(e));
    }
  };
}

/**
 * Evaluates one flag for one context (DESIGN §2). Never throws: problems become a result with
 * reason `ERROR`. The ruleset is prepared on first use and must not be changed afterwards.
 * `matches` compiles the pattern itself (`values[0]`).
 */
export const evaluate: Evaluate = /* @__PURE__ */ evaluator(sourcePatterns);
