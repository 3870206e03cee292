// Soak: admin writers and SSE streams against several server instances sharing one Postgres and
// one Redis, then checks that every stream holds the server's final ruleset and no write was lost.
//
//   npm run bench:soak                                   # 60 s, 100 writers, 2,000 streams, 2 instances
//   node bench/soak.mjs --seconds 5 --streams 200 --writers 10     # the short run of `npm test`
//
// Options: --seconds N  --streams N  --writers N  --instances N  --outage redis (restart Redis
// half-way)  --settle-seconds N  --entry <built main.js>  --json (one JSON summary line at the end).
// Postgres: a scratch database on SOAK_POSTGRES_URL (default the local postgres://postgres@127.0.0.1:5432);
// Redis: a private redis-server on a free port. The admin rate limit is off: this measures the
// write and fan-out path, not the limiter. Exit code 0 when every check passes.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { get } from 'node:http';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';

const { values: opts } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    streams: { type: 'string', default: '2000' },
    writers: { type: 'string', default: '100' },
    instances: { type: 'string', default: '2' },
    outage: { type: 'string' },
    'settle-seconds': { type: 'string', default: '30' },
    entry: { type: 'string', default: fileURLToPath(new URL('../apps/server/dist/apps/server/src/main.js', import.meta.url)) },
    json: { type: 'boolean', default: false },
  },
});
const SECONDS = Number(opts.seconds);
const STREAMS = Number(opts.streams);
const WRITERS = Number(opts.writers);
const INSTANCES = Number(opts.instances);
const SETTLE_MS = Number(opts['settle-seconds']) * 1000;
const PG_URL = process.env.SOAK_POSTGRES_URL ?? process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ADMIN = `ava_soak_${randomBytes(12).toString('hex')}`;
const log = (message) => process.stderr.write(`[soak] ${message}\n`);

// ------------------------------------------------------------------ processes

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function startRedis(port) {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code})`)));
    createInterface({ input: child.stdout }).on('line', (line) => /Ready to accept connections/.test(line) && resolve());
  });
  return child;
}

function startServer(name, env) {
  const child = spawn(process.execPath, [opts.entry], {
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: '0', LOG_FORMAT: 'json', LOG_LEVEL: 'warn', AVIARY_RATE_LIMIT_ADMIN: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = [];
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}):\n${output.join('\n')}`)));
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        output.push(line);
        if (output.length > 200) output.shift();
        const match = /listening on (http:\/\/[^\s"]+)/.exec(line);
        if (match) resolve({ name, child, output, url: match[1] });
      });
    }
  });
}

async function stopServer(server) {
  if (server.child.exitCode !== null) return;
  const exited = new Promise((r) => server.child.once('exit', r));
  server.child.kill('SIGTERM');
  await exited;
}

/** CPU seconds a process has used so far (Linux /proc; NaN elsewhere). */
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

// ------------------------------------------------------------------ HTTP

