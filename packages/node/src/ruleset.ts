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
  return {
    ...(value as unknown as Ruleset),
    environment: typeof value['environment'] === 'string' ? value['environment'] : '',
    revision: rev,
    cohorts: (value['cohorts'] as Record<string, Cohort> | undefined) ?? {},
  };
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
  const flags = { ...base.flags };
  for (const [key, flag] of Object.entries(patch.flags ?? {})) {
    if (flag === null) delete flags[key];
    else flags[key] = flag;
  }
  const cohorts = { ...base.cohorts };
  for (const [key, cohort] of Object.entries(patch.cohorts ?? {})) {
    if (cohort === null) delete cohorts[key];
    else cohorts[key] = cohort;
  }
  return { ...base, revision, flags, cohorts };
}

/** The flags and cohorts that differ between two rulesets, and the flags switched off. */
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
    if (a === b) continue;
    if (a === undefined || b === undefined || JSON.stringify(a) !== JSON.stringify(b)) changed.push(key);
  }
  return changed.sort();
}
