// Evaluation benchmark: @aviary/core against a raw-hash baseline and four peers' SDKs in local
// mode, in one process, in alternating rounds. Run with `npm run bench:evaluate` (builds core
// first). Knobs (environment):
//   BENCH_ROUNDS (default 7, at least 5)       BENCH_ROUND_MS (time per peer per round, default 300)
//   BENCH_CONTEXTS_A (default 1000000)         BENCH_CONTEXTS_B (default 200000)
//   BENCH_PEER_CONTEXTS (peers' pool, 100000)  BENCH_SETTLE_MS (pause after gc(), default 100)
//   BENCH_ONLY (regex: only matching peers)    BENCH_CORE (path of another core build to time)
//   BENCH_VERBOSE (print every round)
/* global process, console, setTimeout, URL */
import os from 'node:os';
import v8 from 'node:v8';
import vm from 'node:vm';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { Unleash, InMemStorageProvider } from 'unleash-client';
import { GrowthBookClient } from '@growthbook/growthbook';
import { FlagdCore } from '@openfeature/flagd-core';
import { init as ldInit, integrations as ldIntegrations, basicLogger } from '@launchdarkly/node-server-sdk';
import * as esbuild from 'esbuild';

// BENCH_CORE=/path/to/index.js times another build of the engine against the same workloads.
const { evaluate, bucket } = await import(process.env.BENCH_CORE ? pathToFileURL(process.env.BENCH_CORE).href : '@aviary/core');

const require = createRequire(import.meta.url);
const murmurhash = require('murmurhash'); // reference implementation, only to check the baseline

const ROUNDS = Math.max(5, Number(process.env.BENCH_ROUNDS ?? 7));
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 300);
const N_A = Number(process.env.BENCH_CONTEXTS_A ?? 1_000_000);
const N_B = Number(process.env.BENCH_CONTEXTS_B ?? 200_000);
const COHORT_SIZE = 10_000;
const PEER_POOL = Number(process.env.BENCH_PEER_CONTEXTS ?? 100_000);
const SETTLE_MS = Number(process.env.BENCH_SETTLE_MS ?? 100);

// gc() between contenders (never inside a timed section), so one SDK's garbage is not collected
// on the next one's clock. Works without --expose-gc on the command line.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');

const log = (...a) => console.log(...a);
const fmt = (n, d = 0) => n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
const pct = (a, b) => (b === 0 ? '-' : `${((100 * a) / b).toFixed(1)} %`);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
function fail(message) {
  console.error(`FAIL: ${message}`);
  process.exitCode = 1;
}
/** Deterministic PRNG (mulberry32), so every run builds the same contexts. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------------------------
// Baseline: MurmurHash3 x86 32 of `salt:unit`, written out by hand, reading char codes (right for
// ASCII, which every unit here is), no allocation; plus the bucket arithmetic of DESIGN §2.
// ---------------------------------------------------------------------------------------------
function mix(h, k) {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  h ^= Math.imul(k, 0x1b873593);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}
function rawHash(salt, unit) {
  let h = 0;
  let k = 0;
  let n = 0;
  for (let i = 0; i < salt.length; i++) {
    k |= salt.charCodeAt(i) << (n << 3);
    if (++n === 4) {
      h = mix(h, k);
      k = 0;
      n = 0;
    }
  }
  k |= 58 << (n << 3); // ':'
  if (++n === 4) {
    h = mix(h, k);
    k = 0;
    n = 0;
  }
  for (let i = 0; i < unit.length; i++) {
    k |= unit.charCodeAt(i) << (n << 3);
    if (++n === 4) {
      h = mix(h, k);
      k = 0;
      n = 0;
    }
  }
  if (n > 0) {
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
  }
  h ^= salt.length + 1 + unit.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
const rawBucket = (h) => (h % 100) * 1000 + (Math.floor(h / 100) % 1000);

// ---------------------------------------------------------------------------------------------
// Workloads
// ---------------------------------------------------------------------------------------------
const COUNTRIES = ['NL', 'DE', 'FR', 'US', 'GB', 'ES', 'IT', 'PL'];
const A_TARGET = ['NL', 'DE', 'FR'];
const A_FLAG = 'checkout-a';
const B_FLAG = 'checkout-b';
const B_COUNTRIES = ['NL', 'DE'];
const EMAIL_SUFFIX = '@example.com';

function buildA() {
  const rnd = prng(42);
  const contexts = new Array(N_A);
  for (let i = 0; i < N_A; i++) contexts[i] = { key: 'user-' + i, country: COUNTRIES[Math.floor(rnd() * COUNTRIES.length)] };
  return contexts;
}

/** Group of a (b) context: which rule, in order, is the first that can turn it on. */
const G_COHORT = 0;
const G_EMAIL = 1;
const G_PCT = 2;
const G_NONE = 3;
const GROUPS = ['cohort', 'email', 'country+50%', 'none'];

