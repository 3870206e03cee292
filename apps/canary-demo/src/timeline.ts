import type { FlagConfig, GuardConfig, PlanState, RolloutPlan, RolloutStep } from './admin-api.js';
import type { LoadStats } from './load.js';
import type { Arm, ArmCounts, RoutedRequest } from './router.js';

export type ScenarioName = 'healthy' | 'buggy';

/** One sampling interval: the router's own counts in it, and the plan as the server showed it. */
export interface TimelineSample {
  /** Start and end of the interval (wall clock, ms). */
  from: number;
  t: number;
  counts: Record<Arm, ArmCounts>;
  planState: PlanState | null;
  stepIndex: number | null;
  /** The rule's rollout percentage in the flag config at that moment. */
  percentage: number | null;
  flagEnabled: boolean | null;
  /** The guard's last verdict on the plan (`ok`, `breach`, `insufficient-data`, …). */
  verdict: string | null;
  z: number | null;
}

export type MarkerKind = 'step' | 'evidence' | 'kill' | 'router-kill' | 'completed';

export interface TimelineMarker {
  t: number;
  kind: MarkerKind;
  label: string;
  /** Step markers: the percentage the step set. */
  percentage?: number;
}

/** What a chart and the report need of one run; serialisable (report/runs.json). */
export interface Timeline {
  scenario: ScenarioName;
  bug?: 'errors' | 'latency';
  bugRate: number;
  /** Load started (wall clock, ms). */
  startedAt: number;
  /** The plan started: the zero of the chart's time axis. */
  planStartedAt: number;
  endedAt: number;
  steps: RolloutStep[];
  samples: TimelineSample[];
  markers: TimelineMarker[];
}

/** Everything one scenario run produced, including the router's full log. */
export interface RunRecord {
  scenario: ScenarioName;
  /** What is wrong with the buggy v2 (older runs.json: errors). */
  bug?: 'errors' | 'latency';
  bugRate: number;
  slowFactor?: number;
  baseErrorRate: number;
  users: number;
  ratePerSecond?: number;
  metricsIntervalMs?: number;
  guard: GuardConfig;
  guards?: GuardConfig[];
  steps: RolloutStep[];
  startedAt: number;
  planStartedAt: number;
  endedAt: number;
  /** Steps as observed on the plan: index, percentage and the server's start time. */
  stepStarts: Array<{ stepIndex: number; percentage: number; at: number }>;
  samples: TimelineSample[];
  log: readonly RoutedRequest[];
  /** When the router's SDK client received the kill (wall clock, ms). */
  routerSawKillAt: number | null;
  plan: RolloutPlan;
  flag: FlagConfig;
  load: LoadStats;
}
