import { describe, expect, it } from 'vitest';
import type { EntityManager } from 'typeorm';
import type { AppConfig } from '../config/config.js';
import type { MetricsService } from '../metrics/metrics.service.js';
import type { GuardVerdictView } from './dto/rollout-plan.dto.js';
import { GuardMonitor } from './guard-monitor.js';
import type { PlanRow, StoredGuard } from './rollout-plan.js';
import type { PlanFlagConfig, RolloutPlansRepository } from './rollout-plans.repository.js';

const manager = {} as EntityManager;
const now = new Date('2026-01-01T00:10:05.000Z');
const GUARD: StoredGuard = { numerator: 'error', denominator: 'request', maxRelativeIncrease: 0.5, minSamples: 100, falseAlarmRate: 0.01 };

interface Arm {
  numerator: number;
  denominator: number;
}

/** Stand-ins for the metrics and the repository that answer fixed counts and record what was asked. */
function monitorWith(counts: {
  guard?: { exposed: Arm; control: Arm };
  exposures?: { exposed: number; control: number };
  events?: number;
  previousFinish?: Date | null;
  config?: PlanFlagConfig;
}) {
  const asked: { guardSince?: Date; exposuresSince: Date[]; eventsSince?: Date } = { exposuresSince: [] };
  const metrics = {
    guardCounts: async (_m: EntityManager, _e: string, _f: string, _g: unknown, since: Date) => {
      asked.guardSince = since;
      return counts.guard!;
    },
    exposureCounts: async (_m: EntityManager, _e: string, _f: string, since: Date) => {
      asked.exposuresSince.push(since);
      return counts.exposures!;
    },
    eventCount: async (_m: EntityManager, _e: string, _f: string, _event: string, since: Date) => {
      asked.eventsSince = since;
      return counts.events!;
    },
  } as unknown as MetricsService;
  const plans = {
    previousFinish: async () => counts.previousFinish ?? null,
    flagConfig: async () => counts.config,
  } as unknown as RolloutPlansRepository;
  const monitor = new GuardMonitor({ schedulerIntervalMs: 1000 } as AppConfig, metrics, plans);
  return { monitor, asked };
}

function plan(overrides: Partial<PlanRow> = {}): PlanRow {
  return {
    id: 'p1', environment_id: 'e1', flag_id: 'f1', environment: 'production', flag: 'checkout', rule_id: 'r1', state: 'running',
    steps: [{ percentage: 10, holdSeconds: 60 }, { percentage: 100, holdSeconds: 0 }], guards: [GUARD], require_approval: false,
    step_index: 0, started_at: new Date('2026-01-01T00:00:04.000Z'), step_started_at: new Date('2026-01-01T00:09:03.000Z'),
    next_step_at: now, paused_remaining_ms: null, next_check_at: now, looks: 3, verdict: null, warnings: [], reason: null,
    created_by: 'admin', created_at: now, updated_at: now, finished_at: null, evidence_deadline_at: null, max_hold_seconds: null,
    on_insufficient_data: 'pause', ...overrides,
  };
}

const ONE_RULE: PlanFlagConfig = { enabled: true, rules: [{ id: 'r1', variant: 'on' } as never], prerequisites: [] };