function buildB() {
  const rnd = prng(7);
  const cohort = [];
  for (let j = 0; j < COHORT_SIZE; j++) cohort.push('member-' + j);
  const others = COUNTRIES.filter((c) => !B_COUNTRIES.includes(c));
  // Groups drawn at random (so no branch pattern repeats), contexts allocated in order (so the
  // walk over memory is as sequential as in (a)); a shuffled array would measure cache misses.
  const contexts = new Array(N_B);
  const groups = new Uint8Array(N_B);
  let members = 0;
  for (let i = 0; i < N_B; i++) {
    const group = Math.floor(rnd() * 4);
    const anyCountry = COUNTRIES[Math.floor(rnd() * COUNTRIES.length)];
    let ctx;
    if (group === G_COHORT) ctx = { key: cohort[members++ % COHORT_SIZE], country: anyCountry, email: `m${i}@other.org` };
    else if (group === G_EMAIL) ctx = { key: 'user-' + i, country: anyCountry, email: `u${i}${EMAIL_SUFFIX}` };
    else if (group === G_PCT) ctx = { key: 'user-' + i, country: B_COUNTRIES[Math.floor(rnd() * 2)], email: `u${i}@other.org` };
    else ctx = { key: 'user-' + i, country: others[Math.floor(rnd() * others.length)], email: `u${i}@other.org` };
    contexts[i] = ctx;
    groups[i] = group;
  }
  return { cohort, contexts, groups };
}

// ---------------------------------------------------------------------------------------------
// Contenders. Each gets its own hand-written loop (no shared call site), returns the number of
// enabled results so nothing can be optimised away, and evaluates contexts[start .. start+count).
// ---------------------------------------------------------------------------------------------
function aviary(ruleset, flagKey) {
  return {
    one: (ctx) => evaluate(ruleset, flagKey, ctx).enabled,
    run(contexts, start, count) {
      let on = 0;
      for (let i = start, end = start + count; i < end; i++) if (evaluate(ruleset, flagKey, contexts[i]).enabled) on++;
      return on;
    },
  };
}

