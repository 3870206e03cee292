// Large cohorts: what one cohort of many members costs the server, with the 2 environments of a
// new installation and with many — time from the process start to listening (every environment's ruleset loaded),
// the server's memory right after, and the size of a server key's ruleset over HTTP and of the
// first `ruleset` event of its stream (each raw and gzip); then, with the many environments, what
// one member added or removed costs each connected protocol 2 stream. Members are written straight
// into Postgres (the upload API is not what this measures: bench/admin.mjs does).
//
// Usage: npm run bench:cohorts   (or node bench/cohorts.mjs after `npm run build`)
//   BENCH_MEMBERS (200000)  BENCH_ENVIRONMENTS (50): the cohort's size and the larger setup's
//   environments; BENCH_STREAMS (10): streams connected during the member change; BENCH_STORM (100):
//   streams opened at once, each sent the whole ruleset, plain and gzip (0 = skip);
//   BENCH_POSTGRES_URL (postgres://postgres@127.0.0.1:5432/postgres)
// The time a member change takes to reach 1,000 SDKs beside a flag change: bench/propagation.mjs.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { loadavg } from 'node:os';
import { constants as zlib, createGunzip } from 'node:zlib';
import pg from 'pg';
import { adminCall, startServer, stopServer } from './server.mjs';

const MEMBERS = Number(process.env.BENCH_MEMBERS ?? 200_000);
const ENVIRONMENTS = Number(process.env.BENCH_ENVIRONMENTS ?? 50);
const PG_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const TOKEN = 'ava_bench_cohorts_0123456789abcdef';
/** Protocol 2 streams connected while one member changes. */
const STREAMS = Number(process.env.BENCH_STREAMS ?? 10);
/** Streams that connect at once (a reconnect storm: an instance restarted), each sent the whole ruleset. */
const STORM = Number(process.env.BENCH_STORM ?? 100);

if (process.argv[2] === '--sdk') {
  // A Node SDK client holding the ruleset, in a process of its own: its memory beside the raw bytes
  // of the member keys (one flag evaluated, so the member sets exist too).
  const [url, key] = process.argv.slice(3);
  const { createClient } = await import('../packages/node/dist/index.js');
  const heap = () => (globalThis.gc(), process.memoryUsage());
  const before = heap();
  const client = createClient({ url, sdkKey: key });
  await client.ready();
  const member = client.isEnabled('gated', { key: 'user-1' });
  const after = heap();
  await client.close();
  console.log(JSON.stringify({ member, heapMb: (after.heapUsed - before.heapUsed) / 1e6, externalMb: (after.external - before.external) / 1e6 }));
  process.exit(0);
}

const rssMb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;

