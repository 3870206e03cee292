import type { Cohort, Ruleset } from '../types.js';
import type { MembersPatch, RulesetDiff, RulesetPatch } from './types.js';

/**
 * The ruleset with the patch applied, as a new object: the base is left untouched (the evaluator
 * caches by identity), and a map the patch does not touch is shared.
 */
export function applyPatch(base: Ruleset, patch: RulesetPatch, revision: number): Ruleset {
  const cohorts = merge(base.cohorts, patch.cohorts);
  const { members } = patch;
  const patched = members ? { ...cohorts } : cohorts;
  for (const key in members) patched[key] = patchCohort(patched[key]!, members[key]!);
  return { ...base, revision, flags: merge(base.flags, patch.flags), cohorts: patched };
}

/**
 * The cohort with a membership delta applied, as a new object: `include` keys end up included
 * only, `exclude` keys excluded only, `remove` keys in neither. A list held as a `MemberSet`
 * patches itself without copying its keys; an array is copied.
 */
export function patchCohort(cohort: Cohort, delta: MembersPatch): Cohort {
  const { include = [], exclude = [], remove = [] } = delta;
  const named = new Set([...include, ...exclude, ...remove]);
  const list = (keys: string[] = [], add: string[]) =>
    (keys as unknown as Held).patched ? ((keys as unknown as Held).patched(named, add) as unknown as string[]) : [...keys.filter((key) => !named.has(key)), ...add];
  return { ...cohort, included: list(cohort.included, include), excluded: list(cohort.excluded, exclude) };
}

/** A cohort list held as something other than an array (`HeldMembers` of members.ts, which the browser does not bundle). */
interface Held {
  has(key: string): boolean;
  patched(drop: ReadonlySet<string>, add: readonly string[]): unknown;
}

/**
 * Applies a patch and tells what it changed, looking only at what the patch names (a patch carries
 * one or a few flags; the ruleset may hold thousands). The diff is the one `diffRulesets` gives for
 * the same two rulesets.
 */
export function patchRuleset(base: Ruleset, patch: RulesetPatch, revision: number): { ruleset: Ruleset; diff: RulesetDiff } {
  const ruleset = applyPatch(base, patch, revision);
  // A held list compares itself with the one a delta made from it by the delta alone (members.ts).
  return { ruleset, diff: diff(base, ruleset, Object.keys(patch.flags ?? {}), Object.keys({ ...patch.cohorts, ...patch.members })) };
}

/** The flags and cohorts that differ between two rulesets (as JSON data, members in any order), and the flags switched off. */
export function diffRulesets(before: Ruleset, after: Ruleset): RulesetDiff {
  return diff(before, after, union(before.flags, after.flags), union(before.cohorts, after.cohorts));
}

/** Whether two values of parsed JSON are the same data (object members in any order); stops at the first difference. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  // A cohort list held as a MemberSet (compactCohorts) compares itself, in any order.
  const held = (v: unknown) => typeof (v as { equalsJson?: unknown } | null)?.equalsJson == 'function';
  if (held(a) || held(b)) return held(a) ? (a as { equalsJson(o: unknown): boolean }).equalsJson(b) : sameJson(b, a);
  if (typeof a != 'object' || typeof b != 'object' || !a || !b || Array.isArray(a) != Array.isArray(b)) return false;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  // A member whose value is undefined does not exist in JSON.
  let members = 0;
  for (const key in x) {
    if (x[key] === undefined) continue;
    if (!sameJson(x[key], y[key])) return false;
    members++;
  }
  for (const key in y) if (y[key] !== undefined) members--;
  return members == 0;
}

function diff(before: Ruleset, after: Ruleset, flagKeys: string[], cohortKeys: string[]): RulesetDiff {
  const flags = changed(before.flags, after.flags, flagKeys);
  return {
    flags,
    cohorts: changed(before.cohorts, after.cohorts, cohortKeys),
    killed: flags.filter((key) => before.flags[key]?.enabled === true && after.flags[key]?.enabled === false),
  };
}

/** The keys, sorted, whose values differ. */
function changed(before: Record<string, unknown>, after: Record<string, unknown>, keys: string[]): string[] {
  return keys.filter((key) => !sameJson(before[key], after[key])).sort();
}

function union(a: object, b: object): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])];
}

/** `base` with `patch` applied (`null` removes), or `base` itself when there is no patch. */
function merge<T>(base: Record<string, T>, patch: Record<string, T | null> | undefined): Record<string, T> {
  if (!patch) return base;
  const out = { ...base };
  for (const key in patch) {
    const value = patch[key];
    if (value) out[key] = value;
    else delete out[key];
  }
  return out;
}
