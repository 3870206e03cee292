import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { FlagConfig, RolloutPlan } from '../src/admin-api.js';
import type { RoutedRequest } from '../src/router.js';
import { caughtAt, firstEvidence, firstStepExposureLimit, killTime, summarize, toTimeline } from '../src/summary.js';
import type { RunRecord } from '../src/timeline.js';

const T0 = Date.parse('2026-11-26T12:00:00.000Z');
const guard = { numerator: 'error', denominator: 'request', maxRelativeIncrease: 0.5, minSamples: 2 };

function entry(at: number, user: string, arm: 'v1' | 'v2', status = 200): RoutedRequest {
  return { sentAt: T0 + at, doneAt: T0 + at + 2, user, arm, status };
}

function record(log: RoutedRequest[], overrides: { flag?: Partial<FlagConfig>; plan?: Partial<RolloutPlan>; bugRate?: number; routerSawKillAt?: number | null } = {}): RunRecord {
  return {
    scenario: 'buggy',
    bugRate: overrides.bugRate ?? 0.2,
    baseErrorRate: 0,
    users: 10,
    guard,
    steps: [{ percentage: 10, holdSeconds: 1 }, { percentage: 100, holdSeconds: 1 }],
    startedAt: T0 - 1000,
    planStartedAt: T0,
    endedAt: T0 + 5000,
    stepStarts: [{ stepIndex: 0, percentage: 10, at: T0 }],
    samples: [],
    log,
    routerSawKillAt: overrides.routerSawKillAt ?? null,
    plan: {
      id: 'p1', environment: 'production', flag: 'checkout-v2', ruleId: 'r1', state: 'rolled-back', stepIndex: 0,
      steps: [], createdAt: new Date(T0).toISOString(), updatedAt: new Date(T0 + 3000).toISOString(),
      reason: 'guard error/request: …', verdict: { status: 'breach', z: 9, threshold: 4.26 }, ...overrides.plan,
    },
    flag: {
      flag: 'checkout-v2', environment: 'production', enabled: false, version: 5, revision: 9,
      rules: [{ id: 'r1', rollout: { percentage: 10 } }], updatedAt: new Date(T0 + 3000).toISOString(), ...overrides.flag,
    },
    load: { sent: log.length, skipped: 0, statuses: {}, durationMs: 6000 },
  };
}