/** The body's bytes as sent, with and without `Accept-Encoding: gzip`. */
function rulesetBytes(url, key, gzip) {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/sdk/v1/ruleset`, { headers: { authorization: `Bearer ${key}`, ...(gzip ? { 'accept-encoding': 'gzip' } : {}) } }, (res) => {
      let n = 0;
      res.on('data', (chunk) => (n += chunk.length));
      res.on('end', () => (res.statusCode === 200 ? resolve(n) : reject(new Error(`ruleset: ${res.statusCode}`))));
    });
    req.on('error', reject).end();
  });
}

/**
 * A protocol 2 stream of a server key, counting its bytes as sent and its events by type (a frame
 * at a time, so that the first ruleset's megabytes are not kept).
 */
function openStream(url, key, gzip) {
  return new Promise((resolve, reject) => {
    const stream = { bytes: 0, events: {}, close: () => req.destroy() };
    const req = request(`${url}/sdk/v1/stream?protocol=2`, { headers: { authorization: `Bearer ${key}`, accept: 'text/event-stream', ...(gzip ? { 'accept-encoding': 'gzip' } : {}) } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`stream: ${res.statusCode}`));
      res.on('data', (chunk) => (stream.bytes += chunk.length));
      const body = res.headers['content-encoding'] === 'gzip' ? res.pipe(createGunzip({ flush: zlib.Z_SYNC_FLUSH })) : res;
      body.setEncoding('utf8');
      // The start of the frame being read (its event line is there), and whether the last chunk
      // ended with a newline (a frame ends with a blank line, which may straddle two chunks).
      let head = '';
      let newline = false;
      const complete = () => {
        const type = /^event: (\w+)$/m.exec(head)?.[1];
        if (type) stream.events[type] = (stream.events[type] ?? 0) + 1;
        head = '';
      };
      body.on('data', (chunk) => {
        let from = 0;
        if (newline && chunk[0] === '\n') {
          complete();
          from = 1;
        }
        for (let end; (end = chunk.indexOf('\n\n', from)) >= 0; from = end + 2) {
          if (head.length < 200) head += chunk.slice(from, Math.min(end, from + 200));
          complete();
        }
        if (head.length < 200) head += chunk.slice(from, from + 200);
        newline = chunk.endsWith('\n');
      });
      resolve(stream);
    });
    req.on('error', (err) => (err.code === 'ECONNRESET' ? undefined : reject(err))).end();
  });
}

const until = async (check, what, timeoutMs = 60_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${typeof what == 'function' ? what() : what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

/**
 * One member added to the cohort, then removed, while `STREAMS` protocol 2 streams (half gzip) are
 * connected: the most bytes any stream received for each change, and the time from the write's
 * request until every stream had it.
 */
async function memberChanges(url, key) {
  const streams = await Promise.all(Array.from({ length: STREAMS }, (_, i) => openStream(url, key, i % 2 === 0)));
  await until(() => streams.every((s) => s.events.ruleset >= 1), () => `the first rulesets (${JSON.stringify(streams.map((s) => [s.bytes, s.events]))})`);
  const changes = [];
  for (const [n, body] of [[1, { add: ['newcomer'] }], [2, { remove: ['newcomer'] }]]) {
    const before = streams.map((s) => s.bytes);
    const sent = performance.now();
    await adminCall(url, TOKEN, 'POST', '/api/v1/cohorts/big/members', body);
    await until(() => streams.every((s) => s.events.change === n), () => `the member change on every stream (${JSON.stringify(streams.map((s) => s.events))})`);
    const ms = performance.now() - sent;
    const bytes = (gzip) => Math.max(...streams.filter((_, i) => (i % 2 === 0) === gzip).map((s) => s.bytes - before[streams.indexOf(s)]));
    changes.push({ what: Object.keys(body)[0], plain: bytes(false), gzip: bytes(true), ms, reloads: streams.filter((s) => s.events.ruleset !== 1).length });
  }
  for (const s of streams) s.close();
  return changes;
}

/** The bytes of `GET /sdk/v1/stream` as sent until its first `ruleset` event is whole, with and without `Accept-Encoding: gzip`. */
function firstEventBytes(url, key, gzip) {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/sdk/v1/stream`, { headers: { authorization: `Bearer ${key}`, accept: 'text/event-stream', ...(gzip ? { 'accept-encoding': 'gzip' } : {}) } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`stream: ${res.statusCode}`));
      let n = 0;
      res.on('data', (chunk) => (n += chunk.length));
      const body = res.headers['content-encoding'] === 'gzip' ? res.pipe(createGunzip({ flush: zlib.Z_SYNC_FLUSH })) : res;
      if (gzip !== (body !== res)) return reject(new Error(`stream: content-encoding ${res.headers['content-encoding']} for accept-encoding ${gzip ? 'gzip' : 'none'}`));
      body.setEncoding('utf8');
      let text = '';
      body.on('data', (chunk) => {
        text += chunk;
        const start = text.indexOf('event: ruleset\n');
        if (start >= 0 && text.indexOf('\n\n', start) >= 0) {
          req.destroy();
          resolve(n);
        }
      });
    });
    req.on('error', (err) => (err.code === 'ECONNRESET' ? undefined : reject(err))).end();
  });
}

/** CPU seconds (user + system) the process has used: fields 14 and 15 of /proc/<pid>/stat (100 ticks/s). */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * `STORM` server-key streams opened at once, as after an instance restart, each needing the whole
 * ruleset: the time until every one has received it and the server CPU it took, plain and gzip.
 */
