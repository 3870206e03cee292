import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAdminApi } from '../src/admin-api.js';
import { type AviaryServer, startAviaryServer } from '../src/aviary-server.js';
import { guardConfig, parseDemoArgs, planSteps } from '../src/options.js';
import type { Router } from '../src/router.js';
import { ENVIRONMENT, FLAG, runScenario, type DemoEnvironment } from '../src/scenario.js';
import { summarize } from '../src/summary.js';
import { withEmulatedPlans } from './support/emulated-plans.js';

const serviceEntry = fileURLToPath(new URL('../dist/service.js', import.meta.url));

describe('the demo pipeline with emulated plans (real server, processes, SDK, router, load)', () => {
  let server: AviaryServer;
  let dataDir: string;
  let env: DemoEnvironment & { admin: ReturnType<typeof withEmulatedPlans> };
  let router: Router | undefined;
  const lines: string[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'aviary-demo-test-'));
    server = await startAviaryServer({ dataDir, timeoutMs: 90_000 });
    const real = createAdminApi(server.url, server.adminToken);
    const sdkKey = await real.createServerKey(ENVIRONMENT, 'pipeline test');
    await real.createFlag(FLAG, 'Checkout v2');
    const admin = withEmulatedPlans(real, () => router?.counts());
    env = { serverUrl: server.url, admin, sdkKey, serviceEntry, log: (m) => lines.push(m), onRouter: (r) => (router = r) };
  }, 120_000);

  afterAll(async () => {
    env?.admin.stop();
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const options = parseDemoArgs(['--quick', '--hold-seconds', '1', '--last-hold-seconds', '1', '--rps', '800', '--min-samples', '50']);
  const scenario = (name: 'healthy' | 'buggy') => ({
    scenario: name,
    bugRate: name === 'buggy' ? 0.3 : 0,
    baseErrorRate: 0.005,
    latencyMs: 1,
    users: 500,
    ratePerSecond: options.ratePerSecond,
    steps: planSteps(options),
    guard: guardConfig(options),
    warmupMs: 500,
    tailMs: 1500,
    sampleMs: 500,
    metricsIntervalMs: 1000,
    planGraceMs: 15_000,
    seed: 7,
  });

  it('a healthy v2 goes to 100 %', async () => {
    const record = await runScenario(env, scenario('healthy'));
    const summary = summarize(record);
    expect(summary.outcome).toBe('completed');
    expect(summary.flagEnabled).toBe(true);
    expect(summary.finalPercentage).toBe(100);
    expect(record.stepStarts.map((s) => s.percentage)).toEqual([1, 5, 25, 50, 100]);
    expect(summary.usersExposedToBug).toBe(0);
    // At 100 % every request goes to v2.
    const last = record.samples[record.samples.length - 1]!;
    expect(last.counts.v1.requests).toBe(0);
    expect(last.counts.v2.requests).toBeGreaterThan(0);
  }, 60_000);

  it('a buggy v2 is killed and traffic returns to v1 within the stream latency', async () => {
    const record = await runScenario(env, scenario('buggy'));
    const summary = summarize(record);
    expect(summary.outcome).toBe('rolled-back');
    expect(summary.flagEnabled).toBe(false);
    expect(summary.killAt).not.toBeNull();
    expect(summary.usersExposedToBug).toBeGreaterThan(0);
    expect(summary.usersExposedToBug).toBeLessThan(500);
    expect(summary.killToRouterMs).not.toBeNull();
    expect(summary.killToRouterMs!).toBeLessThan(1000);
    expect(summary.killToLastCanaryRequestMs!).toBeLessThan(1000);
    const killAt = Date.parse(summary.killAt!);
    expect(record.log.filter((r) => r.arm === 'v2' && r.sentAt > killAt + 1000)).toHaveLength(0);
  }, 60_000);
});
