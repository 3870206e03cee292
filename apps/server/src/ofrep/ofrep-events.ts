import type { ServerResponse } from 'node:http';
import { clientPatch, type RulesetChange, type RulesetSnapshot } from '../stream/snapshot.js';
import { writeFrame } from '../stream/sse.js';

/**
 * ADR-0008's notification: the SSE envelope's event is always `message`, the JSON data says
 * `refetchEvaluation`; `etag` is the revision to re-fetch at least (sent back as `flagConfigEtag`),
 * and the id lets an EventSource resume with `Last-Event-ID`.
 */
export function refetchEvent(revision: number): string {
  return `id: ${revision}\nevent: message\ndata: ${JSON.stringify({ type: 'refetchEvaluation', etag: String(revision) })}\n\n`;
}

/** Whether a change can alter what a client key evaluates: it touches a flag the key may see (now
 *  or one revision earlier) or a cohort (whole, or its members); the cut is the client SDK stream's own (`clientPatch`). */
function reachesClient(change: RulesetChange, snapshot: RulesetSnapshot): boolean {
  if (change.kind === 'ruleset') return true;
  const patch = clientPatch(change.patch, snapshot, undefined);
  if (patch === undefined) return true;
  return Object.keys({ ...patch.flags, ...patch.cohorts, ...patch.members }).length > 0;
}

/** The hub's `notify` for one OFREP stream: a refetch event for every change that can affect it. */
export function notifyRefetch(res: ServerResponse, client: boolean): (change: RulesetChange, snapshot: RulesetSnapshot) => void {
  return (change, snapshot) => {
    if (!client || reachesClient(change, snapshot)) writeFrame(res, refetchEvent(change.revision));
  };
}