async function storm(url, key, pid) {
  const runs = [];
  for (const gzip of [false, true]) {
    const cpu = cpuSeconds(pid);
    const started = performance.now();
    const streams = await Promise.all(Array.from({ length: STORM }, () => openStream(url, key, gzip)));
    await until(() => streams.every((s) => s.events.ruleset >= 1), () => `the storm's rulesets (${streams.filter((s) => s.events.ruleset >= 1).length} of ${STORM})`, 120_000);
    runs.push({ gzip, ms: performance.now() - started, cpu: cpuSeconds(pid) - cpu, rss: rssMb(pid) });
    for (const s of streams) s.close();
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return runs;
}

async function measure(environments) {
  const name = `bench_cohorts_${process.pid}_${environments}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  const env = { PATH: process.env.PATH, DATABASE_URL: url.href, AVIARY_ADMIN_TOKEN: TOKEN, AVIARY_RATE_LIMIT_ADMIN: '0' };
  try {
    // Set up through the API (migrations, environments, the cohort and a flag using it, a key) ...
    const setup = await startServer(env);
    const call = (method, path, body) => adminCall(setup.url, TOKEN, method, `/api/v1${path}`, body);
    const existing = (await call('GET', '/environments?limit=1000')).items.length;
    for (let i = existing; i < environments; i++) await call('POST', '/environments', { key: `env-${i}` });
    await call('POST', '/cohorts', { key: 'big', name: 'big' });
    await call('POST', '/flags', { key: 'gated' });
    await call('PUT', '/environments/production/flags/gated', { enabled: true, rules: [{ id: 'r', cohorts: ['big'] }] });
    const { secret } = await call('POST', '/api-keys', { name: 'bench', kind: 'server', environment: 'production' });
    await stopServer(setup.child);
    // ... then the members straight into Postgres, as an upload would leave them.
    const db = new pg.Client({ connectionString: url.href });
    await db.connect();
    await db.query(
      `INSERT INTO cohort_members (cohort_id, key) SELECT c.id, 'user-' || g FROM cohorts c, generate_series(1, $1) g WHERE c.key = 'big'`,
      [MEMBERS],
    );
    await db.query("UPDATE cohorts SET included_count = $1, updated_at = now() WHERE key = 'big'", [MEMBERS]);
    const count = (await db.query('SELECT count(*)::int AS n FROM environments')).rows[0].n;
    await db.end();

    const started = performance.now();
    const server = await startServer(env);
    const startMs = performance.now() - started;
    try {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const rss = rssMb(server.child.pid);
      const raw = await rulesetBytes(server.url, secret, false);
      const gzip = await rulesetBytes(server.url, secret, true);
      const event = await firstEventBytes(server.url, secret, false);
      const eventGzip = await firstEventBytes(server.url, secret, true);
      const members = environments === ENVIRONMENTS ? await memberChanges(server.url, secret) : [];
      const storms = environments === ENVIRONMENTS && STORM > 0 ? await storm(server.url, secret, server.child.pid) : [];
      const sdk = JSON.parse(execFileSync(process.execPath, ['--expose-gc', new URL(import.meta.url).pathname, '--sdk', server.url, secret], { encoding: 'utf8' }));
      return { environments: count, startMs, rss, raw, gzip, event, eventGzip, sdk, members, storms };
    } finally {
      await stopServer(server.child);
    }
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

const rows = [];
for (const environments of [2, ENVIRONMENTS]) rows.push(await measure(environments));
const [one, many] = rows;
const mb = (bytes) => (bytes / 1e6).toFixed(2);
console.log(`\nbench:cohorts: one cohort of ${MEMBERS.toLocaleString('en')} members ("user-1" ...), one flag using it; server start = process start to listening\n`);
console.log('| environments | start s | RSS after start MB | server-key ruleset MB | gzip MB | first stream event MB | gzip MB |');
console.log('|--------------|---------|--------------------|-----------------------|---------|-----------------------|---------|');
for (const r of rows) {
  console.log(`| ${String(r.environments).padStart(12)} | ${(r.startMs / 1000).toFixed(1).padStart(7)} | ${r.rss.toFixed(0).padStart(18)} | ${mb(r.raw).padStart(21)} | ${mb(r.gzip).padStart(7)} | ${mb(r.event).padStart(21)} | ${mb(r.eventGzip).padStart(7)} |`);
}
console.log(`\nmemory with ${many.environments} environments vs ${one.environments}: ${(many.rss / one.rss).toFixed(2)}x (goal <= 1.2x); start with ${many.environments}: ${(many.startMs / 1000).toFixed(1)} s (goal <= 5 s)`);
console.log(`\nOne member added to that cohort, then removed (POST /api/v1/cohorts/big/members), with ${STREAMS} protocol 2 server-key streams connected (half gzip):\n`);
console.log('| change | bytes per stream, plain | bytes per stream, gzip | request to every stream, ms | whole rulesets sent |');
console.log('|--------|-------------------------|------------------------|-----------------------------|---------------------|');
for (const c of many.members) console.log(`| ${c.what.padEnd(6)} | ${String(c.plain).padStart(23)} | ${String(c.gzip).padStart(22)} | ${c.ms.toFixed(1).padStart(27)} | ${String(c.reloads).padStart(19)} |`);
console.log(`bytes per change: at most ${Math.max(...many.members.map((c) => Math.max(c.plain, c.gzip)))} (goal <= 2 KB)`);
if (many.storms.length > 0) {
  console.log(`\n${STORM} server-key streams opened at once (a reconnect storm), each sent the whole ruleset:\n`);
  console.log('| encoding | until every stream has it, ms | server CPU, s | server RSS after, MB |');
  console.log('|----------|-------------------------------|---------------|---------------------|');
  for (const r of many.storms) console.log(`| ${(r.gzip ? 'gzip' : 'plain').padEnd(8)} | ${r.ms.toFixed(0).padStart(29)} | ${r.cpu.toFixed(2).padStart(13)} | ${r.rss.toFixed(0).padStart(19)} |`);
}
const keyBytes = Array.from({ length: MEMBERS }, (_, i) => `user-${i + 1}`).reduce((n, k) => n + k.length, 0);
const sdk = many.sdk;
console.log(`Node SDK holding that ruleset: ${(sdk.heapMb + sdk.externalMb).toFixed(1)} MB (heap ${sdk.heapMb.toFixed(1)}, external ${sdk.externalMb.toFixed(1)}) for ${(keyBytes / 1e6).toFixed(1)} MB of member keys: ${((sdk.heapMb + sdk.externalMb) * 1e6 / keyBytes).toFixed(1)}x (goal <= 2x); a member evaluated ${sdk.member ? 'on' : 'OFF (wrong)'}`);
console.log(`1-min load average ${loadavg()[0].toFixed(1)}`);
