import { setTimeout as sleep } from 'node:timers/promises';
import { type AviaryClient, createClient } from '@aviary/node';
import type { AdminApi, GuardConfig, RolloutPlan, RolloutStep } from './admin-api.js';
import type { BugKind } from './options.js';
import { type ChildHandle, listeningLine, startChild } from './children.js';
import { wallClock } from './http.js';
import { type LoadGenerator, startLoad } from './load.js';
import { arms, type Arm, type ArmCounts, type Router, startRouter } from './router.js';
import { METRICS_BUCKET_MS } from './summary.js';
import type { RunRecord, ScenarioName, TimelineSample } from './timeline.js';

export const FLAG = 'checkout-v2';
export const ENVIRONMENT = 'production';
export const RULE_ID = 'r1';

const terminal = new Set(['completed', 'rolled-back', 'cancelled']);

export interface ScenarioOptions {
  scenario: ScenarioName;
  bug: BugKind;
  bugRate: number;
  /** The slow v2's latency factor (`bug: 'latency'`; 1 in a healthy run). */
  slowFactor: number;
  baseErrorRate: number;
  latencyMs: number;
  users: number;
  ratePerSecond: number;
  steps: RolloutStep[];
  guard: GuardConfig;
  /** Every guard of the plan (`guard` is the first). */
  guards: GuardConfig[];
  maxHoldSeconds: number;
  /** Traffic before the plan starts, all on v1. */
  warmupMs: number;
  /** The plan starts no earlier (wall clock, ms): see `freshBucketAfter`. */
  planNotBefore?: number;
  /** Traffic after the plan ended, to show where it settles. */
  tailMs: number;
  sampleMs: number;
  metricsIntervalMs: number;
  /** Gives up on a plan that has not ended this long after its holds. */
  planGraceMs: number;
  seed: number;
}

/** What a scenario needs that outlives it: the server, its admin API, a server key. */
export interface DemoEnvironment {
  serverUrl: string;
  admin: AdminApi;
  sdkKey: string;
  /** dist/service.js, the checkout service's entry. */
  serviceEntry: string;
  log: (message: string) => void;
}

async function startService(env: DemoEnvironment, name: Arm, options: ScenarioOptions, bugRate: number, slowFactor = 1): Promise<ChildHandle> {
  return startChild({
    name: `checkout ${name}`,
    args: [
      env.serviceEntry, '--name', name, '--bug-rate', String(bugRate),
      '--base-error-rate', String(options.baseErrorRate), '--latency-ms', String(options.latencyMs), '--slow-factor', String(slowFactor),
    ],
    ready: listeningLine,
    timeoutMs: 15_000,
  });
}

/** The plan's own record of its steps (exact server times), when it has a history. */
function stepsFromHistory(plan: RolloutPlan): RunRecord['stepStarts'] | undefined {
  if (!plan.history) return undefined;
  return plan.history
    .filter((h) => h.type === 'step' && typeof h.stepIndex === 'number')
    .map((h) => ({ stepIndex: h.stepIndex!, percentage: h.percentage ?? plan.steps[h.stepIndex!]?.percentage ?? 0, at: Date.parse(h.at) }));
}

/**
 * The server counts a plan's events from the start of the 10 s metrics bucket holding the plan's
 * start, and the flag is the same in every run: a plan must start in a bucket the previous run's
 * traffic (reported up to its client's close) did not reach, or its exposed arm would begin with
 * the previous run's v2 requests.
 */
export function freshBucketAfter(previousRunEnd: number, bucketMs = METRICS_BUCKET_MS): number {
  return (Math.floor(previousRunEnd / bucketMs) + 1) * bucketMs + 250;
}

const percent = (value: number) => `${Number((value * 100).toFixed(1))} %`;

/**
 * One run: v1 and v2 as processes, a fresh router with its own SDK client, the flag back at 0 %,
 * load, then a rollout plan started through the admin API and watched every `sampleMs` until it
 * ends (plus a tail), while the router logs every request it sends.
 */
