import { gzipSync } from 'node:zlib';
import { type Cohort, type Condition, type Flag, type Ruleset, compactCohort, isHeld, withParsedFlag, withParsedPatterns } from '@aviary/core';
import { type MembersPatch, applyPatch, patchCohort } from '@aviary/core/protocol';
import type { RulesetPatch } from '../changes/change.js';

export type { ChangeKind, RulesetChange, RulesetPatch } from '../changes/change.js';

/** Member sets by cohort object: the environments' rulesets, and their revisions while a cohort
 *  did not change, share one cohort object (`RulesetService.cohorts`), so its sets are built once.
 *  A list patched by a membership delta is a held one (`MemberSet`) and answers itself. */
const memberSets = new WeakMap<Cohort, { included: Lookup; excluded: Lookup }>();

/** Each cohort object's newest membership delta and its result: every environment applies the same
 *  delta to the same cohort object, and gets one shared result (members held once, not per environment). */
const patchedCohorts = new WeakMap<Cohort, { delta: string; cohort: Cohort }>();

interface Lookup {
  has(key: string): boolean;
}

/**
 * An environment's ruleset at one revision, immutable, with what serving it needs computed at
 * most once: its JSON, its gzip, the client-visible flags.
 */
export class RulesetSnapshot {
  private json?: string;
  private gzipped?: Buffer;

  constructor(
    readonly ruleset: Ruleset,
    readonly clientVisible: ReadonlySet<string>,
    /** The client-visible flags one revision earlier, when this snapshot was made by `apply`. */
    readonly visibleBefore?: ReadonlySet<string>,
  ) {}

  get revision(): number {
    return this.ruleset.revision;
  }

  /** The next snapshot, or undefined when the patch is not the next revision. The ruleset is
   *  patched by `@aviary/core/protocol`, as the SDKs patch theirs; visibility is the server's own. */
  apply(patch: RulesetPatch): RulesetSnapshot | undefined {
    if (patch.revision !== this.revision + 1) return undefined;
    const ruleset = applyPatch(this.ruleset, sharedDeltas(this.ruleset, patch), patch.revision);
    const visible = new Set(this.clientVisible);
    for (const [key, flag] of Object.entries(patch.flags ?? {})) if (flag === null) visible.delete(key);
    for (const [key, isVisible] of Object.entries(patch.clientVisible ?? {})) {
      if (isVisible && key in ruleset.flags) visible.add(key);
      else visible.delete(key);
    }
    return new RulesetSnapshot(ruleset, visible, this.clientVisible);
  }

  toJSON(): string {
    return (this.json ??= JSON.stringify(this.ruleset));
  }

  toGzip(): Buffer {
    return (this.gzipped ??= gzipSync(this.toJSON()));
  }

  /** What a client key may see for one user: client-visible flags, cohort lists cut to that user. */
  forClient(userKey: string | undefined): Ruleset {
    const flags: Record<string, Flag> = {};
    for (const key of this.clientVisible) {
      const flag = this.ruleset.flags[key];
      if (flag) flags[key] = clientFlag(flag);
    }
    const cohorts: Record<string, Cohort> = {};
    for (const [key, cohort] of Object.entries(this.ruleset.cohorts)) cohorts[key] = this.cohortForClient(cohort, userKey);
    return { environment: this.ruleset.environment, revision: this.revision, flags, cohorts };
  }

  private cohortForClient(cohort: Cohort, userKey: string | undefined): Cohort {
    let sets = memberSets.get(cohort);
    if (sets === undefined) {
      sets = { included: lookup(cohort.included), excluded: lookup(cohort.excluded) };
      memberSets.set(cohort, sets);
    }
    return clientCohort(cohort, userKey, userKey !== undefined && sets.included.has(userKey), userKey !== undefined && sets.excluded.has(userKey));
  }
}

/** A cohort list's membership test: a held list (`MemberSet`) answers itself, an array becomes a Set. */
function lookup(list: string[] | undefined): Lookup {
  return isHeld(list) ? list : new Set(list ?? []);
}

/**
 * The patch with its membership deltas (`members`) turned into whole cohorts, each the one result
 * shared by every environment that applies the same delta to the same cohort object.
 */
