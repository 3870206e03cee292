import { evaluateGuard, evaluateMeanGuard, type GuardSpec, type MeanGuardSpec } from '@aviary/guard';
import { isError, type RoutedRequest } from './router.js';
import type { RunRecord, ScenarioName, Timeline, TimelineMarker } from './timeline.js';

/** The figures that matter of one run (report/summary.json; README "What the figures mean"). */
export interface RunSummary {
  scenario: ScenarioName;
  /** What was wrong with the buggy v2: `errors` or `latency`. */
  bug: 'errors' | 'latency';
  bugRate: number;
  /** The step (1-based) whose guard look rolled the plan back; null when it was not rolled back. */
  caughtAtStep: number | null;
  /** That step's percentage. */
  caughtAtPercentage: number | null;
  /** Users the first step's share of `users` is, plus the users one metrics interval of canary
   *  traffic at that share can add: the most a canary caught at its first step should reach. */
  firstStepExposureLimit: number;
  /** Mean latency per version (router-measured milliseconds). */
  latencyMs: { v1: number | null; v2: number | null };
  /** `completed` or `rolled-back`; another plan state when the plan did not end in time. */
  outcome: string;
  /** Distinct users who sent at least one request. */
  users: number;
  /** Requests the router handled (its log). */
  requests: number;
  /** Requests the load generator skipped because 256 were already in flight (a saturated machine). */
  requestsSkipped: number;
  canaryRequests: number;
  /** Distinct users the router sent to v2 at least once. */
  usersOnCanary: number;
  /** Distinct users the router sent to v2 while v2 had a bug (bug rate > 0): everyone who could have hit it. */
  usersExposedToBug: number;
  /** Distinct users who got a 5xx from v2. */
  usersWithCanaryErrors: number;
  errorRate: { v1: number | null; v2: number | null };
  /** First moment the router's own counts since the plan started pass the guard's test. */
  firstEvidenceAt: string | null;
  /** The kill: when the flag config was switched off (the server's timestamp). */
  killAt: string | null;
  /** `killAt − firstEvidenceAt`: metrics reporting, the guard's next look, the write. */
  breachToKillMs: number | null;
  /** `killAt` → the router's SDK client applying the kill (the stream's propagation). */
  killToRouterMs: number | null;
  /** `killAt` → the last request the router sent to v2; ≤ 0 means none left after the kill. */
  killToLastCanaryRequestMs: number | null;
  /** Requests the router sent to v2 after `killAt`. */
  canaryRequestsAfterKill: number | null;
  /** The rule's percentage and the flag's state when the run ended. */
  finalPercentage: number | null;
  flagEnabled: boolean;
  /** Plan start → plan end (completed or killed). */
  planDurationMs: number | null;
  /** The plan's recorded reason (for a rollback, the guard and its numbers). */
  reason: string | null;
  /** The guard's last look on the server, with the counts it saw. */
  serverVerdict: {
    status: string;
    z: number | null;
    threshold: number | null;
    exposed: { numerator: number; denominator: number } | null;
    control: { numerator: number; denominator: number } | null;
  } | null;
}

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
const round = (ms: number | null) => (ms === null ? null : Math.round(ms));

/** The server counts a plan's events from the start of the 10 s metrics bucket holding its start. */
export const METRICS_BUCKET_MS = 10_000;

/**
 * Replays the router's log through the guard's test (the server's mSPRT, from @aviary/guard):
 * cumulative per-arm counts of requests sent since the plan's first metrics bucket began (as the
 * server counts), looked at after every answer, which the always-valid test allows; answers the
 * first time it breaches.
 */
export function firstEvidence(record: Pick<RunRecord, 'log' | 'planStartedAt' | 'guard' | 'guards'>): number | null {
  const since = Math.floor(record.planStartedAt / METRICS_BUCKET_MS) * METRICS_BUCKET_MS;
  const guards = record.guards ?? [record.guard];
  const exposed = { numerator: 0, denominator: 0, count: 0, sum: 0, sumSquares: 0 };
  const control = { numerator: 0, denominator: 0, count: 0, sum: 0, sumSquares: 0 };
  const byAnswer = [...record.log].sort((a, b) => a.doneAt - b.doneAt);
  for (const entry of byAnswer) {
    if (entry.sentAt < since) continue;
    const arm = entry.arm === 'v2' ? exposed : control;
    const latency = entry.doneAt - entry.sentAt;
    arm.denominator += 1;
    if (isError(entry.status)) arm.numerator += 1;
    arm.count += 1;
    arm.sum += latency;
    arm.sumSquares += latency * latency;
    const breached = guards.some((guard) =>
      guard.metric !== undefined
        ? evaluateMeanGuard(guard as MeanGuardSpec, exposed, control).breached
        : evaluateGuard(guard as GuardSpec, exposed, control).breached,
    );
    if (breached) return entry.doneAt;
  }
  return null;
}

/** The step the plan was at when its guard rolled it back (1-based), from its history. */
export function caughtAt(record: Pick<RunRecord, 'plan' | 'steps'>): { step: number; percentage: number } | null {
  if (record.plan.state !== 'rolled-back') return null;
  const rolledBack = record.plan.history?.find((h) => h.type === 'rolled-back');
  const index = rolledBack?.stepIndex ?? record.plan.stepIndex;
  if (index === null || index === undefined) return null;
  return { step: index + 1, percentage: record.steps[index]?.percentage ?? 0 };
}

