// OFREP benchmark: one server instance (local Postgres, no Redis), 100 flags, a server key;
// autocannon with 50 connections against
//   1. POST /ofrep/v1/evaluate/flags/{key} as fast as it goes (the throughput ceiling),
//   2. the same at a fixed 1,000 req/s (the goal: p99 <= 10 ms there), paced by this file: one
//      request every 1/rate s over up to 50 keep-alive sockets, latency counted from when the
//      request was due, so a stall is not hidden by the requests it delayed (coordinated omission).
//      autocannon's `overallRate` is not used for it: it lets each connection send its share of a
//      second in one burst at the start of the second, and corrects for coordinated omission with
//      an expected interval of ceil(1 / rate) = 1 ms, which adds T - 1 made-up samples for every
//      answer that took T ms: its p99 at 1,000 req/s read 126 ms in a run where the paced one read 8.
//   3. POST /ofrep/v1/evaluate/flags (bulk: all 100 flags for one context),
//   4. GET /sdk/v1/ruleset (the local-evaluation SDKs' path), in the same run,
// with the server process's CPU (utime + stime from /proc) for each: as % of one core, and per
// request, whose inverse is the throughput ceiling of one core (steadier than req/s on a loaded box).
// Each request names another user (10,000 targeting keys, round robin) and, for single
// evaluations, another flag, so no answer is a repeat of the one before it.
// Usage: npm run bench:ofrep   (after a build: node bench/ofrep.mjs)
// Knobs: BENCH_NODE_ARGS (server's Node options), BENCH_POSTGRES_URL, BENCH_DURATION_S (per run, default 10), BENCH_RATE (default 1000).
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { availableParallelism, loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import autocannon from 'autocannon';
import pg from 'pg';
import { SERVER, adminCall, startServer, stopServer } from './server.mjs';

const ADMIN = `ava_bench_${randomBytes(12).toString('hex')}`;
const PG_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const RATE = Number(process.env.BENCH_RATE ?? 1000);
const CONNECTIONS = 50;
/** Node options for the server process (e.g. `--trace-gc`); its output then goes to stderr. */
const NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
const FLAGS = 100;
const USERS = 10_000;
const COUNTRIES = ['NL', 'DE', 'FR', 'US', 'GB'];

const admin = (url, method, path, body) => adminCall(url, ADMIN, method, `/api/v1${path}`, body);

/** CPU seconds (user + system) the process has used: fields 14 and 15 of /proc/<pid>/stat, in clock ticks (100/s on Linux). */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The 100 flags: a third plain booleans, a third a country rule on a 50 % rollout, a third three weighted string variants behind a rule. */
async function seed(url) {
  const keys = [];
  for (let i = 0; i < FLAGS; i++) {
    const key = `flag-${String(i).padStart(3, '0')}`;
    keys.push(key);
    const shape = i % 3;
    if (shape === 0) {
      await admin(url, 'POST', '/flags', { key });
      await admin(url, 'PUT', `/environments/production/flags/${key}`, { enabled: true });
    } else if (shape === 1) {
      await admin(url, 'POST', '/flags', { key });
      await admin(url, 'PUT', `/environments/production/flags/${key}`, {
        enabled: true,
        rules: [{ id: 'eu', conditions: [{ attribute: 'country', operator: 'in', values: ['NL', 'DE', 'FR'] }], rollout: { percentage: 50 } }],
      });
    } else {
      await admin(url, 'POST', '/flags', { key, variants: [{ key: 'red', value: 'red', weight: 1 }, { key: 'green', value: 'green', weight: 1 }, { key: 'blue', value: 'blue', weight: 2 }] });
      await admin(url, 'PUT', `/environments/production/flags/${key}`, {
        enabled: true,
        rules: [{ id: 'plan', conditions: [{ attribute: 'plan', operator: 'in', values: ['pro'] }], variant: 'blue' }],
      });
    }
  }
  return keys;
}

function cannon(options) {
  return new Promise((resolve, reject) => autocannon({ connections: CONNECTIONS, duration: DURATION_S, ...options }, (err, res) => (err ? reject(err) : resolve(res))));
}

/** A run with the server's CPU measured over it. */
async function measured(pid, options) {
  const cpu0 = cpuSeconds(pid);
  const t0 = performance.now();
  const result = await (options.rate ? paced(options) : cannon(options));
  const wall = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(pid) - cpu0;
  return { result, cpuPercent: (100 * cpu) / wall, cpuMsPerRequest: (1000 * cpu) / Math.max(1, result.requests.total) };
}

/**
 * An open-loop run at a fixed rate: request i is due at t0 + i / rate and is sent then (or as soon as
 * the client gets the CPU); its latency is from that due time to the end of the answer. Returns
 * autocannon's result shape for the fields the table reads, and `clientStallMs`: the longest delay
 * of this process's own event loop over the run (a stall here is the machine's, not the server's).
 */
function paced({ url, headers, rate, requests }) {
  const target = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const total = rate * DURATION_S;
  const latencies = [];
  let sent = 0;
  let errors = 0;
  let non2xx = 0;
  const next = requests[0].setupRequest;
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  return new Promise((resolve) => {
    const t0 = performance.now();
    const finish = () => {
      agent.destroy();
      latencies.sort((a, b) => a - b);
      const at = (q) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0);
      const wall = (performance.now() - t0) / 1000;
      loop.disable();
      const clientStallMs = Math.round(loop.max / 1e6);
      resolve({ requests: { average: latencies.length / wall, total: latencies.length }, latency: { p50: at(0.5), p99: at(0.99), max: at(1) }, errors, timeouts: 0, non2xx, clientStallMs });
    };
    const fire = (due) => {
      const { path, body } = next({});
      const req = http.request({ agent, host: target.hostname, port: target.port, method: 'POST', path, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
        if (res.statusCode >= 300) non2xx++;
        res.resume();
        res.on('end', () => {
          latencies.push(performance.now() - due);
          if (latencies.length + errors === total) finish();
        });
      });
      req.on('error', () => {
        if (++errors + latencies.length === total) finish();
      });
      req.end(body);
    };
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) * rate) / 1000) + 1);
      while (sent < due) fire(t0 + (sent++ * 1000) / rate);
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
  });
}