async function makeContenders(a, b) {
  // ---- @aviary/core
  const aRuleset = {
    environment: 'bench',
    revision: 1,
    flags: {
      [A_FLAG]: {
        key: A_FLAG,
        version: 1,
        enabled: true,
        rules: [{ id: 'eu', conditions: [{ attribute: 'country', operator: 'in', values: A_TARGET }], rollout: { percentage: 50 } }],
      },
    },
    cohorts: {},
  };
  const bRuleset = {
    environment: 'bench',
    revision: 1,
    flags: {
      [B_FLAG]: {
        key: B_FLAG,
        version: 1,
        enabled: true,
        rules: [
          { id: 'beta', cohorts: ['beta'] },
          { id: 'staff', conditions: [{ attribute: 'email', operator: 'endsWith', values: [EMAIL_SUFFIX] }] },
          { id: 'nl-de', conditions: [{ attribute: 'country', operator: 'in', values: B_COUNTRIES }], rollout: { percentage: 50 } },
        ],
      },
    },
    cohorts: { beta: { key: 'beta', included: b.cohort } },
  };

  // ---- baseline
  const aSet = new Set(A_TARGET);
  const baselineA = {
    one: (ctx) => aSet.has(ctx.country) && rawBucket(rawHash(A_FLAG, ctx.key)) < 50_000,
    run(contexts, start, count) {
      let on = 0;
      for (let i = start, end = start + count; i < end; i++) {
        const ctx = contexts[i];
        if (aSet.has(ctx.country) && rawBucket(rawHash(A_FLAG, ctx.key)) < 50_000) on++;
      }
      return on;
    },
  };
  const cohortSet = new Set(b.cohort);
  const bSet = new Set(B_COUNTRIES);
  const baselineB = {
    one: (ctx) =>
      cohortSet.has(ctx.key) || ctx.email.endsWith(EMAIL_SUFFIX) || (bSet.has(ctx.country) && rawBucket(rawHash(B_FLAG, ctx.key)) < 50_000),
    run(contexts, start, count) {
      let on = 0;
      for (let i = start, end = start + count; i < end; i++) {
        const ctx = contexts[i];
        if (cohortSet.has(ctx.key) || ctx.email.endsWith(EMAIL_SUFFIX) || (bSet.has(ctx.country) && rawBucket(rawHash(B_FLAG, ctx.key)) < 50_000)) on++;
      }
      return on;
    },
  };

  // ---- flagd-core: in-process evaluation of a flagd JSON config (JsonLogic + `fractional`).
  const flagd = new FlagdCore();
  flagd.setConfigurations(
    JSON.stringify({
      flags: {
        [A_FLAG]: {
          state: 'ENABLED',
          variants: { on: true, off: false },
          defaultVariant: 'off',
          targeting: { if: [{ in: [{ var: 'country' }, A_TARGET] }, { fractional: [['on', 50], ['off', 50]] }, 'off'] },
        },
        [B_FLAG]: {
          state: 'ENABLED',
          variants: { on: true, off: false },
          defaultVariant: 'off',
          targeting: {
            if: [
              { in: [{ var: 'targetingKey' }, b.cohort] },
              'on',
              { ends_with: [{ var: 'email' }, EMAIL_SUFFIX] },
              'on',
              { in: [{ var: 'country' }, B_COUNTRIES] },
              { fractional: [['on', 50], ['off', 50]] },
              'off',
            ],
          },
        },
      },
    }),
  );
  const flagdLoop = (flagKey) => ({
    one: (ctx) => flagd.resolveBooleanEvaluation(flagKey, false, ctx).value,
    run(contexts, start, count) {
      let on = 0;
      for (let i = start, end = start + count; i < end; i++) if (flagd.resolveBooleanEvaluation(flagKey, false, contexts[i]).value) on++;
      return on;
    },
  });

  // ---- GrowthBook: the multi-user server client (GrowthBookClient), force rules with coverage.
  const gb = new GrowthBookClient({}).initSync({
    payload: {
      features: {
        [A_FLAG]: {
          defaultValue: false,
          rules: [{ condition: { country: { $in: A_TARGET } }, force: true, coverage: 0.5, hashAttribute: 'id' }],
        },
        [B_FLAG]: {
          defaultValue: false,
          rules: [
            { condition: { id: { $inGroup: 'beta' } }, force: true },
            { condition: { email: { $regex: '@example\\.com$' } }, force: true },
            { condition: { country: { $in: B_COUNTRIES } }, force: true, coverage: 0.5, hashAttribute: 'id' },
          ],
        },
      },
      savedGroups: { beta: b.cohort },
    },
  });
  const gbLoop = (flagKey) => ({
    one: (ctx) => gb.isOn(flagKey, ctx),
    run(contexts, start, count) {
      let on = 0;
      for (let i = start, end = start + count; i < end; i++) if (gb.isOn(flagKey, contexts[i])) on++;
      return on;
    },
  });

  // ---- LaunchDarkly: server SDK fed by TestData (no network); flags as full data-model JSON
  // because the TestData builder has no percentage rollouts. variation() returns a promise.
  const td = new ldIntegrations.TestData();
  const ldRollout = { variations: [{ variation: 0, weight: 50_000 }, { variation: 1, weight: 50_000 }] };
  const ldFlag = (key, rules) => ({
    key,
    version: 1,
    on: true,
    salt: key,
    variations: [true, false],
    offVariation: 1,
    fallthrough: { variation: 1 },
    targets: [],
    contextTargets: [],
    prerequisites: [],
    rules,
    trackEvents: false,
    trackEventsFallthrough: false,
    deleted: false,
  });
  await td.usePreconfiguredSegment({ key: 'beta', version: 1, included: b.cohort, excluded: [], rules: [], salt: 'beta', deleted: false });
  await td.usePreconfiguredFlag(ldFlag(A_FLAG, [{ id: 'eu', clauses: [{ attribute: 'country', op: 'in', values: A_TARGET, negate: false }], rollout: ldRollout }]));
  await td.usePreconfiguredFlag(
    ldFlag(B_FLAG, [
      { id: 'beta', clauses: [{ attribute: 'key', op: 'segmentMatch', values: ['beta'], negate: false }], variation: 0 },
      { id: 'staff', clauses: [{ attribute: 'email', op: 'endsWith', values: [EMAIL_SUFFIX], negate: false }], variation: 0 },
      { id: 'nl-de', clauses: [{ attribute: 'country', op: 'in', values: B_COUNTRIES, negate: false }], rollout: ldRollout },
    ]),
  );
  const ld = ldInit('sdk-key-bench', {
    updateProcessor: td.getFactory(),
    sendEvents: false,
    diagnosticOptOut: true,
    logger: basicLogger({ level: 'warn' }),
  });
  await ld.waitForInitialization({ timeout: 10 });
  const ldLoop = (flagKey) => ({
    async: true,
    one: (ctx) => ld.variation(flagKey, ctx, false),
    async run(contexts, start, count) {
      let on = 0;
      for (let i = start, end = start + count; i < end; i++) if (await ld.variation(flagKey, contexts[i], false)) on++;
      return on;
    },
  });

  // ---- Unleash: the Node SDK with bootstrap data and an in-memory store; metrics off, no polling.
  // The URL points at a closed port: the one fetch at start fails, bootstrap data is served.
  const unleashStrategy = (rollout, constraints, segments) => ({
    name: 'flexibleRollout',
    parameters: { rollout: String(rollout), stickiness: 'default', groupId: '' },
    constraints,
    segments,
  });
  const unleashFeature = (name, strategies) => ({
    name,
    enabled: true,
    type: 'release',
    project: 'default',
    stale: false,
    impressionData: false,
    variants: [],
    strategies: strategies.map((s) => ({ ...s, parameters: { ...s.parameters, groupId: name } })),
  });
  const unleash = new Unleash({
    url: 'http://127.0.0.1:1/',
    appName: 'aviary-bench',
    disableMetrics: true,
    refreshInterval: 0,
    skipInstanceCountWarning: true,
    storageProvider: new InMemStorageProvider(),
    bootstrap: {
      data: [
        unleashFeature(A_FLAG, [unleashStrategy(50, [{ contextName: 'country', operator: 'IN', values: A_TARGET, caseInsensitive: false, inverted: false }])]),
        unleashFeature(B_FLAG, [
          unleashStrategy(100, [], [1]),
          unleashStrategy(100, [{ contextName: 'email', operator: 'STR_ENDS_WITH', values: [EMAIL_SUFFIX], caseInsensitive: false, inverted: false }]),
          unleashStrategy(50, [{ contextName: 'country', operator: 'IN', values: B_COUNTRIES, caseInsensitive: false, inverted: false }]),
        ]),
      ],
      segments: [{ id: 1, name: 'beta', constraints: [{ contextName: 'userId', operator: 'IN', values: b.cohort, caseInsensitive: false, inverted: false }] }],
    },
  });
  unleash.on('error', () => {}); // the failed fetch against the closed port
  unleash.on('warn', () => {});
  await new Promise((resolve, reject) => {
    unleash.once('ready', resolve);
    setTimeout(() => reject(new Error('unleash-client did not become ready')), 10_000).unref();
  });
  const unleashLoop = (flagKey) => ({
    one: (ctx) => unleash.isEnabled(flagKey, ctx),
    run(contexts, start, count) {
      let on = 0;
      for (let i = start, end = start + count; i < end; i++) if (unleash.isEnabled(flagKey, contexts[i])) on++;
      return on;
    },
  });

  // The cheapest local path found: the SDK's own evaluator under the public wrapper, which
  // spreads { appName, environment } into every context first (most of its cost). Not a public
  // API (the `client` property is undocumented); shown to bound what Unleash could do.
  const unleashClient = unleash.client;
  const noFallback = () => false;
  const unleashClientLoop = (flagKey) => ({
    one: (ctx) => unleashClient.isEnabled(flagKey, ctx, noFallback),
    run(contexts, start, count) {
      let on = 0;
      for (let i = start, end = start + count; i < end; i++) if (unleashClient.isEnabled(flagKey, contexts[i], noFallback)) on++;
      return on;
    },
  });

  // Each peer gets the contexts in its own SDK's shape, built here, before any timing.
  const shapes = {
    flagd: (c) => ({ targetingKey: c.key, ...c }),
    gb: (c) => ({ attributes: { id: c.key, ...c } }),
    ld: (c) => ({ kind: 'user', ...c }),
    unleash: (c) => {
      const { key, ...properties } = c;
      return { userId: key, properties };
    },
  };

  const contenders = [
    { name: 'baseline (raw hash + Set)', baseline: true, a: baselineA, b: baselineB, shape: null, full: true },
    { name: '@aviary/core evaluate()', ours: true, a: aviary(aRuleset, A_FLAG), b: aviary(bRuleset, B_FLAG), shape: null, full: true },
    { name: '@openfeature/flagd-core', a: flagdLoop(A_FLAG), b: flagdLoop(B_FLAG), shape: shapes.flagd },
    { name: '@growthbook/growthbook', a: gbLoop(A_FLAG), b: gbLoop(B_FLAG), shape: shapes.gb },
    { name: '@launchdarkly/node-server-sdk', a: ldLoop(A_FLAG), b: ldLoop(B_FLAG), shape: shapes.ld, note: 'await per call' },
    { name: 'unleash-client', a: unleashLoop(A_FLAG), b: unleashLoop(B_FLAG), shape: shapes.unleash, unleash: true },
    { name: 'unleash-client, internal client', a: unleashClientLoop(A_FLAG), b: unleashClientLoop(B_FLAG), shape: shapes.unleash, unleash: true },
  ];
  return { contenders, aRuleset, bRuleset, close: () => { unleash.destroy(); ld.close(); gb.destroy(); } };
}