export async function runScenario(env: DemoEnvironment, options: ScenarioOptions): Promise<RunRecord> {
  const tag = `[${options.scenario}]`;
  const v1 = await startService(env, 'v1', options, 0);
  const children: ChildHandle[] = [v1];
  let client: AviaryClient | undefined;
  let router: Router | undefined;
  let load: LoadGenerator | undefined;
  try {
    children.push(await startService(env, 'v2', options, options.bugRate, options.slowFactor));
    const v2 = children[1]!;
    const bug = options.slowFactor > 1 ? `${options.slowFactor} × slower` : `bug rate ${percent(options.bugRate)}`;
    env.log(`${tag} v1 on :${v1.port} (pid ${v1.pid}), v2 on :${v2.port} (pid ${v2.pid}, ${bug})`);

    await env.admin.putFlagConfig(ENVIRONMENT, FLAG, {
      enabled: true,
      rules: [{ id: RULE_ID, conditions: [], rollout: { percentage: 0 } }],
      reason: `canary demo: ${options.scenario} run starts at 0 %`,
    });

    let routerSawKillAt: number | null = null;
    client = createClient({
      url: env.serverUrl,
      sdkKey: env.sdkKey,
      metricsIntervalMs: options.metricsIntervalMs,
      readyTimeoutMs: 15_000,
      logger: { error: (m: string) => env.log(`${tag} sdk: ${m}`), warn: (m: string) => env.log(`${tag} sdk: ${m}`) },
    });
    client.on('kill', (event) => {
      if (routerSawKillAt === null && event.flags.includes(FLAG)) routerSawKillAt = wallClock();
    });
    await client.ready();
    if (!client.initialized) throw new Error(`${tag} the router's SDK client got no ruleset from ${env.serverUrl}`);

    router = await startRouter({ gate: client, flag: FLAG, upstreams: { v1: `http://127.0.0.1:${v1.port}`, v2: `http://127.0.0.1:${v2.port}` } });
    // A step may hold up to maxHoldSeconds while the guards gather evidence.
    const holdMs = options.steps.reduce((sum, s) => sum + Math.max(s.holdSeconds, options.maxHoldSeconds) * 1000, 0);
    const warmupMs = Math.max(options.warmupMs, (options.planNotBefore ?? 0) - wallClock());
    if (warmupMs > options.warmupMs) env.log(`${tag} warming up for ${(warmupMs / 1000).toFixed(1)} s: the plan starts in a fresh metrics bucket`);
    const loadMs = warmupMs + holdMs + options.planGraceMs + options.tailMs + 1000;
    load = startLoad({
      target: router.url,
      users: options.users,
      ratePerSecond: options.ratePerSecond,
      durationMs: loadMs,
      maxRequests: Math.ceil((options.ratePerSecond * loadMs) / 1000),
      seed: options.seed,
    });
    const startedAt = wallClock();
    const samples: TimelineSample[] = [];
    const observedSteps: RunRecord['stepStarts'] = [];
    let observedStep: number | null = null;
    let previous: Record<Arm, ArmCounts> = router.counts();
    let from = startedAt;
    let plan: RolloutPlan | undefined;
    let planStartedAt = Number.NaN;
    let endedAt: number | undefined;
    let giveUpAt = Number.POSITIVE_INFINITY;
    let next = startedAt + options.sampleMs;

    // Samples from the start of the load; the plan starts once the warm-up is over.
    for (;;) {
      const planDue = plan === undefined ? startedAt + warmupMs : Number.POSITIVE_INFINITY;
      await sleep(Math.max(0, Math.min(next, planDue) - wallClock()));
      if (plan === undefined && wallClock() >= planDue) {
        plan = await env.admin.createPlan(ENVIRONMENT, FLAG, {
          ruleId: RULE_ID,
          steps: options.steps,
          guards: options.guards,
          maxHoldSeconds: options.maxHoldSeconds,
          requireApproval: false,
          start: true,
          reason: `canary demo: ${options.scenario} v2`,
        });
        planStartedAt = Date.parse(plan.startedAt ?? plan.stepStartedAt ?? plan.createdAt);
        giveUpAt = planStartedAt + holdMs + options.planGraceMs;
        env.log(`${tag} plan ${plan.id} started: ${options.steps.map((s) => `${s.percentage} %`).join(' → ')}`);
        continue;
      }
      next += options.sampleMs;
      const [planNow, flagNow] = await Promise.all([
        plan === undefined ? undefined : env.admin.getPlan(plan.id),
        env.admin.getFlagConfig(ENVIRONMENT, FLAG),
      ]);
      const t = wallClock();
      const totals = router.counts();
      const counts = Object.fromEntries(arms.map((arm) => [arm, {
        requests: totals[arm].requests - previous[arm].requests,
        errors: totals[arm].errors - previous[arm].errors,
      }])) as Record<Arm, ArmCounts>;
      previous = totals;
      const percentage = flagNow.rules.find((r) => r.id === RULE_ID)?.rollout?.percentage ?? null;
      samples.push({
        from, t, counts, planState: planNow?.state ?? null, stepIndex: planNow?.stepIndex ?? null, percentage,
        flagEnabled: flagNow.enabled, verdict: planNow?.verdict?.status ?? null, z: planNow?.verdict?.z ?? null,
      });
      from = t;
      if (planNow === undefined) continue;
      plan = planNow;
      const index = planNow.stepIndex;
      if (index !== null && index !== observedStep && planNow.state !== 'rolled-back' && planNow.state !== 'cancelled') {
        observedStep = index;
        observedSteps.push({ stepIndex: index, percentage: options.steps[index]?.percentage ?? percentage ?? 0, at: planNow.stepStartedAt ? Date.parse(planNow.stepStartedAt) : t });
        env.log(`${tag} step ${index + 1}/${options.steps.length}: ${options.steps[index]?.percentage} %`);
      }
      const seen = counts.v1.requests + counts.v2.requests;
      env.log(
        `${tag} t+${((t - planStartedAt) / 1000).toFixed(1)} s  ${planNow.state.padEnd(11)} rule ${percentage ?? '?'} %  ` +
        `on v2 ${seen ? percent(counts.v2.requests / seen) : '–'}  ` +
        `errors v1 ${counts.v1.requests ? percent(counts.v1.errors / counts.v1.requests) : '–'} ` +
        `v2 ${counts.v2.requests ? percent(counts.v2.errors / counts.v2.requests) : '–'}` +
        (typeof planNow.verdict?.z === 'number' ? `  z ${planNow.verdict.z.toFixed(2)}` : ''),
      );
      if (endedAt === undefined && terminal.has(planNow.state)) {
        endedAt = t;
        env.log(`${tag} plan ${planNow.state}${planNow.reason ? `: ${planNow.reason}` : ''}`);
      }
      if (endedAt !== undefined && t >= endedAt + options.tailMs) break;
      if (endedAt === undefined && t >= giveUpAt) {
        env.log(`${tag} the plan has not ended ${Math.round((t - planStartedAt) / 1000)} s after it started; giving up (state ${planNow.state})`);
        // Cancelled, so the next scenario can start a plan of its own on the same flag.
        await env.admin.cancelPlan(plan!.id, 'the demo gave up waiting for it').catch((e: Error) => env.log(`${tag} cancelling the plan failed: ${e.message}`));
        break;
      }
    }

    const loadStats = await load.stop();
    // Closing the client sends its last metrics window.
    await client.close();
    await router.close();
    const [finalPlan, finalFlag] = await Promise.all([env.admin.getPlan(plan!.id), env.admin.getFlagConfig(ENVIRONMENT, FLAG)]);
    return {
      scenario: options.scenario,
      bug: options.bug,
      bugRate: options.bugRate,
      slowFactor: options.slowFactor,
      baseErrorRate: options.baseErrorRate,
      users: options.users,
      ratePerSecond: options.ratePerSecond,
      metricsIntervalMs: options.metricsIntervalMs,
      guard: options.guard,
      guards: options.guards,
      steps: options.steps,
      startedAt,
      planStartedAt,
      endedAt: wallClock(),
      stepStarts: stepsFromHistory(finalPlan) ?? observedSteps,
      samples,
      log: router.log,
      routerSawKillAt,
      plan: finalPlan,
      flag: finalFlag,
      load: loadStats,
    };
  } finally {
    await load?.stop();
    await client?.close();
    await router?.close();
    await Promise.all(children.map((c) => c.stop()));
  }
}