function sharedDeltas(ruleset: Ruleset, patch: RulesetPatch): RulesetPatch {
  if (patch.members === undefined) return patch;
  const { members, ...rest } = patch;
  const cohorts = { ...rest.cohorts };
  for (const [key, delta] of Object.entries(members)) {
    const base = key in cohorts ? cohorts[key] : ruleset.cohorts[key];
    // Written in the same transaction as the cohort: an environment holds every cohort.
    if (!base) continue;
    const id = JSON.stringify(delta);
    let done = patchedCohorts.get(base);
    // Large lists as MemberSets, which a delta patches without copying: the ones RulesetService
    // made right after reading the cohort (`compactCohort` remembers them), or made here.
    if (done?.delta !== id) patchedCohorts.set(base, (done = { delta: id, cohort: patchCohort(compactCohort(base), delta) }));
    cohorts[key] = done.cohort;
  }
  return { ...rest, cohorts };
}

function clientCohort(cohort: Cohort, userKey: string | undefined, included: boolean, excluded: boolean): Cohort {
  const own = (listed: boolean) => (listed && userKey !== undefined ? [userKey] : []);
  return { key: cohort.key, included: own(included), excluded: own(excluded), conditions: clientConditions(cohort.conditions ?? []) };
}

/** Flags and cohort conditions as client keys get them: with each `matches` pattern's parsed form
 *  (docs/protocol.md "Parsed patterns"), made once per flag object and per list of conditions. */
const clientFlags = new WeakMap<Flag, Flag>();
const clientConditionLists = new WeakMap<Condition[], Condition[]>();
function clientFlag(flag: Flag): Flag {
  let out = clientFlags.get(flag);
  if (out === undefined) clientFlags.set(flag, (out = withParsedFlag(flag)));
  return out;
}
function clientConditions(conditions: Condition[]): Condition[] {
  let out = clientConditionLists.get(conditions);
  if (out === undefined) clientConditionLists.set(conditions, (out = withParsedPatterns(conditions)));
  return out;
}

/**
 * A patch as a client key may see it: same revision, hidden flags dropped, cohorts cut to the user.
 * A flag that was visible and is now hidden or deleted goes out as `null`; a hidden flag's key never
 * goes out at all. Which of the two a `null` or a `clientVisible: false` is needs the visibility one
 * revision earlier: known when `snapshot` is the one this patch made (live changes), else only when
 * the flag is visible now. Otherwise the answer is undefined: send the client its whole ruleset.
 */
export function clientPatch(patch: RulesetPatch, snapshot: RulesetSnapshot, userKey: string | undefined): RulesetPatch | undefined {
  const out: RulesetPatch = { revision: patch.revision };
  if (patch.flags) {
    const before = snapshot.revision === patch.revision ? snapshot.visibleBefore : undefined;
    const flags: Record<string, Flag | null> = {};
    for (const [key, flag] of Object.entries(patch.flags)) {
      if (flag !== null && snapshot.clientVisible.has(key)) flags[key] = clientFlag(flag);
      else if (flag === null || patch.clientVisible?.[key] === false) {
        if (before?.has(key) || snapshot.clientVisible.has(key)) flags[key] = null;
        else if (before === undefined) return undefined;
      }
    }
    out.flags = flags;
  }
  if (patch.cohorts) {
    const cohorts: Record<string, Cohort | null> = {};
    const has = (list: string[] | undefined) => userKey !== undefined && list !== undefined && (isHeld(list) ? list.has(userKey) : keysOf(list).has(userKey));
    for (const [key, cohort] of Object.entries(patch.cohorts)) cohorts[key] = cohort === null ? null : clientCohort(cohort, userKey, has(cohort.included), has(cohort.excluded));
    out.cohorts = cohorts;
  }
  if (patch.members) {
    // Protocol 2: each delta cut to the user's own key (an empty delta when it does not name it).
    const members: Record<string, MembersPatch> = {};
    for (const [key, delta] of Object.entries(patch.members)) {
      const own: MembersPatch = (members[key] = {});
      if (userKey === undefined) continue;
      for (const list of ['include', 'exclude', 'remove'] as const) if (delta[list] !== undefined && keysOf(delta[list]).has(userKey)) own[list] = [userKey];
    }
    out.members = members;
  }
  return out;
}

/** A patch's list of keys as a Set, made once for every client stream the change is cut for: a
 *  search of the list per stream made a change naming 10,000 keys cost 150-170 ms of the event
 *  loop with 10,000 browser streams connected. */
const keySets = new WeakMap<readonly string[], ReadonlySet<string>>();
function keysOf(list: readonly string[]): ReadonlySet<string> {
  let keys = keySets.get(list);
  if (keys === undefined) keySets.set(list, (keys = new Set(list)));
  return keys;
}

/** The patch as SDKs receive it (without server-side bookkeeping). */
export function publicPatch(patch: RulesetPatch): RulesetPatch {
  const { clientVisible: _hidden, ...rest } = patch;
  return rest;
}
