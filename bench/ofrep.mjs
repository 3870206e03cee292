// OFREP benchmark against the local Postgres (docs/ofrep.md): one built server instance, autocannon
// with 50 connections. Single evaluations at full speed (the ceiling) and at 1,000 req/s (the p99
// goal: ≤ 10 ms), bulk evaluation of 100 flags, and `GET /sdk/v1/ruleset` beside them, each with
// the server process's CPU over the run (100 % = one core). Client and server share the machine.
// Usage: npm run bench:ofrep   (BENCH_SECONDS=10, BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres)
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';

const SERVER = fileURLToPath(new URL('../apps/server/dist/apps/server/src/main.js', import.meta.url));
const ADMIN = `ava_bench_${randomBytes(12).toString('hex')}`;
const PG_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = 50;
const FLAGS = 100;
const COUNTRIES = ['NL', 'DE', 'FR', 'US', 'GB', 'ES', 'IT', 'PL'];

async function admin(url, method, path, body) {
  const res = await fetch(url + path, {
    method,
    headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : undefined;
}

function startServer(databaseUrl) {
  const child = spawn(process.execPath, [SERVER], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', DATABASE_URL: databaseUrl, AVIARY_ADMIN_TOKEN: ADMIN, LOG_LEVEL: 'warn', AVIARY_RATE_LIMIT_ADMIN: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /listening on (http:\/\/\S+) /.exec(out);
      if (match) resolve({ child, url: match[1].replace('localhost', '127.0.0.1') });
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
}

/** User + system CPU seconds of a process so far (Linux /proc; clock ticks of 1/100 s). */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function run(pid, title, options) {
  const cpu0 = cpuSeconds(pid);
  const t0 = performance.now();
  const result = await autocannon({ connections: CONNECTIONS, duration: SECONDS, ...options });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = ((cpuSeconds(pid) - cpu0) / seconds) * 100;
  const bad = result.non2xx + result.errors + result.timeouts;
  return [title, `${Math.round(result.requests.average).toLocaleString('en')}`, `${result.latency.p50}`, `${result.latency.p99}`, `${cpu.toFixed(0)} %`, bad ? `${bad} failed` : 'ok'];
}

async function main() {
  const name = `aviary_bench_${randomBytes(4).toString('hex')}`;
  const root = new pg.Client({ connectionString: PG_URL });
  await root.connect();
  await root.query(`CREATE DATABASE ${name}`);
  const rows = [];
  let child;
  const load = loadavg().map((l) => l.toFixed(2)).join(' ');
  try {
    const started = await startServer(PG_URL.replace(/\/[^/]*$/, `/${name}`));
    child = started.child;
    const url = started.url;
    // 100 flags like a real environment's: a rule with a condition and a rollout, variants on some.
    for (let i = 0; i < FLAGS; i++) {
      const key = `flag-${i}`;
      const variants = i % 2 ? [{ key: 'a', value: `a-${i}`, weight: 50 }, { key: 'b', value: `b-${i}`, weight: 50 }] : undefined;
      await admin(url, 'POST', '/api/v1/flags', { key, ...(variants ? { variants } : {}) });
      await admin(url, 'PUT', `/api/v1/environments/production/flags/${key}`, {
        enabled: true,
        rules: [{ id: 'r', conditions: [{ attribute: 'country', operator: 'in', values: COUNTRIES.slice(0, 1 + (i % 4)) }], rollout: { percentage: 50 } }],
      });
    }
    const { secret } = await admin(url, 'POST', '/api/v1/api-keys', { name: 'bench', kind: 'server', environment: 'production' });
    const headers = { Authorization: `Bearer ${secret}`, 'Content-Type': 'application/json' };
    let n = 0;
    const context = () => JSON.stringify({ context: { targetingKey: `user-${n++ % 100_000}`, country: COUNTRIES[n % COUNTRIES.length] } });
    const single = { url: `${url}/ofrep/v1/evaluate/flags/flag-7`, method: 'POST', headers, requests: [{ setupRequest: (r) => ({ ...r, body: context() }) }] };
    // Warm-up: JIT, key cache, prepared rulesets.
    await autocannon({ ...single, connections: 10, duration: 2 });
    rows.push(await run(child.pid, 'single evaluation, full speed', single));
    rows.push(await run(child.pid, 'single evaluation at 1,000 req/s', { ...single, overallRate: 1000 }));
    rows.push(await run(child.pid, `bulk evaluation, ${FLAGS} flags`, { ...single, url: `${url}/ofrep/v1/evaluate/flags` }));
    rows.push(await run(child.pid, 'GET /sdk/v1/ruleset', { url: `${url}/sdk/v1/ruleset`, headers: { Authorization: `Bearer ${secret}` } }));
  } finally {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    await root.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await root.end();
  }
  const head = ['run (50 connections, one instance)', 'req/s', 'p50 ms', 'p99 ms', 'server CPU', 'errors'];
  const widths = head.map((_, i) => Math.max(...[head, ...rows].map((r) => r[i].length)));
  const line = (r) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(`\nbench:ofrep — Node ${process.version}, local Postgres, ${SECONDS} s per run, load average before ${load}, after ${loadavg().map((l) => l.toFixed(2)).join(' ')}, ${new Date().toISOString()}\n`);
  console.log(line(head));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
