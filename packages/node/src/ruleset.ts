import type { Cohort, Flag, Ruleset } from '@aviary/core';

/** A `change` or `kill` event's data: whole flags and cohorts to upsert, `null` to remove. */
export interface RulesetPatch {
  revision?: number;
  flags?: Record<string, Flag | null>;
  cohorts?: Record<string, Cohort | null>;
}

/** What one update did, for the `change` and `kill` events. */
export interface RulesetDiff {
  /** Flags added, changed or removed. */
  flags: string[];
  /** Cohorts added, changed or removed. */
  cohorts: string[];
  /** Flags that were on and are now switched off (`enabled: false`). */
  killed: string[];
}

export const emptyRuleset: Ruleset = Object.freeze({
  environment: '',
  revision: 0,
  flags: Object.freeze({}) as Record<string, Flag>,
  cohorts: Object.freeze({}) as Record<string, Cohort>,
});

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether `value` has the shape of a Ruleset. Individual flags are checked by the evaluator, not here. */
export function isRuleset(value: unknown): value is Ruleset {
  return (
    isRecord(value) &&
    isRecord(value['flags']) &&
    (value['cohorts'] === undefined || isRecord(value['cohorts'])) &&
    typeof value['revision'] === 'number' &&
    Number.isSafeInteger(value['revision'])
  );
}

/** Normalises a ruleset from the server, taking the revision from the event id when one is given. */
export function toRuleset(value: unknown, revision?: number): Ruleset | undefined {
  if (!isRecord(value) || !isRecord(value['flags'])) return undefined;
  if (value['cohorts'] !== undefined && !isRecord(value['cohorts'])) return undefined;
  const rev = revision ?? value['revision'];
  if (typeof rev !== 'number' || !Number.isSafeInteger(rev)) return undefined;
  const ruleset: Ruleset & { reset?: unknown } = {
    ...(value as unknown as Ruleset),
    environment: typeof value['environment'] === 'string' ? value['environment'] : '',
    revision: rev,
    cohorts: (value['cohorts'] as Record<string, Cohort> | undefined) ?? {},
  };
  delete ruleset.reset;
  return ruleset;
}

/**
 * Whether a ruleset from the server is marked as a reset: the revision the client holds is from a
 * history the server's database no longer has (it was restored from an older backup), so this
 * ruleset replaces it although its revision is lower (docs/protocol.md "Resets").
 */
export function isReset(value: unknown): boolean {
  return isRecord(value) && value['reset'] === true;
}

export function toPatch(value: unknown): RulesetPatch | undefined {
  if (!isRecord(value)) return undefined;
  const { revision, flags, cohorts } = value;
  if (revision !== undefined && (typeof revision !== 'number' || !Number.isSafeInteger(revision))) return undefined;
  if (flags !== undefined && !isRecord(flags)) return undefined;
  if (cohorts !== undefined && !isRecord(cohorts)) return undefined;
  return value as RulesetPatch;
}

/** A new ruleset with the patch applied; the old one is left untouched (the evaluator may cache by identity). */
export function applyPatch(base: Ruleset, patch: RulesetPatch, revision: number): Ruleset {
  return patchRuleset(base, patch, revision).ruleset;
}

/**
 * Applies a patch and tells what it changed, looking only at what the patch names (a patch carries
 * one or a few flags; the ruleset may hold thousands). The diff is the one `diffRulesets` gives for
 * the same two rulesets: a named flag or cohort counts when it is added, removed, or no longer
 * equal as JSON data (an object with the same members in another order counts as equal).
 */
export function patchRuleset(base: Ruleset, patch: RulesetPatch, revision: number): { ruleset: Ruleset; diff: RulesetDiff } {
  const changedFlags: string[] = [];
  const killed: string[] = [];
  let flags = base.flags;
  const patchFlags = patch.flags;
  if (patchFlags !== undefined) {
    flags = { ...base.flags };
    for (const key in patchFlags) {
      if (!Object.hasOwn(patchFlags, key)) continue;
      const after = patchFlags[key] ?? undefined;
      const before = Object.hasOwn(base.flags, key) ? base.flags[key] : undefined;
      if (after === undefined) delete flags[key];
      else flags[key] = after;
      if (sameJson(before, after)) continue;
      changedFlags.push(key);
      if (isRecord(before) && before['enabled'] === true && isRecord(after) && after['enabled'] === false) killed.push(key);
    }
  }
  const changedCohorts: string[] = [];
  let cohorts = base.cohorts;
  const patchCohorts = patch.cohorts;
  if (patchCohorts !== undefined) {
    cohorts = { ...base.cohorts };
    for (const key in patchCohorts) {
      if (!Object.hasOwn(patchCohorts, key)) continue;
      const after = patchCohorts[key] ?? undefined;
      const before = Object.hasOwn(base.cohorts, key) ? base.cohorts[key] : undefined;
      if (after === undefined) delete cohorts[key];
      else cohorts[key] = after;
      if (!sameJson(before, after)) changedCohorts.push(key);
    }
  }
  if (changedFlags.length > 1) changedFlags.sort();
  if (killed.length > 1) killed.sort();
  if (changedCohorts.length > 1) changedCohorts.sort();
  return { ruleset: { ...base, revision, flags, cohorts }, diff: { flags: changedFlags, cohorts: changedCohorts, killed } };
}

/** Whether two values of parsed JSON are the same data (members in any order); stops at the first difference. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let members = 0;
  for (const key in x) {
    if (!Object.hasOwn(x, key) || x[key] === undefined) continue;
    if (!Object.hasOwn(y, key) || !sameJson(x[key], y[key])) return false;
    members++;
  }
  for (const key in y) if (Object.hasOwn(y, key) && y[key] !== undefined) members--;
  return members === 0;
}

/**
 * The flags and cohorts that differ between two rulesets (as JSON data, members in any order), and
 * the flags switched off.
 */
export function diffRulesets(before: Ruleset, after: Ruleset): RulesetDiff {
  const flags = changedKeys(before.flags, after.flags);
  const killed = flags.filter((key) => before.flags[key]?.enabled === true && after.flags[key]?.enabled === false);
  return { flags, cohorts: changedKeys(before.cohorts, after.cohorts), killed };
}

function changedKeys(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  const changed: string[] = [];
  for (const key of keys) {
    const a = before[key];
    const b = after[key];
    if (!sameJson(a, b)) changed.push(key);
  }
  return changed.sort();
}
