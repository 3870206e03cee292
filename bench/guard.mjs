// Rollout guards, simulated (no server): the Bonferroni z-test the guard used before (1 % split
// over 1,000 looks, z > 4.26) against the mixture SPRT it uses now (@aviary/guard), on the same
// seeded plans. Prints one table.
//
//   npm run bench:guard            (= npx nx run @aviary/guard:build && node bench/guard.mjs)
//   node bench/guard.mjs --aa 10000 --ab 2000 --seed 15
//
// The model: a service of USERS users, each sending a request every USER_PERIOD_S seconds
// (100 requests/s in all), behind the plan 1 → 5 → 25 → 50 → 100 % holding 600, 900, 900, 900 s.
// SDKs report every 10 s, and the guard looks at every report (the server looks every tick, but
// counts only change when a report lands). Per 10 s, each arm's requests are Poisson, its errors
// binomial (control 1 % errors), its latencies normal (control 180 ms, sd 60 ms) summarised as
// count, mean and variance. Error guard: maxRelativeIncrease 0.2; latency guard: 0.1; both
// minSamples 200, false-alarm rate 1 %. Both tests see the same counts; holds are fixed (the
// evidence gate is left out, so the two tests are compared on the same schedule).
// "users exposed": distinct users the canary served by the decision (the plan's end when nothing
// was caught), with each user's first request of a step arriving exponentially (mean USER_PERIOD_S).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const guardPath = join(root, 'packages/guard/dist/index.js');
if (!existsSync(guardPath)) {
  console.error('packages/guard/dist is missing: run `npx nx run @aviary/guard:build` first.');
  process.exit(1);
}
const { bonferroniMeanZTest, bonferroniThreshold, bonferroniZTest, evaluateGuard, evaluateMeanGuard, seededRandom: rng } = await import(guardPath);

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const AA_RUNS = arg('aa', 10_000);
const AB_RUNS = arg('ab', 2_000);
const SEED = arg('seed', 15);

const USERS = 100_000;
const USER_PERIOD_S = 1_000;
const RATE = USERS / USER_PERIOD_S;
const REPORT_S = 10;
const STEPS = [
  { percentage: 1, holdSeconds: 600 },
  { percentage: 5, holdSeconds: 900 },
  { percentage: 25, holdSeconds: 900 },
  { percentage: 50, holdSeconds: 900 },
  { percentage: 100, holdSeconds: 0 },
];
const ERROR_RATE = 0.01;
const LATENCY = { mean: 180, sd: 60 };
const ALPHA = 0.01;
const ERROR_GUARD = { numerator: 'error', denominator: 'request', maxRelativeIncrease: 0.2, minSamples: 200, falseAlarmRate: ALPHA };
const LATENCY_GUARD = { metric: 'latency', maxRelativeIncrease: 0.1, minSamples: 200, falseAlarmRate: ALPHA };
const Z_THRESHOLD = bonferroniThreshold({ falseAlarmRate: ALPHA, maxLooks: 1000 });

function normal(random) {
  let u = 0;
  while (u === 0) u = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}
function poisson(random, mean) {
  if (mean > 40) return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal(random)));
  const limit = Math.exp(-mean);
  let k = 0;
  let p = random();
  while (p > limit) {
    k++;
    p *= random();
  }
  return k;
}
function binomial(random, n, p) {
  if (n < 40) {
    let k = 0;
    for (let i = 0; i < n; i++) if (random() < p) k++;
    return k;
  }
  const variance = n * p * (1 - p);
  if (variance > 9) return Math.min(n, Math.max(0, Math.round(n * p + Math.sqrt(variance) * normal(random))));
  return Math.min(n, poisson(random, n * p));
}
/** n latencies: their mean and sample variance, drawn from their sampling distributions. */
function latencies(random, n, mean, sd) {
  if (n === 0) return { n: 0, sum: 0, sumSquares: 0 };
  const m = mean + (sd / Math.sqrt(n)) * normal(random);
  const s2 = n > 1 ? Math.max(0, sd * sd * (1 + Math.sqrt(2 / (n - 1)) * normal(random))) : 0;
  return { n, sum: n * m, sumSquares: (n - 1) * s2 + n * m * m };
}

