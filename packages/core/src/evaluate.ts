import { compileConditions, type Predicate } from './conditions/compile.js';
import { SPLIT_SEED, bucketOf, hashPrefix, hashUnit, type HashPrefix } from './hash.js';
import { validateCohort, validateFlag } from './schema.js';
import {
  ErrorCodes,
  Reasons,
  type Cohort,
  type Context,
  type ErrorCode,
  type EvaluateOptions,
  type Flag,
  type Reason,
  type Result,
  type Rule,
  type Ruleset,
  type SplitArm,
} from './types.js';

/** Prerequisite chains deeper than this fail. */
export const MAX_PREREQUISITE_DEPTH = 10;
/** A rollout threshold of 100 % in thousandths of a percent. */
const EVERYONE = 100_000;

const result = (fields: Result): Result => Object.freeze(fields);
const error = (errorCode: ErrorCode, errorMessage: string): Result =>
  result({ enabled: false, reason: Reasons.ERROR, errorCode, errorMessage });

const FLAG_NOT_FOUND = result({ enabled: false, reason: Reasons.FLAG_NOT_FOUND });
const INVALID_INPUT = error(ErrorCodes.INVALID_INPUT, 'the ruleset has no flags object');
const INVALID_CONTEXT = error(ErrorCodes.INVALID_INPUT, 'the context must be an object');
/** A cycle or a chain too deep: fails every prerequisite on the way back to the root. */
const BROKEN_CHAIN = error(ErrorCodes.GENERAL, 'prerequisite cycle or chain deeper than 10');
const EMPTY_CONTEXT: Context = Object.freeze({});

/** A weighted choice among variants, with its results made once. */
interface Split {
  readonly prefix: HashPrefix;
  readonly cumulative: readonly number[];
  readonly total: number;
  readonly results: readonly Result[];
  /** For a context without a unit: the first arm of non-zero weight. */
  readonly first: Result;
}

interface PreparedCohort {
  readonly included: ReadonlySet<string>;
  /** Undefined when no one is excluded: most cohorts exclude no one, and a lookup costs. */
  readonly excluded: ReadonlySet<string> | undefined;
  readonly conditions: Predicate | undefined;
}

interface PreparedRule {
  readonly conditions: Predicate | undefined;
  readonly cohorts: readonly (PreparedCohort | undefined)[];
  readonly threshold: number;
  readonly bucketBy: string;
  readonly rollout: HashPrefix;
  /** Fixed result, or a split that picks one. */
  readonly outcome: Result | Split;
}

interface PreparedPrerequisite {
  readonly flag: string;
  readonly enabled: boolean;
  readonly variants: ReadonlySet<string> | undefined;
}

interface PreparedFlag {
  /** Set when the flag's answer does not depend on the context (killed, damaged). */
  readonly fixed: Result | undefined;
  readonly prerequisites: readonly PreparedPrerequisite[];
  readonly rules: readonly PreparedRule[];
  /** With no rules: the DEFAULT outcome. */
  readonly fallthrough: Result | Split | undefined;
  readonly noMatch: Result;
  readonly prerequisiteFailed: Result;
}

interface PreparedRuleset {
  readonly source: Ruleset;
  readonly flags: Map<string, PreparedFlag>;
  /** `null`: the cohort breaks the schema; `undefined`: there is no such cohort. */
  readonly cohorts: Map<string, PreparedCohort | null | undefined>;
  /** The flag evaluated last, to skip the map when a caller asks about one flag over and over. */
  lastKey: string | undefined;
  lastFlag: PreparedFlag | undefined;
}

const prepared = new WeakMap<object, PreparedRuleset>();

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fixedFlag(answer: Result): PreparedFlag {
  return { fixed: answer, prerequisites: [], rules: [], fallthrough: undefined, noMatch: answer, prerequisiteFailed: answer };
}

function prepareCohort(ruleset: PreparedRuleset, key: string): PreparedCohort | null | undefined {
  if (ruleset.cohorts.has(key)) return ruleset.cohorts.get(key);
  const source = isObject(ruleset.source.cohorts) && Object.hasOwn(ruleset.source.cohorts, key) ? ruleset.source.cohorts[key] : undefined;
  let cohort: PreparedCohort | null | undefined;
  if (source === undefined) cohort = undefined;
  else if (validateCohort(source).length > 0) cohort = null;
  else {
    const c = source as Cohort;
    const excluded = new Set(c.excluded ?? []);
    cohort = { included: new Set(c.included ?? []), excluded: excluded.size > 0 ? excluded : undefined, conditions: compileConditions(c.conditions) };
  }
  ruleset.cohorts.set(key, cohort);
  return cohort;
}

