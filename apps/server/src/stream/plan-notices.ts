import { randomUUID } from 'node:crypto';
import type { PlanState } from '../rollouts/plan-lifecycle.js';
import type { ChangeBus } from './change-bus.js';
import type { LiveRulesets } from './live-rulesets.js';
import type { StreamHub } from './stream-hub.js';

/** A rollout plan changed (created, started, a step, paused, resumed, awaiting approval, finished,
 *  a warning). Not a ruleset change, so it has no revision and SDKs never see it. */
export interface PlanNotice {
  environment: string;
  environmentId: string;
  plan: string;
  flag: string;
  state: PlanState;
  /** The instance that committed it: Redis echoes messages to their sender. */
  origin?: string;
}

/**
 * Plan changes for the dashboard's live streams, on the change path's bus and hub: told here once
 * the plan's transaction committed, sent to this instance's streams and to the other instances.
 * Best effort like the bus; the dashboard also refetches an active plan every few seconds.
 */
export class PlanNotices {
  private readonly origin = randomUUID();

  constructor(
    private readonly bus: ChangeBus,
    private readonly hub: StreamHub,
    private readonly live: LiveRulesets,
  ) {}

  start(): void {
    this.bus.onPlan((notice) => void this.receive(notice));
  }

  committed(notice: PlanNotice): void {
    const own = { ...notice, origin: this.origin };
    void this.bus.publishPlan(own);
    this.hub.planChanged(own);
  }

  private async receive(notice: PlanNotice | null): Promise<void> {
    // Anything may arrive on a shared Redis channel.
    if (typeof notice?.environment !== 'string' || typeof notice.environmentId !== 'string' || notice.origin === this.origin) return;
    // Several installations may share a Redis: only ours.
    if ((await this.live.environmentKey(notice.environmentId)) !== notice.environment) return;
    this.hub.planChanged(notice);
  }
}
