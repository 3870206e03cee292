/**
 * `npm run demo [-- --quick]`: an embedded Aviary server, v1 and v2 of a checkout service, a
 * router asking @aviary/node which one each user gets, load, and a guarded rollout plan, run once
 * with a healthy v2 and once with a buggy one. Writes report/report.html and report/summary.json.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAdminApi } from './admin-api.js';
import { type AviaryServer, startAviaryServer } from './aviary-server.js';
import { guardConfig, guardsConfig, parseDemoArgs, planSteps, usage, type DemoOptions } from './options.js';
import { renderChart, renderReport, renderTable, summaryRows, type RunResult } from './report.js';
import { type DemoEnvironment, ENVIRONMENT, FLAG, freshBucketAfter, runScenario } from './scenario.js';
import { summarize, toTimeline } from './summary.js';

const defaultOutDir = fileURLToPath(new URL('../report', import.meta.url));
const serviceEntry = fileURLToPath(new URL('./service.js', import.meta.url));

let interrupted = false;

function log(message: string): void {
  console.log(`${new Date().toISOString().slice(11, 23)} ${message}`);
}

export async function writeReport(outDir: string, runs: readonly RunResult[]): Promise<void> {
  await mkdir(outDir, { recursive: true });
  const summary = Object.fromEntries(runs.map((r) => [r.summary.scenario, r.summary]));
  await writeFile(join(outDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  await writeFile(join(outDir, 'runs.json'), `${JSON.stringify(runs)}\n`);
  await writeFile(join(outDir, 'report.html'), renderReport(runs));
  for (const run of runs) await writeFile(join(outDir, `${run.summary.scenario}.svg`), `${renderChart(run.timeline)}\n`);
}

async function demo(options: DemoOptions): Promise<void> {
  const outDir = resolve(options.outDir ?? defaultOutDir);
  const dataDir = await mkdtemp(join(tmpdir(), 'aviary-demo-'));
  let server: AviaryServer | undefined;
  const stop = async () => {
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
  const onSignal = () => {
    interrupted = true;
    log('interrupted: stopping the server and the services');
    void stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    log(`starting the Aviary server (embedded PGlite in ${dataDir})`);
    server = await startAviaryServer({
      dataDir,
      env: { AVIARY_SCHEDULER_INTERVAL_MS: String(options.schedulerIntervalMs) },
      onLine: options.verbose ? (line) => log(`server: ${line}`) : undefined,
    });
    log(`server on ${server.url} (pid ${server.process.pid})`);
    const admin = createAdminApi(server.url, server.adminToken);
    const sdkKey = await admin.createServerKey(ENVIRONMENT, 'canary demo router');
    await admin.createFlag(FLAG, 'Checkout v2', 'The new checkout, behind a guarded rollout plan');
    const env: DemoEnvironment = { serverUrl: server.url, admin, sdkKey, serviceEntry, log };

    const runs: RunResult[] = [];
    let previousRunEnd: number | undefined;
    for (const scenario of options.scenarios) {
      const record = await runScenario(env, {
        planNotBefore: previousRunEnd === undefined ? undefined : freshBucketAfter(previousRunEnd),
        scenario,
        bug: options.bug,
        bugRate: scenario === 'buggy' && options.bug === 'errors' ? options.bugRate : 0,
        slowFactor: scenario === 'buggy' && options.bug === 'latency' ? options.bugLatencyFactor : 1,
        baseErrorRate: options.baseErrorRate,
        latencyMs: options.latencyMs,
        users: options.users,
        ratePerSecond: options.ratePerSecond,
        steps: planSteps(options),
        guard: guardConfig(options),
        guards: guardsConfig(options),
        maxHoldSeconds: options.maxHoldSeconds,
        warmupMs: options.warmupMs,
        tailMs: options.tailMs,
        sampleMs: options.sampleMs,
        metricsIntervalMs: options.metricsIntervalMs,
        planGraceMs: options.planGraceMs,
        seed: options.seed,
      });
      previousRunEnd = record.endedAt;
      const summary = summarize(record);
      runs.push({ summary, timeline: toTimeline(record, summary) });
    }
    await writeReport(outDir, runs);
    console.log(`\n${renderTable(summaryRows(runs.map((r) => r.summary)))}\n`);
    log(`report: ${join(outDir, 'report.html')}`);
    log(`summary: ${join(outDir, 'summary.json')}`);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await stop();
  }
}

async function main(argv: string[]): Promise<void> {
  const options = parseDemoArgs(argv);
  if (options.help) {
    console.log(usage);
    return;
  }
  if (options.render) {
    const runs = JSON.parse(await readFile(options.render, 'utf8')) as RunResult[];
    const outDir = resolve(options.outDir ?? defaultOutDir);
    await writeReport(outDir, runs);
    console.log(renderTable(summaryRows(runs.map((r) => r.summary))));
    return;
  }
  await demo(options);
}

main(process.argv.slice(2)).catch((err: Error) => {
  // After Ctrl-C the run fails as its server goes away; that is not news.
  if (interrupted) return;
  console.error(`canary demo failed: ${err.message}`);
  process.exitCode = 1;
});
