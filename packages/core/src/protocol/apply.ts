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
 * - `change` and `kill` apply at exactly revision + 1; at or below the revision they are ignored
 *   (duplicates, out of order); above it, or unreadable, they mean a missed revision: nothing more
 *   is applied until a whole ruleset arrives (`reload`), and the client reconnects for one.
 * - A kill is applied with the rest of the batch, before anyone hears of it; the events list every
 *   kill of the batch first, then the changes, one per revision. Nothing is reported for a batch
 *   that found no ruleset in place (the first one: the SDK says `ready` instead).
 * - Other event types (`ping`, anything newer) are ignored.
 * Pure: the state passed in is left as it was.
 */
export function applyMessages(state: ProtocolState, messages: readonly StreamMessage[]): Applied {
  const steps: Steps = [];
  const applied: Applied = { state, events: [], problems: [], needsReload: false };
  for (const { event, id, data } of messages) {
    if (event != 'ruleset' && event != 'change' && event != 'kill') continue;
    const what = `a "${event}" event (id ${id || 'none'})`;
    // JSON has no `undefined`: it stands for data that is not JSON.
    let body: unknown;
    try {
      body = JSON.parse(data);
    } catch {
      // reported below, as what the event should have been
    }
    if (event == 'ruleset') take(applied, steps, body, parseRevision(id), what);
    else patch(applied, steps, body, parseRevision(id), what);
  }
  return report(applied, state.ruleset, steps);
}

/** Applies a whole ruleset from a poll (`GET /sdk/v1/ruleset`, already parsed) by the same rules as a `ruleset` event. */
export function applyRuleset(state: ProtocolState, body: unknown): Applied {
  const steps: Steps = [];
  const applied: Applied = { state, events: [], problems: [], needsReload: false };
  take(applied, steps, body, undefined, 'the polled ruleset');
  return report(applied, state.ruleset, steps);
}

type Steps = [Ruleset, RulesetDiff | undefined][];

function take(applied: Applied, steps: Steps, body: unknown, id: number | undefined, what: string): void {
  const ruleset = toRuleset(body, id);
  const { state } = applied;
  if (!ruleset) return void applied.problems.push(what + (body === undefined ? ' is not JSON' : ' is not a ruleset'));
  applied.needsReload = false;
  if (state.revision !== undefined && ruleset.revision <= state.revision) {
    if (!isReset(body)) {
      // Not newer, but whole: it answers a pending reload all the same (the stream goes on from here).
      if (state.reload) applied.state = { ...state, reload: false };
      return;
    }
    applied.reset = [state.revision, ruleset.revision];
  }
  steps.push([ruleset, undefined]);
  applied.state = { ruleset, revision: ruleset.revision, reload: false };
}

function patch(applied: Applied, steps: Steps, body: unknown, id: number | undefined, what: string): void {
  const { state } = applied;
  const patch = toPatch(body);
  const revision = id ?? patch?.revision;
  if (patch && revision !== undefined) {
    if (state.reload || (state.revision !== undefined && revision <= state.revision)) return;
    if (state.ruleset && revision == state.revision! + 1) {
      const { ruleset, diff } = patchRuleset(state.ruleset, patch, revision);
      steps.push([ruleset, diff]);
      applied.state = { ruleset, revision, reload: false };
      return;
    }
  } else {
    applied.problems.push(what + (body === undefined ? ' is not JSON' : ' is not a patch with a revision'));
    if (state.reload) return;
  }
  applied.gap ??= [state.revision, revision];
  applied.needsReload = true;
  applied.state = { ...state, reload: true };
}

/** Every kill of the batch first, then the changes; each step diffed against the one before when it was a whole ruleset. */
function report(applied: Applied, held: Ruleset | undefined, steps: Steps): Applied {
  if (!held) return applied;
  const diffs = steps.map(([ruleset, diff], i) => diff ?? diffRulesets(i ? steps[i - 1]![0] : held, ruleset));
  diffs.forEach(({ killed }, i) => killed.length && applied.events.push(['kill', { revision: steps[i]![0].revision, flags: killed }]));
  diffs.forEach(({ flags, cohorts }, i) => (flags.length || cohorts.length) && applied.events.push(['change', { revision: steps[i]![0].revision, flags, cohorts }]));
  return applied;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value == 'object' && value != null && !Array.isArray(value);
}

const isRevision = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;

/** An event id made of ASCII digits (white space around allowed) as a revision; otherwise undefined. */
export function parseRevision(id: string | undefined): number | undefined {
  const digits = id?.trim();
  return digits && /^\d+$/.test(digits) && isRevision(+digits) ? +digits : undefined;
}

/** Whether a ruleset from the server is marked as a reset (docs/protocol.md "Resets"). */
export function isReset(value: unknown): boolean {
  return isRecord(value) && value['reset'] === true;
}

/**
 * A ruleset from the server, normalised: the revision from the event id when there is one, a
 * missing environment or cohorts filled in, the reset mark left out. Undefined when it is not one
 * (flags are checked by the evaluator, not here).
 */
export function toRuleset(value: unknown, revision?: number): Ruleset | undefined {
  if (!isRecord(value) || !isRecord(value['flags']) || (value['cohorts'] !== undefined && !isRecord(value['cohorts']))) return undefined;
  const { reset: _reset, ...rest } = value;
  const rev = revision ?? value['revision'];
  if (!isRevision(rev)) return undefined;
  return { ...(rest as unknown as Ruleset), environment: typeof value['environment'] == 'string' ? value['environment'] : '', revision: rev, cohorts: (value['cohorts'] as Record<string, Cohort>) ?? {} };
}

/** A `change`/`kill` event's data as a patch, or undefined when it is not one. */
export function toPatch(value: unknown): RulesetPatch | undefined {
  if (!isRecord(value)) return undefined;
  const { revision, flags, cohorts } = value;
  if ((revision !== undefined && !isRevision(revision)) || (flags !== undefined && !isRecord(flags)) || (cohorts !== undefined && !isRecord(cohorts))) return undefined;
  return value as RulesetPatch;
}
