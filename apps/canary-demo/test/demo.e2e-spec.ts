import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultServerEntry } from '../src/aviary-server.js';
import { evaluateGuard } from '@aviary/guard';
import type { RunResult } from '../src/report.js';
import type { RunSummary } from '../src/summary.js';
import { testTempDir } from '@aviary/test-support';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));

/**
 * The demo as a user runs it, shortened to seconds: 2 s holds, a small guard, a worse bug, metrics
 * every 0.5 s. The holds leave the guard time to see a few metric reports per step even on a
 * saturated machine; with 1 s holds a buggy plan could reach its end before the server had counts.
 */
const args = [
  '--users', '500', '--rps', '800', '--bug-rate', '0.5', '--latency-ms', '1',
  '--hold-seconds', '2', '--last-hold-seconds', '2', '--min-samples', '50', '--metrics-interval-ms', '500',
  '--warmup-ms', '500', '--tail-ms', '1500', '--sample-ms', '500', '--plan-grace-seconds', '20',
  // The 1 % step waits for 50 exposed requests: a loaded CI machine sends fewer than the 800/s asked
  // for (CI paused a healthy plan at the default 13 s), so it gets a minute before it pauses.
  '--max-hold-seconds', '60',
];

/** No request may reach v2 later than this after the kill (the stream's propagation and slack). */
const KILL_MARGIN_MS = 1000;

function run(outDir: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [main, ...args, '--out', outDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

describe('npm run demo, shortened', () => {
  let outDir: string;
  let result: { code: number | null; output: string };
  let summary: Record<'healthy' | 'buggy', RunSummary>;

  beforeAll(async () => {
    expect(existsSync(main), 'the demo is built (nx test depends on build)').toBe(true);
    expect(existsSync(defaultServerEntry), 'the server is built (nx test depends on @aviary/server:build)').toBe(true);
    outDir = testTempDir('demo-e2e');
    result = await run(outDir);
    if (result.code !== 0) throw new Error(`the demo exited with ${result.code}:\n${result.output}`);
    summary = JSON.parse(await readFile(join(outDir, 'summary.json'), 'utf8'));
  }, 240_000);

  afterAll(async () => {
    if (outDir) await rm(outDir, { recursive: true, force: true });
  });

  it('rolls the buggy canary back: plan rolled-back, flag killed, no v2 request after the kill', () => {
    const buggy = summary.buggy;
    expect(buggy.outcome, JSON.stringify(buggy, null, 2)).toBe('rolled-back');
    expect(buggy.flagEnabled).toBe(false);
    expect(buggy.killAt).not.toBeNull();
    expect(buggy.reason).toMatch(/^guard error\/request: exposed .* z = [\d.]+, always-valid p = \S+ ≤ 0\.01 \(mSPRT\)$/);
    expect(buggy.usersExposedToBug).toBeGreaterThan(0);
    // Caught at its first step: no more users than that step's share (plus one metrics interval's).
    expect(buggy).toMatchObject({ caughtAtStep: 1, caughtAtPercentage: 1 });
    expect(buggy.usersExposedToBug).toBeLessThanOrEqual(buggy.firstStepExposureLimit);
    expect(buggy.usersExposedToBug).toBeLessThan(buggy.users);
    expect(buggy.killToLastCanaryRequestMs).not.toBeNull();
    expect(buggy.killToLastCanaryRequestMs!).toBeLessThan(KILL_MARGIN_MS);
    expect(buggy.killToRouterMs).not.toBeNull();
    expect(buggy.killToRouterMs!).toBeLessThan(KILL_MARGIN_MS);
    expect(buggy.breachToKillMs).not.toBeNull();
  });

  it('completes the healthy canary: 100 %, flag on, no kill', () => {
    const healthy = summary.healthy;
    expect(healthy.outcome, JSON.stringify(healthy, null, 2)).toBe('completed');
    expect(healthy.flagEnabled).toBe(true);
    expect(healthy.finalPercentage).toBe(100);
    expect(healthy.killAt).toBeNull();
    expect(healthy.usersExposedToBug).toBe(0);
    expect(healthy.usersOnCanary).toBeGreaterThan(healthy.users / 2);
  });

  it("agrees with the server's guard: the shared test gives the server's z on the server's counts", () => {
    const verdict = summary.buggy.serverVerdict!;
    expect(verdict.status).toBe('breach');
    const look = evaluateGuard({ numerator: 'error', denominator: 'request', maxRelativeIncrease: 0.5, minSamples: 50 }, verdict.exposed!, verdict.control!);
    expect(look.z).toBeCloseTo(verdict.z!, 6);
    expect(look.threshold).toBeCloseTo(verdict.threshold!, 3);
  });

  it('writes the report: one chart per run, the kill marked, nothing external', async () => {
    const html = await readFile(join(outDir, 'report.html'), 'utf8');
    expect(html.match(/<svg /g)).toHaveLength(2);
    expect(html).not.toMatch(/<script|<link|<img/i);
    const runs = JSON.parse(await readFile(join(outDir, 'runs.json'), 'utf8')) as RunResult[];
    const buggy = runs.find((r) => r.summary.scenario === 'buggy')!;
    expect(buggy.timeline.markers.map((m) => m.kind)).toEqual(expect.arrayContaining(['step', 'kill', 'router-kill']));
    const healthy = runs.find((r) => r.summary.scenario === 'healthy')!;
    expect(healthy.timeline.markers.filter((m) => m.kind === 'step').map((m) => m.percentage)).toEqual([1, 5, 25, 50, 100]);
    // After completion every request goes to v2; after the kill, none.
    const last = (r: RunResult) => r.timeline.samples[r.timeline.samples.length - 1]!.counts;
    expect(last(healthy).v1.requests).toBe(0);
    expect(last(healthy).v2.requests).toBeGreaterThan(0);
    expect(last(buggy).v2.requests).toBe(0);
    expect(last(buggy).v1.requests).toBeGreaterThan(0);
    expect(result.output).toMatch(/run\s+outcome\s+caught at step\s+users/);
  });
});
