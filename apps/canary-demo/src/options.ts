import { parseArgs } from 'node:util';
import type { GuardConfig, RolloutStep } from './admin-api.js';

/** What is wrong with the buggy v2: it fails requests, or it is slow. */
export type BugKind = 'errors' | 'latency';
import type { ScenarioName } from './timeline.js';

export interface DemoOptions {
  scenarios: ScenarioName[];
  users: number;
  ratePerSecond: number;
  bug: BugKind;
  bugRate: number;
  /** `--bug latency`: v2's latency is this many times v1's. */
  bugLatencyFactor: number;
  baseErrorRate: number;
  latencyMs: number;
  /** The plan's maxHoldSeconds: how long a step may wait for the guards' evidence. */
  maxHoldSeconds: number;
  percentages: number[];
  holdSeconds: number;
  lastHoldSeconds: number;
  minSamples: number;
  maxRelativeIncrease: number;
  falseAlarmRate: number;
  warmupMs: number;
  tailMs: number;
  sampleMs: number;
  metricsIntervalMs: number;
  schedulerIntervalMs: number;
  /** How long past its holds a plan may take to end before the run gives up. */
  planGraceMs: number;
  seed: number;
  outDir: string | undefined;
  /** Re-render the report from a saved runs.json and exit. */
  render: string | undefined;
  verbose: boolean;
  help: boolean;
}

export const usage = `Usage: npm run demo -- [options]

Runs the canary demo twice (healthy v2, buggy v2) against an embedded Aviary server on 127.0.0.1
and writes report/report.html and report/summary.json.

  --quick                       both runs in under a minute (short holds, more traffic)
  --scenarios LIST              healthy,buggy (default both)
  --users N                     distinct users of the load (default 2000)
  --rps N                       requests per second (default 300; quick 600)
  --bug errors|latency          what is wrong with the buggy v2: it fails requests (default) or is slow
  --bug-rate X                  share of v2 requests that fail in the buggy run (default 0.2)
  --bug-latency-factor X        --bug latency: v2 answers this many times slower (default 2)
  --base-error-rate X           share of requests that fail in either version (default 0.005)
  --latency-ms N                service latency, jittered ±50 % (default 2; --bug latency 20)
  --steps LIST                  plan percentages (default 1,5,25,50,100; e.g. 0.1,1,5,25,50,100)
  --max-hold-seconds N          how long a step may wait for the guards' evidence (default: enough
                                for the first step to gather minSamples at its share of --rps, × 2)
  --hold-seconds N              hold of each step but the last (default 15; quick 3)
  --last-hold-seconds N         hold of the last step (default 5; quick 1)
  --min-samples N               guard minSamples per arm (default 200; quick 100)
  --max-relative-increase X     guard: breach when v2's error ratio > (1 + X) × v1's (default 0.5)
  --false-alarm-rate X          guard: false-alarm rate over the plan (default 0.01)
  --scheduler-interval-ms N     the server's rollout scheduler tick (default 200)
  --metrics-interval-ms N       how often the router's SDK reports metrics (default 1000)
  --sample-ms N                 timeline resolution (default 1000)
  --warmup-ms N                 traffic before the plan starts (default 3000; quick 1000)
  --tail-ms N                   traffic after the plan ends (default 5000; quick 2000)
  --plan-grace-seconds N        give up on a plan this long after its holds (default 60; quick 30)
  --seed N                      seed of the load's user picks (default 42)
  --out DIR                     where to write the report (default apps/canary-demo/report)
  --render FILE                 re-render the report from a saved runs.json, run nothing
  --verbose                     print the server's log
  --help`;

function number(name: string, raw: string | undefined, fallback: number, check: (v: number) => boolean, what: string): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (raw.trim() === '' || !check(value)) throw new Error(`--${name} must be ${what}, got "${raw}"`);
  return value;
}

const positiveInt = (v: number) => Number.isInteger(v) && v > 0;
const share = (v: number) => v >= 0 && v <= 1;

