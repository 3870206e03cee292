// The ReDoS corpus (packages/core/test/redos-corpus.json): one `matches` condition evaluated on
// adversarial input, by the old engine (ECMAScript RegExp, as `matches` was before the RE2
// dialect) and by @aviary/core's linear-time engine. Prints a table.
//
//   npx nx run @aviary/core:build && node bench/regex.mjs
//
// RegExp runs in a worker thread that is terminated past BENCH_REGEX_TIMEOUT_MS (default 100):
// such a case prints `timeout`, and its longer inputs are not tried. Times are medians over
// batches; the machine's load is printed, as everything here moves with other work on the box.
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const corePath = join(root, 'packages/core/dist/index.js');
if (!existsSync(corePath)) {
  console.error('packages/core/dist is missing: run `npx nx run @aviary/core:build` first.');
  process.exit(1);
}
const { evaluate, validateFlag } = await import(corePath);
const { entries } = JSON.parse(readFileSync(join(root, 'packages/core/test/redos-corpus.json'), 'utf8'));
const TIMEOUT_MS = Number(process.env.BENCH_REGEX_TIMEOUT_MS ?? 100);
const LENGTHS = (process.env.BENCH_REGEX_LENGTHS ?? '25,41,1024').split(',').map(Number);

const input = (e, length) => {
  const prefix = e.prefix ?? '';
  const k = Math.max(0, Math.floor((length - prefix.length - e.suffix.length) / e.pump.length));
  return (prefix + e.pump.repeat(k) + e.suffix).slice(0, length);
};

/** Median ms per call of `run`: batches sized to take about 2 ms each. */
function median(run) {
  let started = performance.now();
  run();
  const once = performance.now() - started;
  const perBatch = Math.max(1, Math.min(10_000, Math.floor(2 / Math.max(once, 1e-4))));
  const times = [];
  for (let b = 0; b < 9; b++) {
    started = performance.now();
    for (let k = 0; k < perBatch; k++) run();
    times.push((performance.now() - started) / perBatch);
  }
  return times.sort((a, b) => a - b)[4];
}

// The old engine, in a worker that can be stopped mid-backtrack: it first reports one call (the
// timeout applies to that one, not to the worker's start), then the median.
const WORKER = `
const { parentPort } = require('node:worker_threads');
${median.toString()}
parentPort.on('message', ({ pattern, text }) => {
  let re;
  try { re = new RegExp(pattern); } catch { parentPort.postMessage({ invalid: true }); return; }
  const started = performance.now();
  re.test(text);
  parentPort.postMessage({ once: performance.now() - started });
  parentPort.postMessage({ ms: median(() => re.test(text)) });
});
parentPort.postMessage({ ready: true });`;
let worker;
const nextMessage = () => new Promise((resolve) => worker.once('message', resolve));
async function oldRegExp(pattern, text) {
  if (!worker) {
    worker = new Worker(WORKER, { eval: true });
    await nextMessage();
  }
  const first = nextMessage();
  worker.postMessage({ pattern, text });
  const once = await Promise.race([first, new Promise((resolve) => setTimeout(() => resolve({ late: true }), TIMEOUT_MS))]);
  if (once.invalid) return 'not ECMAScript';
  if (once.late || once.once > TIMEOUT_MS) {
    await worker.terminate();
    worker = undefined;
    return 'timeout';
  }
  return (await nextMessage()).ms;
}

const fmt = (v) => (typeof v === 'string' ? v : v >= 1 ? `${v.toFixed(1)} ms` : `${(v * 1000).toFixed(1)} µs`);
const pad = (s, n) => String(s).padEnd(n);
const padl = (s, n) => String(s).padStart(n);

console.log(`\n\`matches\` on adversarial input: old ECMAScript RegExp vs @aviary/core (load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}, ${process.version}).\n`);
console.log(`${pad('pattern', 46)} ${padl('input', 6)} ${padl('old RegExp', 14)} ${padl('@aviary/core', 13)}  write`);
console.log('-'.repeat(46 + 6 + 14 + 13 + 10));
for (const e of entries) {
  const flag = { key: 'f', enabled: true, rules: [{ id: 'r', conditions: [{ attribute: 'email', operator: 'matches', values: [e.pattern] }] }] };
  const refused = validateFlag(flag, { strict: true }).length > 0;
  const ruleset = { environment: 'e', revision: 1, flags: { f: flag }, cohorts: {} };
  let old;
  for (const length of LENGTHS) {
    const text = input(e, length);
    if (old !== 'timeout') old = await oldRegExp(e.pattern, text);
    const context = { key: 'u', email: text };
    const ours = median(() => evaluate(ruleset, 'f', context));
    const shown = e.pattern.length > 45 ? `${e.pattern.slice(0, 44)}…` : e.pattern;
    console.log(`${pad(shown, 46)} ${padl(text.length, 6)} ${padl(fmt(old), 14)} ${padl(fmt(ours), 13)}  ${refused ? 'refused' : 'accepted'}`);
  }
}
await worker?.terminate();
console.log(`\nold RegExp: timeout = over ${TIMEOUT_MS} ms (the worker was stopped; longer inputs not tried). @aviary/core: one whole evaluate() of a flag with that condition.`);
console.log('A refused pattern cannot be written any more; one stored before the RE2 dialect evaluates false (the time shown).\n');