// ---------------------------------------------------------------------------------------------
// Checks before timing
// ---------------------------------------------------------------------------------------------
function checkBaselineAndBuckets(contexts) {
  // The hand-written hash against the murmurhash package (UTF-8 bytes of salt:unit).
  const sample = Math.min(contexts.length, 100_000);
  let hashMismatch = 0;
  let bucketMismatch = 0;
  for (let i = 0; i < sample; i++) {
    const unit = contexts[i].key;
    const h = rawHash(A_FLAG, unit);
    if (h !== murmurhash.v3(`${A_FLAG}:${unit}`, 0)) hashMismatch++;
    if (rawBucket(h) !== bucket(A_FLAG, unit)) bucketMismatch++;
  }
  log(`check: baseline hash = murmurhash.v3 on ${fmt(sample)} units: ${hashMismatch === 0 ? 'OK' : `${hashMismatch} MISMATCHES`}`);
  log(`check: @aviary/core bucket() = baseline bucket on ${fmt(sample)} units: ${bucketMismatch === 0 ? 'OK' : `${bucketMismatch} MISMATCHES`}`);
  if (hashMismatch) fail('baseline hash disagrees with murmurhash');
  if (bucketMismatch) fail('@aviary/core bucket() disagrees with the baseline');
}

async function shares(contender, contexts, peerContexts, idx, classify, nClasses) {
  const total = new Array(nClasses).fill(0);
  const on = new Array(nClasses).fill(0);
  const decisions = new Uint8Array(idx.length);
  for (let j = 0; j < idx.length; j++) {
    const i = idx[j];
    const c = classify(contexts[i], i);
    let r = contender.one(peerContexts[i]);
    if (contender.async) r = await r;
    total[c]++;
    if (r === true) {
      on[c]++;
      decisions[j] = 1;
    } else if (r !== false) throw new Error(`${contender.name}: non-boolean result ${String(r)}`);
  }
  return { total, on, decisions };
}