function prepareSplit(flag: Flag, arms: readonly SplitArm[], salt: string, rule: Rule | undefined): Result | Split {
  const reason: Reason = rule ? Reasons.RULE_MATCH : Reasons.DEFAULT;
  const ruleId = rule?.id;
  const plain = result(ruleId === undefined ? { enabled: true, reason } : { enabled: true, reason, ruleId });
  const results: Result[] = [];
  const cumulative: number[] = [];
  let total = 0;
  let first: Result | undefined;
  for (const arm of arms) {
    const r = variantResult(flag, arm.variant, reason, ruleId);
    total += arm.weight;
    cumulative.push(total);
    results.push(r);
    if (first === undefined && arm.weight > 0) first = r;
  }
  if (total === 0 || first === undefined) return plain;
  return { prefix: hashPrefix(salt, SPLIT_SEED), cumulative, total, results, first };
}

function variantResult(flag: Flag, variant: string, reason: Reason, ruleId: string | undefined): Result {
  const v = (flag.variants ?? []).find((x) => x.key === variant);
  const fields: { -readonly [K in keyof Result]: Result[K] } = { enabled: true, reason, variant };
  if (v !== undefined && v.value !== undefined) fields.value = v.value;
  if (ruleId !== undefined) fields.ruleId = ruleId;
  return result(fields);
}

function flagArms(flag: Flag): SplitArm[] {
  return (flag.variants ?? []).map((v) => ({ variant: v.key, weight: v.weight ?? 0 }));
}

function prepareFlag(ruleset: PreparedRuleset, key: string): PreparedFlag {
  const flags = ruleset.source.flags;
  const raw: unknown = Object.hasOwn(flags, key) ? flags[key] : undefined;
  if (raw === undefined) return fixedFlag(FLAG_NOT_FOUND);
  if (isObject(raw) && raw.enabled === false) return fixedFlag(result({ enabled: false, reason: Reasons.DISABLED }));
  const issues = validateFlag(raw);
  if (issues.length > 0) {
    const first = issues[0]!;
    return fixedFlag(error(ErrorCodes.INVALID_FLAG, `flag "${key}": ${first.path || 'flag'} ${first.message}`));
  }
  const flag = raw as unknown as Flag;
  const salt = flag.salt ?? key;
  const rules: PreparedRule[] = [];
  for (const rule of flag.rules ?? []) {
    const cohorts: (PreparedCohort | undefined)[] = [];
    for (const name of rule.cohorts ?? []) {
      const cohort = prepareCohort(ruleset, name);
      if (cohort === null) return fixedFlag(error(ErrorCodes.INVALID_COHORT, `cohort "${name}" breaks the schema`));
      cohorts.push(cohort);
    }
    const ruleSalt = rule.rollout?.salt ?? salt;
    const outcome =
      rule.variant !== undefined
        ? variantResult(flag, rule.variant, Reasons.RULE_MATCH, rule.id)
        : prepareSplit(flag, rule.split ?? flagArms(flag), ruleSalt, rule);
    rules.push({
      conditions: compileConditions(rule.conditions),
      cohorts,
      threshold: rule.rollout === undefined ? EVERYONE : Math.round(rule.rollout.percentage * 1000),
      bucketBy: rule.rollout?.bucketBy ?? 'key',
      rollout: hashPrefix(ruleSalt, 0),
      outcome,
    });
  }
  return {
    fixed: undefined,
    prerequisites: (flag.prerequisites ?? []).map((p) => ({
      flag: p.flag,
      enabled: p.enabled !== false,
      variants: p.variants !== undefined && p.variants.length > 0 ? new Set(p.variants) : undefined,
    })),
    rules,
    fallthrough: rules.length === 0 ? prepareSplit(flag, flagArms(flag), salt, undefined) : undefined,
    noMatch: result({ enabled: false, reason: Reasons.NO_MATCH }),
    prerequisiteFailed: result({ enabled: false, reason: Reasons.PREREQUISITE_FAILED }),
  };
}

/** The ruleset evaluated last: callers ask about one ruleset over and over, a WeakMap lookup each time costs. */
let last: PreparedRuleset | undefined;

function prepareRuleset(ruleset: Ruleset): PreparedRuleset {
  if (last !== undefined && last.source === ruleset) return last;
  let p = prepared.get(ruleset);
  if (p === undefined) {
    p = { source: ruleset, flags: new Map(), cohorts: new Map(), lastKey: undefined, lastFlag: undefined };
    prepared.set(ruleset, p);
  }
  last = p;
  return p;
}

