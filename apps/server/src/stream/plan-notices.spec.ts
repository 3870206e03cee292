import { describe, expect, it } from 'vitest';
import { type PlanHandler, SingleInstanceBus } from './change-bus.js';
import type { LiveRulesets } from './live-rulesets.js';
import { type PlanNotice, PlanNotices } from './plan-notices.js';
import type { StreamHub } from './stream-hub.js';

/** A bus that keeps what is published and lets the test deliver messages as Redis would. */
class RecordingBus extends SingleInstanceBus {
  readonly published: PlanNotice[] = [];
  private handler?: PlanHandler;

  override async publishPlan(notice: PlanNotice): Promise<void> {
    this.published.push(notice);
  }

  override onPlan(handler: PlanHandler): void {
    this.handler = handler;
  }

  deliver(message: unknown): void {
    this.handler!(message as PlanNotice);
  }
}

function setUp() {
  const bus = new RecordingBus();
  const told: PlanNotice[] = [];
  const hub = { planChanged: (notice: PlanNotice) => told.push(notice) } as unknown as StreamHub;
  const live = { environmentKey: async (id: string) => (id === 'env-1' ? 'production' : undefined) } as unknown as LiveRulesets;
  const notices = new PlanNotices(bus, hub, live);
  notices.start();
  return { bus, told, notices };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));
const NOTICE: PlanNotice = { environment: 'production', environmentId: 'env-1', plan: 'p-1', flag: 'checkout', state: 'paused' };

describe('PlanNotices', () => {
  it('a committed plan change goes to this instance\'s streams and to the bus, marked with its origin', () => {
    const { bus, told, notices } = setUp();
    notices.committed(NOTICE);
    expect(told).toEqual([{ ...NOTICE, origin: expect.any(String) }]);
    expect(bus.published).toEqual(told);
  });

  it("ignores its own echo, another installation's environments and malformed messages; passes the other instances' on", async () => {
    const { bus, told, notices } = setUp();
    notices.committed(NOTICE);
    bus.deliver(bus.published[0]);
    bus.deliver({ ...NOTICE, origin: 'another-instance', environmentId: 'env-of-another-installation' });
    bus.deliver({ ...NOTICE, origin: 'another-instance', environment: 'staging' });
    bus.deliver({ origin: 'another-instance' });
    bus.deliver(null);
    await settle();
    expect(told).toHaveLength(1);
    bus.deliver({ ...NOTICE, origin: 'another-instance', state: 'running' });
    await settle();
    expect(told.at(-1)).toMatchObject({ state: 'running', origin: 'another-instance' });
    expect(told).toHaveLength(2);
  });
});