// ---------------------------------------------------------------------------------------------
// Timing
// ---------------------------------------------------------------------------------------------
async function timeOnce(run, contexts, start, count) {
  const t0 = process.hrtime.bigint();
  let on = run(contexts, start, count);
  if (typeof on !== 'number') on = await on;
  const t1 = process.hrtime.bigint();
  return { ns: Number(t1 - t0) / count, on };
}

async function bench(label, contenders, key, n, rounds) {
  // Warm up and calibrate: peers get as many evaluations per round as fit in ROUND_MS
  // (a contiguous slice of the contexts, starting at a different offset each round).
  for (const c of contenders) {
    const { run } = c[key];
    const contexts = c.ctx[key];
    const n = contexts.length; // peers: their pool of pre-built contexts
    if (c.full) {
      await timeOnce(run, contexts, 0, n);
      c.count = n;
    } else {
      // Warm up on up to 20,000 evaluations or ROUND_MS, then probe the speed the same way.
      const chunk = 200;
      let done = 0;
      const t0 = Date.now();
      while (done < 20_000 && Date.now() - t0 < ROUND_MS) {
        await timeOnce(run, contexts, done % (n - chunk), chunk);
        done += chunk;
      }
      // The median chunk, so that a burst of other work on the machine does not shrink the batch.
      const chunks = [];
      const t1 = Date.now();
      while (chunks.length * chunk < 20_000 && Date.now() - t1 < ROUND_MS / 2) {
        chunks.push((await timeOnce(run, contexts, (done + chunks.length * chunk) % (n - chunk), chunk)).ns);
      }
      c.count = Math.max(1_000, Math.min(n, Math.floor((ROUND_MS * 1e6) / median(chunks))));
    }
    c.samples = [];
    gc();
  }
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < contenders.length; k++) {
      const c = contenders[(k + r) % contenders.length];
      const pool = c.ctx[key].length;
      const start = c.count >= pool ? 0 : Math.floor((r * pool) / rounds) % (pool - c.count + 1);
      // Collect the last contender's garbage off the clock, then let the concurrent sweeper finish.
      gc();
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
      const { ns } = await timeOnce(c[key].run, c.ctx[key], start, c.count);
      c.samples.push(ns);
    }
  }
  const baseline = contenders.find((c) => c.baseline);
  const base = median(baseline.samples);
  if (process.env.BENCH_VERBOSE) for (const c of contenders) log(`  ${c.name}: ${c.samples.map((x) => fmt(x)).join(' ')}`);
  const rows = contenders.map((c) => {
    const m = median(c.samples);
    // Same-round ratio to the baseline: steadier than the ratio of medians on a busy machine.
    const paired = median(c.samples.map((x, r) => x / baseline.samples[r]));
    return {
      contender: c.name,
      'median ns/eval': fmt(m),
      'x baseline': (m / base).toFixed(2),
      'x baseline, same round': paired.toFixed(2),
      'min-max ns': `${fmt(Math.min(...c.samples))}-${fmt(Math.max(...c.samples))}`,
      'evals/round': fmt(c.count),
      ...c.shareCols,
      _median: m,
      _paired: paired,
    };
  });
  log(`\n${label}  (${rounds} rounds, rotating order; median of per-round ns/eval)`);
  printTable(rows);
  return rows;
}