/** Distinct users served by the canary at `t` seconds into step `index`. */
function usersExposed(index, t) {
  const previous = index === 0 ? 0 : STEPS[index - 1].percentage / 100;
  const current = STEPS[index].percentage / 100;
  return Math.round(USERS * (previous + (current - previous) * (1 - Math.exp(-t / USER_PERIOD_S))));
}

/**
 * One plan: per report, both arms' counts grow; each test looks at the cumulative counts.
 * Answers, per test, the decision (null: the plan completed) with its time, step, exposed samples
 * and users exposed.
 */
function runPlan(random, scenario) {
  const kind = scenario.kind;
  const arms = { exposed: { n: 0, errors: 0, sum: 0, sumSquares: 0 }, control: { n: 0, errors: 0, sum: 0, sumSquares: 0 } };
  const result = { old: null, new: null };
  let elapsed = 0;
  for (let index = 0; index < STEPS.length; index++) {
    const { percentage, holdSeconds } = STEPS[index];
    // The last step (100 %) has no control left and no hold: nothing more to judge.
    if (percentage >= 100) break;
    for (let t = REPORT_S; t <= holdSeconds; t += REPORT_S) {
      for (const [name, share] of [['exposed', percentage / 100], ['control', 1 - percentage / 100]]) {
        const n = poisson(random, RATE * REPORT_S * share);
        const arm = arms[name];
        const bad = name === 'exposed';
        arm.n += n;
        if (kind === 'errors') arm.errors += binomial(random, n, ERROR_RATE * (bad ? scenario.effect : 1));
        else {
          const l = latencies(random, n, LATENCY.mean * (bad ? scenario.effect : 1), LATENCY.sd * (bad ? scenario.effect : 1));
          arm.sum += l.sum;
          arm.sumSquares += l.sumSquares;
        }
      }
      const look = looks(kind, arms);
      const at = { seconds: elapsed + t, step: index + 1, samples: arms.exposed.n, users: usersExposed(index, t) };
      if (!result.old && look.old) result.old = at;
      if (!result.new && look.new) result.new = at;
      if (result.old && result.new) return result;
    }
    elapsed += holdSeconds;
  }
  return result;
}

function looks(kind, { exposed, control }) {
  if (kind === 'errors') {
    const e = { numerator: exposed.errors, denominator: exposed.n };
    const c = { numerator: control.errors, denominator: control.n };
    return { old: bonferroniZTest(ERROR_GUARD, e, c, Z_THRESHOLD).breached, new: evaluateGuard(ERROR_GUARD, e, c).breached };
  }
  const moments = (a) => ({ count: a.n, sum: a.sum, sumSquares: a.sumSquares });
  const stats = (a) => {
    const mean = a.n > 0 ? a.sum / a.n : 0;
    return { n: a.n, mean, variance: a.n > 1 ? Math.max(0, (a.sumSquares - a.n * mean * mean) / (a.n - 1)) : 0 };
  };
  return {
    old: bonferroniMeanZTest(LATENCY_GUARD, stats(exposed), stats(control), Z_THRESHOLD).breached,
    new: evaluateMeanGuard(LATENCY_GUARD, moments(exposed), moments(control)).breached,
  };
}