/** The unit as a string, or undefined when missing or empty. */
function unitOf(context: Context, attribute: string): string | undefined {
  const value = context[attribute];
  if (typeof value === 'string') return value.length === 0 ? undefined : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

function pick(outcome: Result | Split, unit: string | undefined): Result {
  if (!('prefix' in outcome)) return outcome;
  if (unit === undefined) return outcome.first;
  const t = hashUnit(outcome.prefix, unit) % outcome.total;
  const { cumulative } = outcome;
  for (let i = 0; i < cumulative.length; i++) if (cumulative[i]! > t) return outcome.results[i]!;
  return outcome.first;
}

function inCohort(cohort: PreparedCohort | undefined, context: Context, now: number): boolean {
  if (cohort === undefined) return false;
  const key = unitOf(context, 'key') ?? (context.key === '' ? '' : undefined);
  if (key !== undefined && cohort.excluded !== undefined && cohort.excluded.has(key)) return false;
  if (key !== undefined && cohort.included.has(key)) return true;
  return cohort.conditions !== undefined && cohort.conditions(context, now);
}

const evaluating: string[] = [];

function evaluateFlag(ruleset: PreparedRuleset, key: string, context: Context, now: number, depth: number): Result {
  let flag = ruleset.lastKey === key ? ruleset.lastFlag : undefined;
  if (flag === undefined) {
    flag = ruleset.flags.get(key);
    if (flag === undefined) {
      flag = prepareFlag(ruleset, key);
      ruleset.flags.set(key, flag);
    }
    ruleset.lastKey = key;
    ruleset.lastFlag = flag;
  }
  if (flag.fixed !== undefined) return flag.fixed;

  if (flag.prerequisites.length > 0) {
    evaluating.push(key);
    try {
      for (const p of flag.prerequisites) {
        if (evaluating.includes(p.flag) || depth + 1 > MAX_PREREQUISITE_DEPTH) return depth === 0 ? flag.prerequisiteFailed : BROKEN_CHAIN;
        const r = evaluateFlag(ruleset, p.flag, context, now, depth + 1);
        if (r === BROKEN_CHAIN) return depth === 0 ? flag.prerequisiteFailed : BROKEN_CHAIN;
        const holds =
          r.reason !== Reasons.ERROR &&
          r.reason !== Reasons.FLAG_NOT_FOUND &&
          r.enabled === p.enabled &&
          (!p.enabled || p.variants === undefined || (r.variant !== undefined && p.variants.has(r.variant)));
        if (!holds) return flag.prerequisiteFailed;
      }
    } finally {
      evaluating.pop();
    }
  }

  if (flag.fallthrough !== undefined) return pick(flag.fallthrough, unitOf(context, 'key'));

  const { rules } = flag;
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i]!;
    if (rule.conditions !== undefined && !rule.conditions(context, now)) continue;
    let member = true;
    for (let c = 0; c < rule.cohorts.length && member; c++) member = inCohort(rule.cohorts[c], context, now);
    if (!member) continue;
    const unit = unitOf(context, rule.bucketBy);
    if (rule.threshold < EVERYONE) {
      if (unit === undefined || bucketOf(hashUnit(rule.rollout, unit)) >= rule.threshold) continue;
    }
    return pick(rule.outcome, unit);
  }
  return flag.noMatch;
}

/**
 * Evaluates one flag for one context (DESIGN §2). Never throws: problems become a result with
 * reason `ERROR`. The ruleset is prepared on first use and must not be mutated afterwards.
 */
export function evaluate(ruleset: Ruleset, flagKey: string, context?: Context | null, options?: EvaluateOptions): Result {
  try {
    if (!isObject(ruleset) || !isObject(ruleset.flags)) return INVALID_INPUT;
    const ctx = context === undefined || context === null ? EMPTY_CONTEXT : context;
    if (!isObject(ctx)) return INVALID_CONTEXT;
    const at = options?.now;
    // NaN: read the clock only if a date condition needs it.
    const now = at === undefined ? NaN : typeof at === 'number' ? at : at.getTime();
    // Balanced by the try/finally in evaluateFlag; writing `length` costs more than reading it.
    if (evaluating.length !== 0) evaluating.length = 0;
    // String() is a call into the runtime even for a string.
    return evaluateFlag(prepareRuleset(ruleset), typeof flagKey === 'string' ? flagKey : String(flagKey), ctx, now, 0);
  } catch (e) {
    return error(ErrorCodes.GENERAL, e instanceof Error ? e.message : String(e));
  }
}