function printTable(rows) {
  const cols = Object.keys(rows[0]).filter((k) => !k.startsWith('_'));
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? '').length)));
  const line = (cells) => '| ' + cells.map((s, i) => (i === 0 ? s.padEnd(width[i]) : s.padStart(width[i]))).join(' | ') + ' |';
  log(line(cols));
  log('|' + width.map((w, i) => (i === 0 ? ':' + '-'.repeat(w + 1) : '-'.repeat(w + 1) + ':')).join('|') + '|');
  for (const r of rows) log(line(cols.map((c) => String(r[c] ?? ''))));
}

// ---------------------------------------------------------------------------------------------
// Size of @aviary/core for the browser
// ---------------------------------------------------------------------------------------------
async function size() {
  const dir = fileURLToPath(new URL('../packages/core/dist/', import.meta.url));
  const bundle = async (contents) => {
    const out = await esbuild.build({
      stdin: { contents, resolveDir: dir, loader: 'js' },
      bundle: true,
      platform: 'browser',
      format: 'esm',
      minify: true,
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const code = out.outputFiles[0].contents;
    const inputs = Object.entries(Object.values(out.metafile.outputs)[0].inputs)
      .map(([file, v]) => [file.replace(/^.*node_modules\//, '').replace(/^.*packages\/core\//, ''), v.bytesInOutput])
      .filter(([, b]) => b > 0)
      .sort((x, y) => y[1] - x[1]);
    return { min: code.length, gz: zlib.gzipSync(code, { level: 9 }).length, inputs };
  };
  const all = await bundle(`export * from './index.js';`);
  const engine = await bundle(`export { evaluate, bucket } from './index.js';`);
  log(`\nBrowser bundle of @aviary/core (dist/index.js; esbuild: platform browser, esm, minify; gzip -9)`);
  log(`  minified ${fmt(all.min)} B, min+gzip ${fmt(all.gz)} B, target <= 2,048 B: ${all.gz <= 2048 ? 'PASS' : 'OVER'}`);
  log(`  minified bytes by input: ${all.inputs.map(([f, b]) => `${f} ${fmt(b)}`).join(', ')}`);
  log(`  only { evaluate, bucket } (what a browser SDK imports): minified ${fmt(engine.min)} B, min+gzip ${fmt(engine.gz)} B`);
  log(`  minified bytes by input: ${engine.inputs.map(([f, b]) => `${f} ${fmt(b)}`).join(', ')}`);
  return all.gz;
}

// ---------------------------------------------------------------------------------------------
async function main() {
  const cpus = os.cpus();
  log(`Aviary evaluation benchmark`);
  log(`node ${process.version} (V8 ${process.versions.v8}), ${os.platform()} ${os.arch()}, ${cpus[0]?.model ?? 'unknown CPU'} x ${cpus.length}, ${fmt(os.totalmem() / 2 ** 30, 1)} GiB`);
  log(`load average at start: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} (other work on the machine shows up as noise)`);
  if (os.loadavg()[0] > cpus.length * 0.5) log(`WARNING: the machine is busy (1-min load ${os.loadavg()[0].toFixed(1)} on ${cpus.length} CPUs): expect noisy numbers`);
  log(`rounds ${ROUNDS}, peer budget ${ROUND_MS} ms/round, (a) ${fmt(N_A)} contexts, (b) ${fmt(N_B)} contexts, cohort ${fmt(COHORT_SIZE)}`);

  let t = Date.now();
  const aContexts = buildA();
  const b = buildB();
  const made = await makeContenders(aContexts, b);
  const { close } = made;
  // BENCH_ONLY=regex keeps the baseline, core and the contenders whose name matches.
  const only = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY, 'i') : undefined;
  const contenders = made.contenders.filter((c) => !only || c.baseline || c.ours || only.test(c.name));
  // Peers evaluate a pool of the first PEER_POOL contexts, pre-built in their SDK's shape: a few
  // million extra live objects would make every major GC of an allocating SDK scan them all.
  const built = new Map();
  for (const c of contenders) {
    if (!built.has(c.shape)) {
      built.set(
        c.shape,
        c.shape
          ? { a: aContexts.slice(0, Math.min(N_A, PEER_POOL)).map(c.shape), b: b.contexts.slice(0, Math.min(N_B, PEER_POOL)).map(c.shape) }
          : { a: aContexts, b: b.contexts },
      );
    }
    c.ctx = built.get(c.shape);
  }
  log(`setup (contexts in every SDK's shape, SDKs ready): ${fmt(Date.now() - t)} ms`);

  // ---- checks
  checkBaselineAndBuckets(aContexts);
  const ours = contenders.find((c) => c.ours);
  const baseline = contenders.find((c) => c.baseline);
  let disagree = 0;
  for (let i = 0; i < N_A; i++) if (ours.a.one(aContexts[i]) !== baseline.a.one(aContexts[i])) disagree++;
  log(`check (a): @aviary/core = baseline decision on all ${fmt(N_A)} contexts: ${disagree === 0 ? 'OK' : `${disagree} DISAGREE`}`);
  if (disagree) fail('(a) @aviary/core disagrees with the baseline');
  disagree = 0;
  for (let i = 0; i < N_B; i++) if (ours.b.one(b.contexts[i]) !== baseline.b.one(b.contexts[i])) disagree++;
  log(`check (b): @aviary/core = baseline decision on all ${fmt(N_B)} contexts: ${disagree === 0 ? 'OK' : `${disagree} DISAGREE`}`);
  if (disagree) fail('(b) @aviary/core disagrees with the baseline');

  const aTarget = new Set(A_TARGET);
  const sampleIdx = (n, max) => {
    const step = Math.max(1, Math.floor(n / max));
    const out = [];
    for (let i = 0; i < n && out.length < max; i += step) out.push(i);
    return out;
  };
  const aIdx = sampleIdx(Math.min(N_A, PEER_POOL), 100_000);
  const bIdx = sampleIdx(Math.min(N_B, PEER_POOL), 4_000);
  const oursA = await shares(ours.a, aContexts, aContexts, aIdx, (c) => (aTarget.has(c.country) ? 0 : 1), 2);
  for (const c of contenders) {
    c.a.name = c.name;
    c.b.name = c.name;
    const sa = await shares(c.a, aContexts, c.ctx.a, aIdx, (ctx) => (aTarget.has(ctx.country) ? 0 : 1), 2);
    const inShare = sa.on[0] / sa.total[0];
    const outShare = sa.on[1] / sa.total[1];
    c.shareCols = { 'in-target on': pct(sa.on[0], sa.total[0]), 'out on': pct(sa.on[1], sa.total[1]) };
    if (inShare < 0.45 || inShare > 0.55) fail(`(a) ${c.name}: ${pct(sa.on[0], sa.total[0])} of in-target users enabled, want 45-55 %`);
    if (outShare !== 0) fail(`(a) ${c.name}: out-of-target users enabled`);
    if (c.unleash) {
      // Unleash's flexibleRollout at whole percentages is DESIGN §2's rule: the same users as ours.
      let same = 0;
      for (let j = 0; j < aIdx.length; j++) same += sa.decisions[j] === oursA.decisions[j] ? 1 : 0;
      c.note = `same users as @aviary/core: ${pct(same, aIdx.length)}`;
      if (same !== aIdx.length) fail('(a) unleash-client picks different users than @aviary/core (DESIGN §2 promises the same)');
    }
    const sb = await shares(c.b, b.contexts, c.ctx.b, bIdx, (_ctx, i) => b.groups[i], 4);
    c.shareColsB = Object.fromEntries(GROUPS.map((g, k) => [g, pct(sb.on[k], sb.total[k])]));
    const want = { [G_COHORT]: [1, 1], [G_EMAIL]: [1, 1], [G_PCT]: [0.45, 0.55], [G_NONE]: [0, 0] };
    GROUPS.forEach((g, k) => {
      const s = sb.on[k] / sb.total[k];
      if (s < want[k][0] || s > want[k][1]) fail(`(b) ${c.name}: group ${g} enabled ${pct(sb.on[k], sb.total[k])}`);
    });
  }
  log(`check: enabled share per contender on ${fmt(aIdx.length)} (a) contexts and ${fmt(bIdx.length)} (b) contexts: see the table columns`);
  log(`setup + checks: ${fmt(Date.now() - t)} ms`);

  // ---- timing
  t = Date.now();
  const rowsA = await bench(
    `(a) ${fmt(N_A)} distinct contexts; flag: country in [${A_TARGET}] AND 50 % rollout`,
    contenders,
    'a',
    N_A,
    ROUNDS,
  );
  for (const c of contenders) c.shareCols = c.shareColsB;
  const rowsB = await bench(
    `(b) ${fmt(N_B)} contexts (1/4 each: in cohort / email rule / country+50 % rule / none); flag: cohort of ${fmt(COHORT_SIZE)} keys, endsWith, in+50 %`,
    contenders,
    'b',
    N_B,
    ROUNDS,
  );
  log(`timing: ${fmt((Date.now() - t) / 1000, 1)} s; load average at end: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const notes = contenders.filter((c) => c.note).map((c) => `  ${c.name}: ${c.note}`);
  log(`notes:\n${notes.join('\n')}`);
  log(`  peers run on a contiguous slice (evals/round) of the first ${fmt(PEER_POOL)} contexts, at a different offset each round;`);
  log(`  each peer gets the contexts pre-built in its own SDK's shape; @launchdarkly awaits variation() one call at a time.`);

  // ---- verdict
  const baseA = rowsA.find((r) => r.contender === baseline.name)._median;
  const oursA2 = rowsA.find((r) => r.contender === ours.name)._median;
  const peersA = rowsA.filter((r) => r.contender !== baseline.name && r.contender !== ours.name);
  const ratio = oursA2 / baseA;
  const paired = rowsA.find((r) => r.contender === ours.name)._paired;
  if (peersA.length > 0) {
    const fastest = peersA.reduce((x, y) => (x._median < y._median ? x : y));
    log(`\nTargets on (a): faster than every peer: ${oursA2 < fastest._median ? 'PASS' : 'MISS'} (ours ${fmt(oursA2)} ns, fastest peer ${fastest.contender} ${fmt(fastest._median)} ns)`);
  } else log(`\nTargets on (a): no peers timed`);
  // PASS only when both readings of the ratio agree.
  log(`                within 1.5x of the raw-hash baseline: ${Math.max(ratio, paired) <= 1.5 ? 'PASS' : 'MISS'} (${ratio.toFixed(2)}x of medians, ${paired.toFixed(2)}x same-round)`);
  const peersB = rowsB.filter((r) => r.contender !== baseline.name && r.contender !== ours.name);
  const oursB = rowsB.find((r) => r.contender === ours.name)._median;
  const verdictB = peersB.length === 0 ? 'no peers timed' : peersB.every((r) => oursB < r._median) ? 'faster than every peer' : 'NOT faster than every peer';
  log(`On (b): ours ${fmt(oursB)} ns; ${verdictB}`);

  await size();
  close();
  // Unleash and LaunchDarkly keep timers; the benchmark is done.
  setTimeout(() => process.exit(process.exitCode ?? 0), 100).unref();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