describe('the run summary', () => {
  // Control: ten clean requests; exposed: errors from 1.5 s. Before the plan: an error that must not count.
  const log = [
    entry(-500, 'u9', 'v2', 500),
    ...Array.from({ length: 10 }, (_, i) => entry(100 * i, `u${i}`, 'v1')),
    entry(1500, 'u1', 'v2', 500),
    entry(1600, 'u2', 'v2', 500),
    entry(1700, 'u1', 'v2', 200),
    entry(3050, 'u3', 'v2', 200),
    entry(3500, 'u4', 'v1'),
  ];

  it('finds the first moment the router’s counts since the plan started breach the guard', () => {
    // The second exposed request completes the minimum samples; both failed.
    expect(firstEvidence(record(log))).toBe(T0 + 1602);
    expect(firstEvidence(record(log.filter((r) => r.arm === 'v1')))).toBeNull();
    // A false-alarm rate the evidence never reaches.
    expect(firstEvidence({ ...record(log), guard: { ...guard, falseAlarmRate: 1e-300 } })).toBeNull();
  });

  it('says at which step the guard caught the canary, and what a first-step catch may expose', () => {
    const rolledBack = record(log, { plan: { history: [{ at: new Date(T0).toISOString(), type: 'rolled-back', stepIndex: 0 } as never] } });
    expect(caughtAt(rolledBack)).toEqual({ step: 1, percentage: 10 });
    expect(caughtAt(record(log, { plan: { state: 'completed' } }))).toBeNull();
    // 10 % of 10 users, plus 10 % of one second's 300 requests.
    expect(firstStepExposureLimit({ users: 10, steps: [{ percentage: 10, holdSeconds: 1 }], ratePerSecond: 300, metricsIntervalMs: 1000 })).toBe(1 + 30);
  });

  it('a latency guard finds its evidence in the router\'s answer times', () => {
    const slow = [
      ...Array.from({ length: 10 }, (_, i) => ({ ...entry(100 * i, `u${i}`, 'v1'), doneAt: T0 + 100 * i + 10 + (i % 3) })),
      ...Array.from({ length: 10 }, (_, i) => ({ ...entry(1000 + 100 * i, `u${i}`, 'v2'), doneAt: T0 + 1000 + 100 * i + 40 + (i % 3) })),
    ];
    const guards = [guard, { metric: 'latency', maxRelativeIncrease: 0.2, minSamples: 5 }];
    expect(firstEvidence({ log: slow, planStartedAt: T0, guard, guards })).not.toBeNull();
    expect(firstEvidence({ log: slow, planStartedAt: T0, guard, guards: [guard] })).toBeNull();
  });

  it('derives the figures from the log, the plan and the flag', () => {
    const summary = summarize(record(log, { routerSawKillAt: T0 + 3012 }));
    expect(summary).toMatchObject({
      outcome: 'rolled-back',
      users: 10,
      requests: 16,
      requestsSkipped: 0,
      canaryRequests: 5,
      usersOnCanary: 4,
      usersExposedToBug: 4,
      usersWithCanaryErrors: 3,
      firstEvidenceAt: new Date(T0 + 1602).toISOString(),
      killAt: new Date(T0 + 3000).toISOString(),
      breachToKillMs: 1398,
      killToRouterMs: 12,
      killToLastCanaryRequestMs: 50,
      canaryRequestsAfterKill: 1,
      finalPercentage: 10,
      flagEnabled: false,
      planDurationMs: 3000,
      serverVerdict: { status: 'breach', z: 9, threshold: 4.26, exposed: null, control: null },
    });
    expect(summary.errorRate.v2).toBeCloseTo(3 / 5);
    expect(summary.errorRate.v1).toBe(0);
  });

  it('counts no one as exposed to a bug when v2 has none, and no kill figures when the flag is on', () => {
    const summary = summarize(record(log, { bugRate: 0, flag: { enabled: true }, plan: { state: 'completed' } }));
    expect(summary.usersExposedToBug).toBe(0);
    expect(summary.usersOnCanary).toBe(4);
    expect(summary.killAt).toBeNull();
    expect(summary.breachToKillMs).toBeNull();
    expect(summary.killToLastCanaryRequestMs).toBeNull();
    expect(summary.canaryRequestsAfterKill).toBeNull();
    expect(summary.planDurationMs).toBe(3000);
    expect(killTime(record(log, { flag: { enabled: true } }))).toBeNull();
  });

  it('marks steps, evidence and kill on the timeline in time order', () => {
    const r = record(log, { routerSawKillAt: T0 + 3012 });
    const markers = toTimeline(r, summarize(r)).markers;
    expect(markers.map((m) => [m.kind, m.t - T0])).toEqual([['step', 0], ['evidence', 1602], ['kill', 3000], ['router-kill', 3012]]);
  });
});

describe("the root README's demo table", () => {
  it('names its columns as summary.json does and shows the figures of apps/canary-demo/docs/summary.json', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const recorded = JSON.parse(readFileSync(new URL('../docs/summary.json', import.meta.url), 'utf8')) as Record<string, Record<string, unknown>>;
    const lines = readme.split('\n');
    const header = lines.findIndex((line) => line.startsWith('| `scenario` |'));
    expect(header, 'a table whose first column is `scenario`').toBeGreaterThan(0);
    const cells = (line: string) => line.split('|').slice(1, -1).map((cell) => cell.trim());
    const columns = cells(lines[header]!).map((cell) => cell.replaceAll('`', ''));
    const end = lines.findIndex((line, i) => i > header && !line.startsWith('|'));
    const rows = lines.slice(header + 2, end).map(cells);
    expect(rows.length).toBe(Object.keys(recorded).length);
    for (const row of rows) {
      const scenario = row[0]!.split(' ')[0]!;
      const summary = recorded[scenario]!;
      expect(summary, scenario).toBeDefined();
      columns.slice(1).forEach((column, i) => {
        expect(Object.keys(summary), column).toContain(column);
        const value = summary[column];
        const shown = value === null ? '–' : typeof value === 'number' ? value.toLocaleString('en-US') : String(value);
        expect(row[i + 1], `${scenario}.${column}`).toBe(shown);
      });
    }
  });
});
