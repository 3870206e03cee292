import type { Ruleset } from '../types.js';
import type { RulesetDiff, RulesetPatch } from './types.js';

/**
 * Applies a patch and tells what it changed, looking only at what the patch names (a patch carries
 * one or a few flags; the ruleset may hold thousands). The result is a new ruleset: the base is left
 * untouched (the evaluator caches by identity) and a map the patch does not touch is shared. The
 * diff is the one `diffRulesets` gives for the same two rulesets.
 */
export function patchRuleset(base: Ruleset, patch: RulesetPatch, revision: number): { ruleset: Ruleset; diff: RulesetDiff } {
  const diff: RulesetDiff = { flags: [], cohorts: [], killed: [] };
  const flags = patchMap(base.flags, patch.flags, diff.flags, diff.killed);
  const cohorts = patchMap(base.cohorts, patch.cohorts, diff.cohorts);
  return { ruleset: { ...base, revision, flags, cohorts }, diff };
}

/** The ruleset with the patch applied, as a new object (see `patchRuleset`). */
export function applyPatch(base: Ruleset, patch: RulesetPatch, revision: number): Ruleset {
  return patchRuleset(base, patch, revision).ruleset;
}

/** The flags and cohorts that differ between two rulesets (as JSON data, members in any order), and the flags switched off. */
export function diffRulesets(before: Ruleset, after: Ruleset): RulesetDiff {
  const flags = changedKeys(before.flags, after.flags);
  return { flags, cohorts: changedKeys(before.cohorts, after.cohorts), killed: flags.filter((key) => switchedOff(before.flags[key], after.flags[key])) };
}

/** Whether two values of parsed JSON are the same data (object members in any order); stops at the first difference. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a != 'object' || typeof b != 'object' || !a || !b || Array.isArray(a) != Array.isArray(b)) return false;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  // Members whose value is undefined do not exist in JSON.
  let members = 0;
  for (const key in x) {
    if (x[key] === undefined) continue;
    if (!sameJson(x[key], y[key])) return false;
    members++;
  }
  for (const key in y) if (y[key] !== undefined) members--;
  return members == 0;
}

function switchedOff(before: { enabled?: unknown } | undefined, after: { enabled?: unknown } | undefined): boolean {
  return before?.enabled === true && after?.enabled === false;
}

/** `base` with `patch` applied (`null` removes), recording the keys whose value changed in `changed`, sorted. */
function patchMap<T>(base: Record<string, T>, patch: Record<string, T | null> | undefined, changed: string[], killed?: string[]): Record<string, T> {
  if (!patch) return base;
  const out = { ...base };
  for (const key in patch) {
    const after = patch[key] ?? undefined;
    const before = Object.hasOwn(base, key) ? base[key] : undefined;
    if (after === undefined) delete out[key];
    else out[key] = after;
    if (sameJson(before, after)) continue;
    changed.push(key);
    if (killed && switchedOff(before as { enabled?: unknown }, after as { enabled?: unknown })) killed.push(key);
  }
  changed.sort();
  killed?.sort();
  return out;
}

function changedKeys(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const changed: string[] = [];
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (!sameJson(before[key], after[key])) changed.push(key);
  }
  return changed.sort();
}