describe('GuardMonitor.look', () => {
  const breaching = { exposed: { numerator: 30, denominator: 200 }, control: { numerator: 20, denominator: 2000 } };

  it('judges the counts since the plan started, counts the look and schedules the next one', async () => {
    const { monitor, asked } = monitorWith({ guard: breaching });
    const look = await monitor.look(manager, plan(), now);
    expect(asked.guardSince).toEqual(new Date('2026-01-01T00:00:04.000Z'));
    expect(look.verdict).toMatchObject({ status: 'breach', breached: true, looks: 4, at: now.toISOString(), exposed: breaching.exposed, guard: 'error/request' });
    expect(look.breach).toMatchObject({ guard: GUARD, look: { guard: 'error/request', status: 'breach' } });
    // The mSPRT's: log Λ must reach ln(1 / 1 %).
    expect(look.verdict.threshold).toBeCloseTo(Math.log(100), 9);
    expect(look.verdict.logLikelihoodRatio).toBeGreaterThan(look.verdict.threshold);
    expect(look.changes).toEqual({ next_check_at: new Date(now.getTime() + 1000), looks: 4, verdict: look.verdict });
  });

  it('spends no look on counts it has judged already', async () => {
    const last = { ...breaching, status: 'ok', looks: 3 } as unknown as GuardVerdictView;
    const { monitor } = monitorWith({ guard: breaching });
    const look = await monitor.look(manager, plan({ verdict: last }), now);
    expect(look.verdict).toBe(last);
    expect(look.changes).toEqual({ next_check_at: new Date(now.getTime() + 1000) });
  });

  it('several guards: any breach decides; one still without evidence keeps the plan at insufficient-data; mean guards read moments', async () => {
    const latency: StoredGuard = { metric: 'latency', maxRelativeIncrease: 0.2, minSamples: 50, falseAlarmRate: 0.01 };
    const slow = { exposed: { count: 200, sum: 200 * 300, sumSquares: 200 * (300 * 300 + 100) }, control: { count: 2000, sum: 2000 * 180, sumSquares: 2000 * (180 * 180 + 100) } };
    const healthy = { exposed: { numerator: 2, denominator: 200 }, control: { numerator: 20, denominator: 2000 } };
    const thin = { exposed: { numerator: 0, denominator: 10 }, control: { numerator: 20, denominator: 2000 } };
    const withMoments = (guard: { exposed: Arm; control: Arm }) => {
      const { monitor } = monitorWith({ guard });
      (monitor as unknown as { metrics: { metricMoments: unknown } }).metrics.metricMoments = async () => slow;
      return monitor;
    };
    const breached = await withMoments(healthy).look(manager, plan({ guards: [GUARD, latency] }), now);
    expect(breached.verdict).toMatchObject({ status: 'breach', guard: 'mean latency', exposedMean: 300, controlMean: 180 });
    expect(breached.verdict.guards!.map((g) => [g.guard, g.status])).toEqual([['error/request', 'ok'], ['mean latency', 'breach']]);
    expect(breached.breach?.guard).toBe(latency);
    const waiting = await withMoments(thin).look(manager, plan({ guards: [GUARD, { ...latency, maxRelativeIncrease: 5 }] }), now);
    expect(waiting.verdict).toMatchObject({ status: 'insufficient-data', guard: 'error/request', looks: 3 });
    expect(waiting.breach).toBeUndefined();
  });

  it('does not count a look without enough samples', async () => {
    const { monitor } = monitorWith({ guard: { exposed: { numerator: 5, denominator: 99 }, control: { numerator: 0, denominator: 5000 } } });
    const look = await monitor.look(manager, plan(), now);
    expect(look.verdict.status).toBe('insufficient-data');
    expect(look.changes.looks).toBe(3);
  });

  it("starts counting after the bucket in which a previous plan on the flag finished", async () => {
    const { monitor, asked } = monitorWith({ guard: breaching, previousFinish: new Date('2026-01-01T00:00:07.500Z') });
    await monitor.look(manager, plan(), now);
    expect(asked.guardSince).toEqual(new Date('2026-01-01T00:00:10.000Z'));
  });

  it('looks every tick, however long the plan (an always-valid test needs no budget of looks)', async () => {
    const { monitor } = monitorWith({ guard: breaching });
    const look = await monitor.look(manager, plan({ steps: [{ percentage: 10, holdSeconds: 2000 }] }), now);
    expect(look.changes.next_check_at).toEqual(new Date(now.getTime() + 1000));
  });
});

describe('GuardMonitor.stepWarnings', () => {
  it('warns of a hold without a single denominator event, counted from the step bucket', async () => {
    const { monitor, asked } = monitorWith({ events: 0, exposures: { exposed: 0, control: 0 }, config: ONE_RULE });
    expect(await monitor.stepWarnings(manager, plan())).toEqual([{ code: 'no-traffic', message: 'step 1 (10 %) held 60 s with no "request" events' }]);
    expect(asked.eventsSince).toEqual(new Date('2026-01-01T00:09:00.000Z'));
  });

  it('counts exposures as the traffic of an unguarded plan', async () => {
    const { monitor } = monitorWith({ exposures: { exposed: 0, control: 0 }, config: ONE_RULE });
    expect((await monitor.stepWarnings(manager, plan({ guards: [] })))[0]?.message).toBe('step 1 (10 %) held 60 s with no exposures');
  });

  it('warns of a sample-ratio mismatch where the split is exact, leaving the first bucket of a long hold out', async () => {
    // 580 of 5,000 against 10 %: chi2 = 80²/500 + 80²/4500 ≈ 14.2, p ≈ 1.6e-4 (below 0.001).
    const { monitor, asked } = monitorWith({ events: 5000, exposures: { exposed: 580, control: 4420 }, config: ONE_RULE });
    expect(await monitor.stepWarnings(manager, plan())).toEqual([
      { code: 'sample-ratio-mismatch', message: 'step 1: 580 exposed vs 4420 control exposures where 10 % exposed was expected (chi-square p = 1.62e-4)' },
    ]);
    expect(asked.exposuresSince).toEqual([new Date('2026-01-01T00:09:10.000Z')]);
  });

  it('accepts a split close to the percentage', async () => {
    // 560 of 5,000: chi2 = 8, p ≈ 0.005.
    const { monitor } = monitorWith({ events: 5000, exposures: { exposed: 560, control: 4440 }, config: ONE_RULE });
    expect(await monitor.stepWarnings(manager, plan())).toEqual([]);
  });

  it.each([
    ['another rule before it', { ...ONE_RULE, rules: [{ id: 'r0' } as never, ...ONE_RULE.rules] }],
    ['conditions on the rule', { ...ONE_RULE, rules: [{ id: 'r1', conditions: [{ attribute: 'country' }] } as never] }],
    ['a prerequisite', { ...ONE_RULE, prerequisites: [{ flag: 'other' }] }],
    ['the flag off', { ...ONE_RULE, enabled: false }],
  ])('does not test the split with %s (the share is not the percentage)', async (_what, config) => {
    const { monitor } = monitorWith({ events: 5000, exposures: { exposed: 900, control: 4100 }, config });
    expect(await monitor.stepWarnings(manager, plan())).toEqual([]);
  });

  it('checks nothing after a step without a hold', async () => {
    const { monitor } = monitorWith({ events: 0, exposures: { exposed: 900, control: 4100 }, config: ONE_RULE });
    expect(await monitor.stepWarnings(manager, plan({ steps: [{ percentage: 10, holdSeconds: 0 }] }))).toEqual([]);
  });
});
