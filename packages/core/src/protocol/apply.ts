import { isObject, isStrings } from '../check.js';
import type { Cohort, Ruleset } from '../types.js';
import { diffRulesets, patchRuleset } from './patch.js';
import type { Applied, ProtocolState, RulesetDiff, RulesetPatch, StreamMessage } from './types.js';

/** A client that holds `ruleset` (a bootstrap, a stored one, or nothing), trusting its revision or not. */
export function initialState(ruleset?: Ruleset, trusted = false): ProtocolState {
  return { ruleset, revision: trusted ? ruleset?.revision : undefined, reload: false };
}

/** The revision to resume from (`Last-Event-ID`, `If-None-Match`), or undefined to ask for the whole ruleset. */
export function resumeRevision(state: ProtocolState): number | undefined {
  return state.reload ? undefined : state.revision;
}

/**
 * Applies one batch of stream events (those of one received chunk, or a single one) to `state`, by
 * the rules of docs/protocol.md:
 * - `ruleset` replaces the ruleset when its revision is above the client's, or when it is marked as
 *   a reset (the server's database no longer has the client's revision); otherwise it is ignored.
 * - `change` and `kill` apply at exactly revision + 1 (a `members` delta only to a cohort held);
 *   at or below the revision they are ignored (duplicates, out of order); above it, or unreadable,
 *   they mean a missed revision: nothing but a whole ruleset is applied until one arrives
 *   (`reload`), and the client reconnects for one.
 * - A kill is applied with the rest of the batch, before anyone hears of it; the events list every
 *   kill of the batch first, then the changes, one per revision. Nothing is reported for a batch
 *   that found no ruleset in place (the first one: the SDK says `ready` instead).
 * - The event id is the revision (the data's `revision` when there is no id). Other event types
 *   (`ping`, anything newer) are ignored.
 * Pure: the state passed in is left as it was. The body of `GET /sdk/v1/ruleset` is a `ruleset`
 * event without an id.
 */
export function applyMessages(state: ProtocolState, messages: readonly StreamMessage[]): Applied {
  let current = state;
  const held = state.ruleset;
  const events: Applied['events'] = [];
  const changes: Applied['events'] = [];
  const problems: string[] = [];
  let needsReload = false;
  const take = (next: Ruleset, diff?: RulesetDiff) => {
    const { revision } = next;
    const before = current.ruleset;
    current = { ruleset: next, revision, reload: false };
    if (!held) return;
    const { flags, cohorts, killed } = diff ?? diffRulesets(before!, next);
    if (killed.length) events.push(['kill', { revision, flags: killed }]);
    if (flags.length || cohorts.length) changes.push(['change', { revision, flags, cohorts }]);
  };

  for (const { event, id, data } of messages) {
    const whole = event == 'ruleset';
    if (!whole && event != 'change' && event != 'kill') continue;
    // JSON has no `undefined`: it stands for data that is not JSON.
    let body: unknown;
    try {
      body = JSON.parse(data);
    } catch {
      // reported below, as what the event should have been
    }
    const { ruleset, revision, reload } = current;
    const update = read(body, parseRevision(id), whole);
    if (!update) {
      problems.push(`the "${event}" event ${id || '(no id)'} is not ${body === undefined ? 'JSON' : whole ? 'a ruleset' : 'a patch with a revision'}`);
      // An unreadable patch is a missed revision; an unreadable ruleset is just not taken.
      if (whole || reload) continue;
    } else if (whole) {
      needsReload = false;
      if (revision === undefined || update.revision > revision || isReset(body)) take(toRuleset(update)!);
      // Not newer, but whole: it answers a pending reload all the same (the stream goes on from here).
      else current = { ...current, reload: false };
      continue;
    } else if (reload || (revision !== undefined && update.revision <= revision)) continue;
    // A membership delta for a cohort this client does not hold is a missed revision too.
    else if (ruleset && update.revision == revision! + 1 && Object.keys(update.members ?? {}).every((k) => isObject(update.cohorts && k in update.cohorts ? update.cohorts[k] : ruleset.cohorts[k]))) {
      const { ruleset: next, diff } = patchRuleset(ruleset, update, update.revision);
      take(next, diff);
      continue;
    }
    needsReload = true;
    current = { ...current, reload: true };
  }
  events.push(...changes);
  return { state: current, events, problems, needsReload };
}

function isRevision(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/** The data of a `ruleset` (`whole`) or `change`/`kill` event, with its revision, or undefined when it is not one. */
function read(value: unknown, id: number | undefined, whole: boolean): (RulesetPatch & { revision: number }) | undefined {
  if (!isObject(value)) return undefined;
  const { flags, cohorts, members } = value;
  const revision = id ?? value['revision'];
  return isRevision(revision) && (whole ? isObject(flags) : flags === undefined || isObject(flags)) && (cohorts === undefined || isObject(cohorts)) && (whole || isDeltas(members))
    ? { ...value, revision }
    : undefined;
}

/** Absent, or protocol 2's `members`: by cohort key, `include`/`exclude`/`remove` lists of keys. */
function isDeltas(members: unknown): boolean {
  return members === undefined || (isObject(members) && Object.values(members).every((d) => isObject(d) && [d['include'], d['exclude'], d['remove']].every((l) => l === undefined || isStrings(l))));
}

/** An event id made of ASCII digits (white space around allowed) as a revision; otherwise undefined. */
export function parseRevision(id: string | undefined): number | undefined {
  const digits = id?.trim();
  return digits && /^\d+$/.test(digits) && isRevision(+digits) ? +digits : undefined;
}

/** Whether a ruleset from the server is marked as a reset (docs/protocol.md "Resets"). */
export function isReset(value: unknown): boolean {
  return isObject(value) && value['reset'] === true;
}

/**
 * A ruleset from the server (a `ruleset` event's data, a poll's body, a bootstrap), normalised: the
 * revision from the event id when there is one, a missing environment or cohorts filled in, the
 * reset mark left out. Undefined when it is not one (flags are checked by the evaluator, not here).
 */
export function toRuleset(value: unknown, id?: number): Ruleset | undefined {
  const data = read(value, id, true);
  if (!data) return undefined;
  const { reset: _reset, ...ruleset } = data as typeof data & { reset?: unknown; environment?: unknown };
  return { ...(ruleset as Ruleset), environment: typeof ruleset.environment == 'string' ? ruleset.environment : '', cohorts: (ruleset.cohorts as Record<string, Cohort>) ?? {} };
}
