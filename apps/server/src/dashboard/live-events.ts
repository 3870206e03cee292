import type { ServerResponse } from 'node:http';
import type { RulesetChange } from '../stream/snapshot.js';
import { writeFrame } from '../stream/sse.js';
import type { PlanNotice } from '../stream/plan-notices.js';
import type { LiveEventView, PlanEventView } from './flag-list.view.js';

/** What changed in a revision, by key, without the values: the dashboard refetches what it shows. */
export function liveEvent(change: RulesetChange): LiveEventView {
  const keys = (record: Record<string, unknown> | undefined) => (change.kind === 'ruleset' ? [] : Object.keys(record ?? {}));
  return { environment: change.environment, revision: change.revision, kind: change.kind, flags: keys(change.patch.flags), cohorts: keys({ ...change.patch.cohorts, ...change.patch.members }) };
}

/** The hub's `notify` for one dashboard stream: one `change` event per revision, id = revision. */
export function notifyDashboard(res: ServerResponse): (change: RulesetChange) => void {
  return (change) => {
    writeFrame(res, `id: ${change.revision}\nevent: change\ndata: ${JSON.stringify(liveEvent(change))}\n\n`);
  };
}

/** The hub's `onPlan` for one dashboard stream: `event: plan`, without an id, so the stream's
 *  resume point stays the revision. */
export function notifyDashboardOfPlan(res: ServerResponse): (notice: PlanNotice) => void {
  return ({ environment, plan, flag, state }) => {
    const event: PlanEventView = { environment, plan, flag, state };
    writeFrame(res, `event: plan\ndata: ${JSON.stringify(event)}\n\n`);
  };
}