export function parseDemoArgs(argv: string[]): DemoOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      quick: { type: 'boolean', default: false },
      scenarios: { type: 'string' },
      users: { type: 'string' },
      rps: { type: 'string' },
      bug: { type: 'string' },
      'bug-rate': { type: 'string' },
      'bug-latency-factor': { type: 'string' },
      'max-hold-seconds': { type: 'string' },
      'base-error-rate': { type: 'string' },
      'latency-ms': { type: 'string' },
      steps: { type: 'string' },
      'hold-seconds': { type: 'string' },
      'last-hold-seconds': { type: 'string' },
      'min-samples': { type: 'string' },
      'max-relative-increase': { type: 'string' },
      'false-alarm-rate': { type: 'string' },
      'sample-ms': { type: 'string' },
      'metrics-interval-ms': { type: 'string' },
      'scheduler-interval-ms': { type: 'string' },
      'plan-grace-seconds': { type: 'string' },
      'warmup-ms': { type: 'string' },
      'tail-ms': { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      render: { type: 'string' },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const quick = values.quick;
  const scenarios = (values.scenarios ?? 'healthy,buggy').split(',').map((s) => s.trim()).filter(Boolean);
  for (const s of scenarios) if (s !== 'healthy' && s !== 'buggy') throw new Error(`--scenarios takes healthy and/or buggy, got "${s}"`);
  const percentages = (values.steps ?? '1,5,25,50,100').split(',').map((s) => Number(s));
  if (percentages.length === 0 || percentages.some((p, i) => !(p > 0 && p <= 100) || (i > 0 && p <= percentages[i - 1]!))) {
    throw new Error(`--steps must be rising percentages in (0, 100], got "${values.steps}"`);
  }
  const bug = values.bug ?? 'errors';
  if (bug !== 'errors' && bug !== 'latency') throw new Error(`--bug takes errors or latency, got "${bug}"`);
  const ratePerSecond = number('rps', values.rps, quick ? 600 : 300, (v) => v > 0 && v <= 20_000, 'a rate from 1 to 20000');
  const holdSeconds = number('hold-seconds', values['hold-seconds'], quick ? 3 : 15, (v) => v >= 0, 'seconds ≥ 0');
  const minSamples = number('min-samples', values['min-samples'], quick ? 100 : 200, positiveInt, 'a whole number ≥ 1');
  // The first step sees its share of the traffic: it must be able to gather minSamples per arm.
  const firstStepSeconds = minSamples / (ratePerSecond * (percentages[0]! / 100));
  const maxHoldSeconds = number('max-hold-seconds', values['max-hold-seconds'], Math.max(4 * holdSeconds, Math.ceil(2 * firstStepSeconds)), (v) => v >= holdSeconds, `seconds ≥ the hold (${holdSeconds})`);
  return {
    scenarios: scenarios as ScenarioName[],
    bug,
    bugLatencyFactor: number('bug-latency-factor', values['bug-latency-factor'], 2, (v) => v >= 1 && v <= 100, 'a factor from 1 to 100'),
    maxHoldSeconds,
    users: number('users', values.users, 2000, positiveInt, 'a whole number ≥ 1'),
    ratePerSecond,
    bugRate: number('bug-rate', values['bug-rate'], 0.2, share, 'a share from 0 to 1'),
    baseErrorRate: number('base-error-rate', values['base-error-rate'], 0.005, share, 'a share from 0 to 1'),
    latencyMs: number('latency-ms', values['latency-ms'], bug === 'latency' ? 20 : 2, (v) => v >= 0 && v <= 10_000, 'milliseconds ≥ 0'),
    percentages,
    holdSeconds,
    lastHoldSeconds: number('last-hold-seconds', values['last-hold-seconds'], quick ? 1 : 5, (v) => v >= 0, 'seconds ≥ 0'),
    minSamples,
    maxRelativeIncrease: number('max-relative-increase', values['max-relative-increase'], 0.5, (v) => v >= 0, 'a number ≥ 0'),
    falseAlarmRate: number('false-alarm-rate', values['false-alarm-rate'], 0.01, (v) => v > 0 && v < 1, 'a share in (0, 1)'),
    warmupMs: number('warmup-ms', values['warmup-ms'], quick ? 1000 : 3000, (v) => v >= 0, 'milliseconds ≥ 0'),
    tailMs: number('tail-ms', values['tail-ms'], quick ? 2000 : 5000, (v) => v >= 0, 'milliseconds ≥ 0'),
    sampleMs: number('sample-ms', values['sample-ms'], 1000, (v) => v >= 100, 'milliseconds ≥ 100'),
    metricsIntervalMs: number('metrics-interval-ms', values['metrics-interval-ms'], 1000, (v) => v >= 100, 'milliseconds ≥ 100'),
    schedulerIntervalMs: number('scheduler-interval-ms', values['scheduler-interval-ms'], 200, (v) => Number.isInteger(v) && v >= 10 && v <= 60_000, 'whole milliseconds from 10 to 60000'),
    planGraceMs: number('plan-grace-seconds', values['plan-grace-seconds'], quick ? 30 : 60, (v) => v > 0, 'seconds > 0') * 1000,
    seed: number('seed', values.seed, 42, Number.isInteger, 'an integer'),
    outDir: values.out,
    render: values.render,
    verbose: values.verbose,
    help: values.help,
  };
}

export function planSteps(options: Pick<DemoOptions, 'percentages' | 'holdSeconds' | 'lastHoldSeconds'>): RolloutStep[] {
  return options.percentages.map((percentage, i) => ({
    percentage,
    holdSeconds: i === options.percentages.length - 1 ? options.lastHoldSeconds : options.holdSeconds,
  }));
}

export function guardConfig(options: Pick<DemoOptions, 'minSamples' | 'maxRelativeIncrease' | 'falseAlarmRate'>): GuardConfig {
  return {
    numerator: 'error',
    denominator: 'request',
    maxRelativeIncrease: options.maxRelativeIncrease,
    minSamples: options.minSamples,
    falseAlarmRate: options.falseAlarmRate,
  };
}

/** The plan's guards: errors per request always; with `--bug latency` also the mean latency
 *  (the router tracks each answer's milliseconds), which may rise at most 20 %. */
export function guardsConfig(options: Pick<DemoOptions, 'bug' | 'minSamples' | 'maxRelativeIncrease' | 'falseAlarmRate'>): GuardConfig[] {
  const errors = guardConfig(options);
  if (options.bug !== 'latency') return [errors];
  return [errors, { metric: 'latency', maxRelativeIncrease: 0.2, minSamples: options.minSamples, falseAlarmRate: options.falseAlarmRate }];
}