/** The first step's share of the users, plus those one metrics interval at that share can add. */
export function firstStepExposureLimit(record: Pick<RunRecord, 'users' | 'steps' | 'ratePerSecond' | 'metricsIntervalMs'>): number {
  const share = (record.steps[0]?.percentage ?? 0) / 100;
  const interval = ((record.ratePerSecond ?? 0) * (record.metricsIntervalMs ?? 0)) / 1000;
  return Math.ceil(record.users * share) + Math.ceil(interval * share);
}

function distinctUsers(log: readonly RoutedRequest[], keep: (r: RoutedRequest) => boolean): number {
  const users = new Set<string>();
  for (const r of log) if (keep(r)) users.add(r.user);
  return users.size;
}

/** When the flag was killed: its config switched off, stamped by the server. */
export function killTime(record: Pick<RunRecord, 'flag'>): number | null {
  if (record.flag.enabled || !record.flag.updatedAt) return null;
  return Date.parse(record.flag.updatedAt);
}

function planEnd(record: RunRecord): number | null {
  if (record.plan.state === 'rolled-back') return killTime(record);
  if (record.plan.state === 'completed' || record.plan.state === 'cancelled') return Date.parse(record.plan.updatedAt);
  return null;
}

export function summarize(record: RunRecord): RunSummary {
  const { log } = record;
  const canary = log.filter((r) => r.arm === 'v2');
  const rate = (rs: readonly RoutedRequest[]) => (rs.length === 0 ? null : rs.filter((r) => isError(r.status)).length / rs.length);
  const meanLatency = (rs: readonly RoutedRequest[]) => (rs.length === 0 ? null : Math.round((10 * rs.reduce((sum, r) => sum + r.doneAt - r.sentAt, 0)) / rs.length) / 10);
  const buggy = record.bugRate > 0 || (record.slowFactor ?? 1) > 1;
  const caught = caughtAt(record);
  const killAt = killTime(record);
  const evidenceAt = firstEvidence(record);
  const lastCanary = canary.reduce<number | null>((last, r) => (last === null || r.sentAt > last ? r.sentAt : last), null);
  const end = planEnd(record);
  return {
    scenario: record.scenario,
    bug: record.bug ?? 'errors',
    bugRate: record.bugRate,
    caughtAtStep: caught?.step ?? null,
    caughtAtPercentage: caught?.percentage ?? null,
    firstStepExposureLimit: firstStepExposureLimit(record),
    latencyMs: { v1: meanLatency(log.filter((r) => r.arm === 'v1')), v2: meanLatency(canary) },
    outcome: record.plan.state,
    users: distinctUsers(log, () => true),
    requests: log.length,
    requestsSkipped: record.load.skipped,
    canaryRequests: canary.length,
    usersOnCanary: distinctUsers(canary, () => true),
    usersExposedToBug: buggy ? distinctUsers(canary, () => true) : 0,
    usersWithCanaryErrors: distinctUsers(canary, (r) => isError(r.status)),
    errorRate: { v1: rate(log.filter((r) => r.arm === 'v1')), v2: rate(canary) },
    firstEvidenceAt: iso(evidenceAt),
    killAt: iso(killAt),
    breachToKillMs: killAt !== null && evidenceAt !== null ? round(killAt - evidenceAt) : null,
    killToRouterMs: killAt !== null && record.routerSawKillAt !== null ? round(record.routerSawKillAt - killAt) : null,
    killToLastCanaryRequestMs: killAt !== null && lastCanary !== null ? round(lastCanary - killAt) : null,
    canaryRequestsAfterKill: killAt === null ? null : canary.filter((r) => r.sentAt > killAt).length,
    finalPercentage: record.flag.rules.find((r) => r.id === 'r1')?.rollout?.percentage ?? null,
    flagEnabled: record.flag.enabled,
    planDurationMs: end === null ? null : round(end - record.planStartedAt),
    reason: record.plan.reason ?? null,
    serverVerdict: record.plan.verdict
      ? {
          status: record.plan.verdict.status,
          z: record.plan.verdict.z ?? null,
          threshold: record.plan.verdict.threshold ?? null,
          exposed: record.plan.verdict.exposed ?? null,
          control: record.plan.verdict.control ?? null,
        }
      : null,
  };
}

/** The chart's view of a run: samples and the moments worth a vertical line. */
export function toTimeline(record: RunRecord, summary: RunSummary): Timeline {
  const markers: TimelineMarker[] = record.stepStarts.map((s) => ({ t: s.at, kind: 'step', label: `${s.percentage} %`, percentage: s.percentage }));
  if (summary.firstEvidenceAt) markers.push({ t: Date.parse(summary.firstEvidenceAt), kind: 'evidence', label: 'significant' });
  if (summary.killAt) markers.push({ t: Date.parse(summary.killAt), kind: 'kill', label: 'kill' });
  if (record.routerSawKillAt !== null) markers.push({ t: record.routerSawKillAt, kind: 'router-kill', label: 'router has kill' });
  if (record.plan.state === 'completed') markers.push({ t: Date.parse(record.plan.updatedAt), kind: 'completed', label: 'completed' });
  return {
    scenario: record.scenario,
    bug: record.bug ?? 'errors',
    bugRate: record.bugRate,
    startedAt: record.startedAt,
    planStartedAt: record.planStartedAt,
    endedAt: record.endedAt,
    steps: record.steps,
    samples: record.samples,
    markers: markers.sort((a, b) => a.t - b.t),
  };
}