const median = (values) => {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
/** Wilson 95 % interval of k successes in n. */
function wilson(k, n) {
  const z = 1.959964;
  const p = k / n;
  const centre = (p + (z * z) / (2 * n)) / (1 + (z * z) / n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / (1 + (z * z) / n);
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}
const pct = (x) => `${(100 * x).toFixed(2)} %`;
const ALL_USERS_BY_END = usersExposed(STEPS.length - 2, STEPS.at(-2).holdSeconds);

const SCENARIOS = [
  { name: 'A/A errors (same rates)', kind: 'errors', effect: 1, runs: AA_RUNS },
  { name: 'errors 40×', kind: 'errors', effect: 40, runs: AB_RUNS },
  { name: 'errors 4×', kind: 'errors', effect: 4, runs: AB_RUNS },
  { name: 'errors 2×', kind: 'errors', effect: 2, runs: AB_RUNS },
  { name: 'errors 1.5×', kind: 'errors', effect: 1.5, runs: AB_RUNS },
  { name: 'A/A latency (same means)', kind: 'latency', effect: 1, runs: AA_RUNS },
  { name: 'latency +50 %', kind: 'latency', effect: 1.5, runs: AB_RUNS },
  { name: 'latency +20 %', kind: 'latency', effect: 1.2, runs: AB_RUNS },
];

const rows = [];
const started = performance.now();
for (const [i, scenario] of SCENARIOS.entries()) {
  const random = rng(SEED * 1000 + i);
  const outcomes = Array.from({ length: scenario.runs }, () => runPlan(random, scenario));
  for (const test of ['old', 'new']) {
    const caught = outcomes.map((o) => o[test]).filter(Boolean);
    const rate = caught.length / scenario.runs;
    const [lo, hi] = wilson(caught.length, scenario.runs);
    const steps = new Map();
    for (const c of caught) steps.set(c.step, (steps.get(c.step) ?? 0) + 1);
    const stepText = [...steps.entries()].sort(([a], [b]) => a - b).map(([s, n]) => `${s}: ${Math.round((100 * n) / caught.length)} %`).join(', ');
    const exposure = outcomes.map((o) => o[test]?.users ?? ALL_USERS_BY_END);
    rows.push({
      scenario: scenario.name,
      test: test === 'old' ? 'z-test (Bonferroni)' : 'mSPRT',
      plans: scenario.runs,
      [scenario.effect === 1 ? 'falseRollbacks' : 'power']: `${pct(rate)} [${pct(lo)}, ${pct(hi)}]`,
      medianSamples: median(caught.map((c) => c.samples)),
      medianSeconds: median(caught.map((c) => c.seconds)),
      stepCaught: stepText || '–',
      medianUsersExposed: median(exposure),
    });
  }
}

const header = ['scenario', 'test', 'plans', 'false rollbacks / power [95 % CI]', 'median samples', 'median s to detection', 'step caught', 'median users exposed'];
const lines = rows.map((r) => [
  r.scenario, r.test, String(r.plans), r.falseRollbacks ?? r.power, r.medianSamples === null ? '–' : String(Math.round(r.medianSamples)),
  r.medianSeconds === null ? '–' : String(r.medianSeconds), r.stepCaught, String(r.medianUsersExposed),
]);
console.log(`bench:guard — seed ${SEED}, ${USERS.toLocaleString('en')} users at ${RATE} requests/s, steps ${STEPS.map((s) => `${s.percentage} % (${s.holdSeconds} s)`).join(' → ')}, reports every ${REPORT_S} s; false-alarm rate ${pct(ALPHA)}; errors: control ${pct(ERROR_RATE)}, maxRelativeIncrease ${ERROR_GUARD.maxRelativeIncrease}; latency: control ${LATENCY.mean} ms (sd ${LATENCY.sd}), maxRelativeIncrease ${LATENCY_GUARD.maxRelativeIncrease}; minSamples ${ERROR_GUARD.minSamples}`);
console.log(`| ${header.join(' | ')} |`);
console.log(`|${header.map(() => '---').join('|')}|`);
for (const line of lines) console.log(`| ${line.join(' | ')} |`);
console.log(`(${((performance.now() - started) / 1000).toFixed(1)} s; "users exposed" of undetected plans is everyone the 50 % step reached: ${ALL_USERS_BY_END.toLocaleString('en')})`);
