// Admin API benchmark against the local Postgres: config writes per second (sequential and
// 16 concurrent) and the time and peak server memory to upload a 1,000,000-member cohort.
// Usage: npm run bench:admin   (BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres)
// The admin rate limit is off for the run: the bench measures the write path, not the limiter.
import { readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { adminCall, startServer as start, stopServer } from './server.mjs';

const ADMIN = `ava_bench_${randomBytes(12).toString('hex')}`;
const PG_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SEQUENTIAL = Number(process.env.BENCH_SEQUENTIAL ?? 1000);
const CONCURRENT = Number(process.env.BENCH_CONCURRENT ?? 4000);
const WORKERS = 16;
const MEMBERS = Number(process.env.BENCH_MEMBERS ?? 1_000_000);
const PER_CALL = 100_000;

const admin = (url, method, path, body) => adminCall(url, ADMIN, method, path, body);
const startServer = (databaseUrl) =>
  start(
    { ...process.env, DATABASE_URL: databaseUrl, AVIARY_ADMIN_TOKEN: ADMIN, AVIARY_DB_POOL_SIZE: '10', AVIARY_RATE_LIMIT_ADMIN: '0' },
    (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean),
  );

const status = (pid, field) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
function resetPeak(pid) {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5'); // resets VmHWM (peak RSS) on Linux
    return true;
  } catch {
    return false;
  }
}

async function main() {
  const name = `aviary_bench_${randomBytes(4).toString('hex')}`;
  const root = new pg.Client({ connectionString: PG_URL });
  await root.connect();
  await root.query(`CREATE DATABASE ${name}`);
  const dbUrl = PG_URL.replace(/\/[^/]*$/, `/${name}`);
  const rows = [];
  let child;
  try {
    const started = await startServer(dbUrl);
    child = started.child;
    const url = started.url;
    const flags = Array.from({ length: 32 }, (_, i) => `bench-${i}`);
    for (const key of flags) await admin(url, 'POST', '/api/v1/flags', { key, variants: [{ key: 'on' }] });

    let t0 = performance.now();
    for (let i = 0; i < SEQUENTIAL; i++) {
      await admin(url, 'PUT', `/api/v1/environments/production/flags/${flags[i % flags.length]}/rollout`, { percentage: i % 101 });
    }
    let s = (performance.now() - t0) / 1000;
    rows.push(['config writes, sequential', `${SEQUENTIAL} writes in ${s.toFixed(2)} s`, `${(SEQUENTIAL / s).toFixed(0)} writes/s`]);

    t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: WORKERS }, async () => {
        while (next < CONCURRENT) {
          const i = next++;
          await admin(url, 'PUT', `/api/v1/environments/production/flags/${flags[i % flags.length]}/rollout`, { percentage: i % 101 });
        }
      }),
    );
    s = (performance.now() - t0) / 1000;
    rows.push([`config writes, ${WORKERS} concurrent`, `${CONCURRENT} writes in ${s.toFixed(2)} s`, `${(CONCURRENT / s).toFixed(0)} writes/s`]);

    const env = await admin(url, 'GET', '/api/v1/environments/production');
    const expected = 1 + flags.length + SEQUENTIAL + CONCURRENT;
    rows.push(['production revision (dense check)', `${env.revision}`, env.revision === expected ? 'ok' : `expected ${expected}`]);

    await admin(url, 'POST', '/api/v1/cohorts', { key: 'million' });
    const rssBefore = status(child.pid, 'VmRSS');
    const peakReset = resetPeak(child.pid);
    let peak = rssBefore;
    const sampler = setInterval(() => (peak = Math.max(peak, status(child.pid, 'VmRSS'))), 20);
    t0 = performance.now();
    const callTimes = [];
    for (let start = 0; start < MEMBERS; start += PER_CALL) {
      const add = Array.from({ length: Math.min(PER_CALL, MEMBERS - start) }, (_, i) => `user-${(start + i).toString(36)}-${start + i}`);
      const c0 = performance.now();
      await admin(url, 'POST', '/api/v1/cohorts/million/members', { add });
      callTimes.push(performance.now() - c0);
    }
    s = (performance.now() - t0) / 1000;
    clearInterval(sampler);
    if (peakReset) peak = Math.max(peak, status(child.pid, 'VmHWM'));
    rows.push([`cohort upload, ${MEMBERS.toLocaleString('en')} members`, `${MEMBERS / PER_CALL} calls of ${PER_CALL.toLocaleString('en')} in ${s.toFixed(2)} s`, `${(MEMBERS / s).toFixed(0)} keys/s`]);
    rows.push(['  per call (min / max)', `${Math.min(...callTimes).toFixed(0)} / ${Math.max(...callTimes).toFixed(0)} ms`, '']);
    rows.push(['  server RSS before / peak during', `${rssBefore.toFixed(0)} / ${peak.toFixed(0)} MB`, peakReset ? 'VmHWM' : 'sampled every 20 ms']);

    t0 = performance.now();
    const cohort = await admin(url, 'GET', '/api/v1/cohorts/million');
    rows.push(['  member count read', `${cohort.counts.included.toLocaleString('en')}`, `${(performance.now() - t0).toFixed(1)} ms`]);
    t0 = performance.now();
    const page = await admin(url, 'GET', '/api/v1/cohorts/million/members?limit=1000&cursor=user-k');
    rows.push(['  one page of 1,000 members', `${page.items.length} keys`, `${(performance.now() - t0).toFixed(1)} ms`]);
  } finally {
    await stopServer(child);
    await root.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await root.end();
  }

  const widths = [0, 1, 2].map((i) => Math.max(...[['measure', 'result', 'rate'], ...rows].map((r) => r[i].length)));
  const line = (r) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(`\nbench:admin — Node ${process.version}, local Postgres, ${new Date().toISOString()}\n`);
  console.log(line(['measure', 'result', 'rate']));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