async function call(url, method, path, body) {
  const res = await fetch(url + path, {
    method,
    headers: { Authorization: `Bearer ${ADMIN}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  return { status: res.status, body: text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text };
}

async function must(url, method, path, body) {
  const res = await call(url, method, path, body);
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
  return res.body;
}

// ------------------------------------------------------------------ measurements

/** Millisecond histogram (0 … 60 s). */
class Histogram {
  counts = new Uint32Array(60_001);
  n = 0;
  max = 0;
  add(ms) {
    const v = Math.max(0, Math.min(60_000, Math.round(ms)));
    this.counts[v]++;
    this.n++;
    if (v > this.max) this.max = v;
  }
  percentile(p) {
    if (this.n === 0) return NaN;
    let seen = 0;
    const target = Math.ceil((p / 100) * this.n);
    for (let v = 0; v < this.counts.length; v++) if ((seen += this.counts[v]) >= target) return v;
    return this.max;
  }
}

const statuses = new Map();
let networkErrors = 0;
const writeLatency = new Histogram();
const delivery = new Histogram();
/** When the write that produces `${flag}@${version}` was sent. */
const sentAt = new Map();
/** The last acknowledged config of each writer's flag. */
const lastAck = new Map();

// ------------------------------------------------------------------ stream clients

const parsed = new Map();
function parse(data) {
  let value = parsed.get(data);
  if (value === undefined) {
    if (parsed.size > 20_000) parsed.clear();
    value = JSON.parse(data);
    parsed.set(data, value);
  }
  return value;
}

class StreamClient {
  revision = -1;
  flags = {};
  gaps = 0;
  events = 0;
  reconnects = 0;
  closed = false;
  constructor(url, key) {
    this.url = url;
    this.key = key;
  }

  connect() {
    return new Promise((resolve) => {
      const headers = { Authorization: `Bearer ${this.key}`, Accept: 'text/event-stream' };
      if (this.revision >= 0) headers['Last-Event-ID'] = String(this.revision);
      const req = get(`${this.url}/sdk/v1/stream`, { headers, agent: false }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          this.retry();
          resolve();
          return;
        }
        res.setEncoding('utf8');
        let buffer = '';
        res.on('data', (chunk) => {
          buffer += chunk;
          let end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            this.frame(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
          }
        });
        res.on('close', () => this.retry());
        resolve();
      });
      this.req = req;
      req.on('error', () => {
        this.retry();
        resolve();
      });
    });
  }

  retry() {
    if (this.closed || this.retrying) return;
    this.retrying = true;
    this.reconnects++;
    setTimeout(() => {
      this.retrying = false;
      if (!this.closed) void this.connect();
    }, 100 + Math.random() * 400);
  }

  frame(text) {
    let id;
    let event = 'message';
    let data = '';
    for (const line of text.split('\n')) {
      if (line.startsWith('id: ')) id = Number(line.slice(4));
      else if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data += line.slice(6);
    }
    if (id === undefined) return; // a heartbeat or the connect comment
    this.events++;
    const now = performance.now();
    const payload = parse(data);
    if (event === 'ruleset') {
      this.flags = { ...payload.flags };
      this.revision = id;
      return;
    }
    if (id <= this.revision) return;
    if (id !== this.revision + 1) {
      // The server never sends a change that does not follow the held revision.
      this.gaps++;
      return;
    }
    for (const [key, flag] of Object.entries(payload.flags ?? {})) {
      if (flag === null) delete this.flags[key];
      else {
        this.flags[key] = flag;
        const sent = sentAt.get(`${key}@${flag.version}`);
        if (sent !== undefined) delivery.add(now - sent);
      }
    }
    this.revision = id;
  }

  close() {
    this.closed = true;
    this.req?.destroy();
  }
}

const fingerprint = (flags) =>
  Object.keys(flags)
    .sort()
    .map((key) => `${key}:${flags[key].version}:${flags[key].enabled}`)
    .join(',');

// ------------------------------------------------------------------ the run

async function main() {
  const started = performance.now();
  const dbName = `aviary_soak_${randomBytes(4).toString('hex')}`;
  const root = new pg.Client({ connectionString: PG_URL });
  await root.connect();
  await root.query(`CREATE DATABASE ${dbName}`);
  const dbUrl = PG_URL.replace(/\/[^/]*$/, `/${dbName}`);
  const redisPort = await freePort();
  let redis = await startRedis(redisPort);
  const servers = [];
  const clients = [];
  let result;
  try {
    const env = {
      DATABASE_URL: dbUrl,
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      AVIARY_ADMIN_TOKEN: ADMIN,
      AVIARY_DB_POOL_SIZE: String(Math.min(40, Math.max(10, Math.ceil(WRITERS / INSTANCES / 2)))),
    };
    // One after the other: the first migrates the new database.
    for (let i = 0; i < INSTANCES; i++) servers.push(await startServer(`server-${i}`, env));
    const urls = servers.map((s) => s.url);
    log(`${INSTANCES} instances up (${urls.join(', ')})`);

    for (let i = 0; i < WRITERS; i++) await must(urls[i % urls.length], 'POST', '/api/v1/flags', { key: `soak-${i}` });
    const key = (await must(urls[0], 'POST', '/api/v1/api-keys', { name: 'soak', kind: 'server', environment: 'production' })).secret;

    for (let i = 0; i < STREAMS; i++) clients.push(new StreamClient(urls[i % urls.length], key));
    for (let i = 0; i < clients.length; i += 200) await Promise.all(clients.slice(i, i + 200).map((c) => c.connect()));
    const setupRevision = (await must(urls[0], 'GET', '/api/v1/environments/production')).revision;
    const connectDeadline = Date.now() + 30_000;
    while (clients.some((c) => c.revision < setupRevision) && Date.now() < connectDeadline) await new Promise((r) => setTimeout(r, 50));
    for (const c of clients) c.reconnects = 0;
    log(`${STREAMS} streams open at revision ${setupRevision}; writing for ${SECONDS} s`);

    // Writers: each owns one flag, so its last acknowledged write is that flag's final state.
    let running = true;
    const versions = new Map();
    for (let i = 0; i < WRITERS; i++) versions.set(`soak-${i}`, 1);
    const writers = Array.from({ length: WRITERS }, async (_, i) => {
      const flag = `soak-${i}`;
      for (let n = 1; running; n++) {
        const url = urls[(i + n) % urls.length];
        const base = `/api/v1/environments/production/flags/${flag}`;
        const [method, path, body] =
          n % 20 === 10 ? ['POST', `${base}/kill`, { reason: 'soak' }] : n % 20 === 11 ? ['POST', `${base}/revive`, { reason: 'soak' }] : ['PUT', `${base}/rollout`, { percentage: n % 100 }];
        const t0 = performance.now();
        sentAt.set(`${flag}@${versions.get(flag) + 1}`, t0);
        try {
          const res = await call(url, method, path, body);
          writeLatency.add(performance.now() - t0);
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          if (res.status === 200) {
            versions.set(flag, res.body.version);
            lastAck.set(flag, res.body);
          }
        } catch {
          // No answer (a timeout, a cut connection): the write may or may not have happened.
          // Like any client, read the current config before going on.
          networkErrors++;
          const current = await call(url, 'GET', base).catch(() => undefined);
          if (current?.status === 200) {
            versions.set(flag, current.body.version);
            lastAck.set(flag, current.body);
          }
        }
      }
    });

    let outage;
    if (opts.outage === 'redis') {
      outage = (async () => {
        await new Promise((r) => setTimeout(r, (SECONDS * 1000) / 2));
        log('outage: stopping Redis for 2 s');
        redis.kill('SIGKILL');
        await new Promise((r) => setTimeout(r, 2000));
        redis = await startRedis(redisPort);
        log('outage: Redis is back');
      })();
    } else if (opts.outage) {
      throw new Error(`--outage ${opts.outage}: only "redis" is supported`);
    }

    const writeStart = performance.now();
    const cpuStart = [...servers.map((srv) => cpuSeconds(srv.child.pid)), cpuSeconds(process.pid)];
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const cpuEnd = [...servers.map((srv) => cpuSeconds(srv.child.pid)), cpuSeconds(process.pid)];
    running = false;
    await Promise.all(writers);
    await outage;
    const writeSeconds = (performance.now() - writeStart) / 1000;
    const lastWrite = performance.now();

    // Settle: every stream reaches the final revision.
    const finalRevision = (await must(urls[0], 'GET', '/api/v1/environments/production')).revision;
    const settleDeadline = Date.now() + SETTLE_MS;
    while (clients.some((c) => c.revision !== finalRevision) && Date.now() < settleDeadline) await new Promise((r) => setTimeout(r, 20));
    const settleMs = performance.now() - lastWrite;

    // The server's own view, from every instance.
    const serverRulesets = await Promise.all(
      urls.map(async (url) => (await fetch(`${url}/sdk/v1/ruleset`, { headers: { Authorization: `Bearer ${key}` } })).json()),
    );
    const truth = fingerprint(serverRulesets[0].flags);
    const instancesAgree = serverRulesets.every((r) => r.revision === finalRevision && fingerprint(r.flags) === truth);
    const atFinal = clients.filter((c) => c.revision === finalRevision).length;
    const equal = clients.filter((c) => fingerprint(c.flags) === truth).length;
    let lost = 0;
    for (const [flag, ack] of lastAck) {
      const held = serverRulesets[0].flags[flag];
      const percentage = ack.rules?.[0]?.rollout?.percentage;
      if (!held || held.version !== ack.version || held.enabled !== ack.enabled || held.rules?.[0]?.rollout?.percentage !== percentage) lost++;
    }
    const rss = [];
    for (const url of urls) {
      const text = await (await fetch(`${url}/metrics`)).text();
      rss.push(Number(/^process_resident_memory_bytes (\S+)/m.exec(text)?.[1] ?? NaN) / 1024 / 1024);
    }

    const writes = [...statuses.values()].reduce((a, b) => a + b, 0);
    const fivexx = [...statuses].filter(([s]) => s >= 500).reduce((a, [, n]) => a + n, 0);
    const unexpected = [...statuses].filter(([s]) => s !== 200 && s < 500).reduce((a, [, n]) => a + n, 0);
    const gaps = clients.reduce((a, c) => a + c.gaps, 0);
    const reconnects = clients.reduce((a, c) => a + c.reconnects, 0);
    const events = clients.reduce((a, c) => a + c.events, 0);
    const checks = {
      'every stream at the final revision': atFinal === STREAMS,
      'every stream holds the server ruleset': equal === STREAMS,
      'instances agree': instancesAgree,
      'no acknowledged write lost': lost === 0,
      'no 5xx': fivexx === 0,
      'no unexpected 4xx': unexpected === 0,
      'no revision gaps': gaps === 0,
    };
    result = {
      seconds: SECONDS,
      instances: INSTANCES,
      writers: WRITERS,
      streams: STREAMS,
      outage: opts.outage ?? null,
      writes,
      writesPerSecond: writes / writeSeconds,
      statuses: Object.fromEntries(statuses),
      networkErrors,
      writeLatencyMs: { p50: writeLatency.percentile(50), p95: writeLatency.percentile(95), p99: writeLatency.percentile(99), max: writeLatency.max },
      deliveries: delivery.n,
      deliveryMs: { p50: delivery.percentile(50), p99: delivery.percentile(99), max: delivery.max },
      events,
      reconnects,
      gaps,
      finalRevision,
      atFinal,
      equal,
      lost,
      settleMs: Math.round(settleMs),
      rssMb: rss.map((m) => Math.round(m)),
      cpuPercent: cpuEnd.map((end, i) => Math.round(((end - cpuStart[i]) / SECONDS) * 100)),
      totalSeconds: (performance.now() - started) / 1000,
      checks,
      pass: Object.values(checks).every(Boolean),
    };
  } finally {
    for (const c of clients) c.close();
    await Promise.all(servers.map(stopServer));
    redis.kill('SIGKILL');
    await root.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
    await root.end();
  }

  const n = (v) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '–');
  const rows = [
    ['run', `${result.seconds} s, ${result.instances} instances, ${result.writers} writers, ${result.streams} streams${result.outage ? `, ${result.outage} restarted half-way` : ''}`],
    ['admin writes', `${n(result.writes)} (${result.writesPerSecond.toFixed(1)}/s)`],
    ['write statuses', Object.entries(result.statuses).map(([s, c]) => `${s}: ${n(c)}`).join(', ') + (result.networkErrors ? `; network errors: ${result.networkErrors}` : '')],
    ['write latency p50 / p95 / p99 / max', `${n(result.writeLatencyMs.p50)} / ${n(result.writeLatencyMs.p95)} / ${n(result.writeLatencyMs.p99)} / ${n(result.writeLatencyMs.max)} ms`],
    ['stream events received', n(result.events)],
    ['write sent → stream delivery p50 / p99 / max', `${n(result.deliveryMs.p50)} / ${n(result.deliveryMs.p99)} / ${n(result.deliveryMs.max)} ms (${n(result.deliveries)} deliveries)`],
    ['stream reconnects / revision gaps', `${result.reconnects} / ${result.gaps}`],
    ['streams on the final revision', `${n(result.atFinal)} / ${n(result.streams)} (revision ${n(result.finalRevision)}, settled ${n(result.settleMs)} ms after the last write)`],
    ['streams holding the server ruleset', `${n(result.equal)} / ${n(result.streams)}`],
    ['acknowledged writes lost', String(result.lost)],
    ['server RSS per instance', result.rssMb.map((m) => `${m} MB`).join(', ')],
    ['CPU while writing (of one core)', `${result.cpuPercent.slice(0, -1).map((c, i) => `server-${i} ${c} %`).join(', ')}, soak clients ${result.cpuPercent.at(-1)} %`],
    ['result', result.pass ? 'PASS' : `FAIL: ${Object.entries(result.checks).filter(([, ok]) => !ok).map(([k]) => k).join('; ')}`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  console.log(`\nAviary soak (Node ${process.version}, ${cpus().length} CPUs)\n`);
  console.log(`| ${'measure'.padEnd(width)} | value |`);
  console.log(`|${'-'.repeat(width + 2)}|-------|`);
  for (const [k, v] of rows) console.log(`| ${k.padEnd(width)} | ${v} |`);
  if (opts.json) console.log(JSON.stringify(result));
  process.exitCode = result.pass ? 0 : 1;
}

main().catch((err) => {
  console.error(`soak failed: ${err.stack ?? err.message}`);
  process.exit(1);
});