/** Request bodies that cycle through USERS contexts (and, with `flags`, through the flags' paths). */
function rotating(base, flags) {
  let n = 0;
  return [
    {
      setupRequest: (req) => {
        const i = n++;
        const user = i % USERS;
        const context = { targetingKey: `user-${user}`, country: COUNTRIES[user % COUNTRIES.length], plan: user % 7 === 0 ? 'pro' : 'free' };
        return { ...req, path: flags ? `${base}/${flags[i % flags.length]}` : base, body: JSON.stringify({ context }) };
      },
    },
  ];
}

async function main() {
  if (!existsSync(SERVER)) throw new Error(`${SERVER} is missing: run npm run build first`);
  const name = `aviary_bench_${randomBytes(4).toString('hex')}`;
  const root = new pg.Client({ connectionString: PG_URL });
  await root.connect();
  await root.query(`CREATE DATABASE ${name}`);
  const rows = [];
  let clientStallMs;
  let child;
  let problems = 0;
  try {
    const started = await startServer({ PATH: process.env.PATH, DATABASE_URL: PG_URL.replace(/\/[^/]*$/, `/${name}`), AVIARY_ADMIN_TOKEN: ADMIN, AVIARY_RATE_LIMIT_ADMIN: '0' }, NODE_ARGS);
    child = started.child;
    if (NODE_ARGS.length > 0) child.stdout.pipe(process.stderr);
    const url = started.url;
    const flags = await seed(url);
    const { secret } = await admin(url, 'POST', '/api-keys', { name: 'bench', kind: 'server', environment: 'production' });
    const headers = { authorization: `Bearer ${secret}`, 'content-type': 'application/json' };

    // Checks before timing: the answers are OFREP answers, and the bulk one holds every flag.
    const one = await fetch(`${url}/ofrep/v1/evaluate/flags/${flags[2]}`, { method: 'POST', headers, body: JSON.stringify({ context: { targetingKey: 'user-7', plan: 'pro' } }) });
    const single = await one.json();
    if (one.status !== 200 || single.value !== 'blue' || single.reason !== 'TARGETING_MATCH') throw new Error(`single evaluation: ${one.status} ${JSON.stringify(single)}`);
    const all = await fetch(`${url}/ofrep/v1/evaluate/flags`, { method: 'POST', headers, body: JSON.stringify({ context: { targetingKey: 'user-7' } }) });
    const bulk = await all.json();
    if (all.status !== 200 || bulk.flags?.length !== FLAGS) throw new Error(`bulk evaluation: ${all.status}, ${bulk.flags?.length} flags`);
    const bulkBytes = JSON.stringify(bulk).length;
    const rulesetBytes = (await (await fetch(`${url}/sdk/v1/ruleset`, { headers })).text()).length;

    const base = `${url}/ofrep/v1/evaluate/flags`;
    // Warm-up: the JIT and the connection pool, not timed.
    await cannon({ url: base, method: 'POST', headers, duration: 3, requests: rotating('/ofrep/v1/evaluate/flags', flags) });

    const runs = [
      ['single evaluation, max rate', { url: base, method: 'POST', headers, requests: rotating('/ofrep/v1/evaluate/flags', flags) }],
      [`single evaluation, ${RATE} req/s paced`, { url: base, headers, rate: RATE, requests: rotating('/ofrep/v1/evaluate/flags', flags) }],
      [`bulk, ${FLAGS} flags, max rate`, { url: base, method: 'POST', headers, requests: rotating('/ofrep/v1/evaluate/flags') }],
      ['GET /sdk/v1/ruleset, max rate', { url: `${url}/sdk/v1/ruleset`, headers: { authorization: headers.authorization } }],
    ];
    for (const [label, options] of runs) {
      const { result, cpuPercent, cpuMsPerRequest } = await measured(child.pid, options);
      if (result.clientStallMs !== undefined) clientStallMs = result.clientStallMs;
      const failed = result.errors + result.timeouts + result.non2xx;
      problems += failed;
      rows.push([label, String(Math.round(result.requests.average)), String(result.latency.p50), String(result.latency.p99), String(result.latency.max), `${cpuPercent.toFixed(0)} %`, cpuMsPerRequest.toFixed(2), String(Math.round(1000 / cpuMsPerRequest)), String(failed)]);
    }
    const atRate = rows[1];
    const goal = Number(atRate[3]) <= 10 ? 'met' : 'MISSED';

    const header = ['run (50 connections)', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'server CPU', 'CPU ms/req', 'req/s per core', 'errors'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (r) => `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
    console.log(`\nbench:ofrep — Node ${process.version}, one instance, local Postgres, ${DURATION_S} s per run, ${new Date().toISOString()}`);
    console.log(`${FLAGS} flags; bulk answer ${bulkBytes} bytes, ruleset ${rulesetBytes} bytes; ${USERS} users round robin\n`);
    console.log(line(header));
    console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
    for (const r of rows) console.log(line(r));
    console.log(`\ngoal single-evaluation p99 <= 10 ms at ${RATE} req/s: ${goal} (p99 ${atRate[3]} ms; the load generator's own event loop stalled at most ${clientStallMs} ms in that run)`);
    console.log('server CPU: % of one core over the run; CPU ms/req: server CPU time per answered request; req/s per core: 1000 / that, the ceiling of one fully used core');
    console.log(`1-min load average ${loadavg()[0].toFixed(1)} on ${availableParallelism()} cores (autocannon shares them)`);
  } finally {
    await stopServer(child);
    await root.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await root.end();
  }
  if (problems > 0) {
    console.error(`${problems} requests failed`);
    process.exitCode = 1;
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
