// Propagation benchmark: how fast a write reaches every connected Node SDK client.
//
// Two server instances (built dist, env config) share a fresh Postgres database and a Redis of the
// bench's own; 1,000 @aviary/node clients (packages/node/dist) stream from them, half on each,
// spread over worker processes. 200 changes (half kills, half re-enables or rollout changes) go
// through the admin API, alternating between the instances, 50 ms apart. For each change and client
// the latency is the time from the admin API's response to the client's `kill` (kills) or `change`
// event for that revision. All processes run on this machine and read the same clock
// (performance.timeOrigin + performance.now()); the bench also measures each worker's clock offset
// over IPC and corrects for it. Two raw SSE probes in this process (one per instance, connected
// last) show when each instance finished writing an event to all its streams.
// The write's answer and the fan-out race for the same two cores, so "from the write request" is the
// figure that does not depend on which of them wins.
// Then: ruleset GET throughput (autocannon, 200 and 304 paths) and RSS per 1,000 idle streams.
//
// Usage: npm run bench:propagation   (or node bench/propagation.mjs after `npm run build`)
//   BENCH_POSTGRES_URL  default postgres://postgres@127.0.0.1:5432/postgres
//   BENCH_CLIENTS (1000) BENCH_WORKERS (4) BENCH_CHANGES (200) BENCH_SPACING_MS (50)
//   BENCH_REFERENCE_CHANGES (40) BENCH_REFERENCE_SPACING_MS (250): a second, slower pass on the same
//     clients, to show the latency when the machine is not saturated (0 = skip)
//   BENCH_COHORT_MEMBERS (20000) BENCH_MEMBER_CHANGES (as BENCH_REFERENCE_CHANGES): a third pass at
//     the reference pass's spacing, alternating a member change (one key added to or removed from a
//     cohort of that size, sent as a protocol 2 delta) and a rollout change, each kind written through
//     A and B in turn, reported apart (also per path, and the probes and writes by kind; 0 = skip)
//   BENCH_AUTOCANNON_S (10)  BENCH_NODE_ARGS / BENCH_WORKER_NODE_ARGS: extra node flags for the
//     servers / the client workers, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
//   BENCH_RAW_CLIENTS=1: bare node:http SSE readers instead of the SDK (to see what the SDK costs)
import { fork, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

if (process.argv[2] === '--worker') await worker();
else await main();

// -------------------------------------------------------------------------------------------------
// Worker: a share of the SDK clients; records when each client heard each revision.

async function worker() {
  const { createClient } = await import('../packages/node/dist/index.js');
  const clients = [];
  const records = []; // flat: client, revision, kind (1 kill, 0 change), time
  const problems = { errors: 0, warnings: 0, kinds: {} };
  const note = (message) => {
    const kind = String(message).replace(/\d+/g, 'N').slice(0, 70);
    problems.kinds[kind] = (problems.kinds[kind] ?? 0) + 1;
  };
  const logger = {
    error: (m) => (problems.errors++, note(m)),
    warn: (m) => (problems.warnings++, note(m)),
    info() {},
    debug() {},
  };
  const delay = monitorEventLoopDelay({ resolution: 5 });
  process.on('message', async (msg) => {
    if (msg.type === 'start' && process.env.BENCH_RAW_CLIENTS === '1') {
      // Comparison mode: minimal node:http SSE readers instead of the SDK (what the SDK's own work costs).
      await rawClients(msg, clients, records);
      process.send({ type: 'ready', ok: clients.filter((c) => c.initialized && c.status === 'streaming').length });
    } else if (msg.type === 'start') {
      msg.urls.forEach((url, i) => {
        const index = msg.first + i;
        const client = createClient({ url, sdkKey: msg.sdkKey, sendMetrics: false, logger });
        client.on('kill', (e) => records.push(index, e.revision, 1, now()));
        client.on('change', (e) => records.push(index, e.revision, 0, now()));
        clients.push(client);
      });
      const deadline = Date.now() + 60_000;
      while (!clients.every((c) => c.initialized && c.status === 'streaming') && Date.now() < deadline) await sleep(50);
      process.send({ type: 'ready', ok: clients.filter((c) => c.initialized && c.status === 'streaming').length });
    } else if (msg.type === 'clock') {
      process.send({ type: 'clock', id: msg.id, t: now() });
    } else if (msg.type === 'measure') {
      records.length = 0;
      delay.reset();
      delay.enable();
      process.send({ type: 'measuring' });
    } else if (msg.type === 'at') {
      process.send({ type: 'at', count: clients.filter((c) => c.revision >= msg.revision).length });
    } else if (msg.type === 'collect') {
      delay.disable();
      process.send({
        type: 'records',
        records: Float64Array.from(records),
        loopDelay: { p99: delay.percentile(99) / 1e6, max: delay.max / 1e6, mean: delay.mean / 1e6 },
        problems,
      });
    } else if (msg.type === 'close') {
      await Promise.all(clients.map((c) => c.close()));
      process.exit(0);
    }
  });
  process.send({ type: 'up' });
}

/** BENCH_RAW_CLIENTS=1: each "client" is a bare node:http stream that parses frames and JSON, no SDK. */
async function rawClients(msg, clients, records) {
  const { get } = await import('node:http');
  for (const [i, url] of msg.urls.entries()) {
    const index = msg.first + i;
    const client = { initialized: false, status: 'offline', revision: -1, close: async () => request.destroy() };
    const request = get(`${url}/sdk/v1/stream?protocol=2`, { headers: { authorization: `Bearer ${msg.sdkKey}`, accept: 'text/event-stream' } }, (res) => {
      client.status = 'streaming';
      res.setEncoding('utf8');
      let buffer = '';
      res.on('data', (text) => {
        buffer += text;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(frame)?.[1];
          const data = /^data: (.*)$/m.exec(frame)?.[1];
          if (!event || data === undefined) continue;
          const parsed = JSON.parse(data);
          const revision = Number(/^id: (\d+)$/m.exec(frame)?.[1] ?? parsed.revision);
          client.revision = revision;
          client.initialized = true;
          if (event === 'kill') records.push(index, revision, 1, now());
          if (event !== 'ruleset') records.push(index, revision, 0, now());
        }
      });
    });
    request.on('error', () => (client.status = 'offline'));
    clients.push(client);
  }
  const deadline = Date.now() + 60_000;
  while (!clients.every((c) => c.initialized) && Date.now() < deadline) await sleep(50);
}

// -------------------------------------------------------------------------------------------------
// Main: servers, writes, numbers.

async function main() {
  const { default: autocannon } = await import('autocannon');
  const SERVER = fileURLToPath(new URL('../apps/server/dist/apps/server/src/main.js', import.meta.url));
  const SDK = fileURLToPath(new URL('../packages/node/dist/index.js', import.meta.url));
  for (const file of [SERVER, SDK]) if (!existsSync(file)) throw new Error(`${file} is missing: run npm run build first`);
  const PG_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 1000);
  const WORKERS = Number(process.env.BENCH_WORKERS ?? 4);
  const CHANGES = Number(process.env.BENCH_CHANGES ?? 200);
  const SPACING_MS = Number(process.env.BENCH_SPACING_MS ?? 50);
  const AUTOCANNON_S = Number(process.env.BENCH_AUTOCANNON_S ?? 10);
  const REFERENCE_CHANGES = Number(process.env.BENCH_REFERENCE_CHANGES ?? 40);
  const FLAGS = 20;
  if (CHANGES % (2 * FLAGS) !== 0 || REFERENCE_CHANGES % (2 * FLAGS) !== 0) throw new Error(`change counts must be multiples of ${2 * FLAGS} (half kills, half re-enables)`);
  const REFERENCE_SPACING_MS = Number(process.env.BENCH_REFERENCE_SPACING_MS ?? 250);
  const COHORT_MEMBERS = Number(process.env.BENCH_COHORT_MEMBERS ?? 20_000);
  const MEMBER_CHANGES = Number(process.env.BENCH_MEMBER_CHANGES ?? REFERENCE_CHANGES);
  const ADMIN = `ava_bench_${randomBytes(12).toString('hex')}`;
  const started = Date.now();
  const load = [loadavg()[0]];

  const processes = [];
  const workers = [];
  let db;
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    for (const w of workers) w.kill('SIGKILL');
    await Promise.all(processes.map((p) => stop(p)));
    if (db) await withPg(PG_URL, (c) => c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`)).catch((e) => console.error(`could not drop ${db}: ${e.message}`));
  };
  const guard = setTimeout(() => {
    console.error('bench: over its 6-minute bound; stopping');
    void cleanup().finally(() => process.exit(1));
  }, 360_000);
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));

  try {
    // ---- setup
    db = `aviary_bench_${randomBytes(4).toString('hex')}`;
    await withPg(PG_URL, (c) => c.query(`CREATE DATABASE ${db}`));
    const databaseUrl = PG_URL.replace(/\/[^/]*$/, `/${db}`);
    const redisPort = await freePort();
    const redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    processes.push(redis);
    await waitFor('redis', async () => (await portOpen(redisPort)) || undefined, 5_000);
    const env = {
      PATH: process.env.PATH,
      HOST: '127.0.0.1',
      DATABASE_URL: databaseUrl,
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      AVIARY_ADMIN_TOKEN: ADMIN,
      LOG_LEVEL: 'warn',
      AVIARY_RATE_LIMIT_ADMIN: '0',
    };
    const a = await startServer(SERVER, 'A', env, processes);
    const b = await startServer(SERVER, 'B', env, processes);
    const api = (server) => async (method, path, body) => {
      const res = await fetch(`${server.url}/api/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} ${path} on ${server.name}: ${res.status} ${text.slice(0, 300)}`);
      return text ? JSON.parse(text) : undefined;
    };
    const adminA = api(a);
    const adminB = api(b);
    const { secret: sdkKey } = await adminA('POST', '/api-keys', { name: 'bench', kind: 'server', environment: 'production' });
    const flags = Array.from({ length: FLAGS }, (_, i) => `flag-${String(i).padStart(2, '0')}`);
    for (const key of flags) {
      await adminA('POST', '/flags', { key, variants: [{ key: 'on', weight: 1 }, { key: 'off', weight: 1 }] });
      await adminA('PUT', `/environments/production/flags/${key}`, { enabled: true, rules: [{ id: 'r', conditions: [], rollout: { percentage: 50 } }] });
    }
    await sleep(1_000);
    const rssBefore = { A: rss(a.child.pid), B: rss(b.child.pid) };

    // ---- clients
    const sdkUrls = Array.from({ length: CLIENTS }, (_, i) => (i % 2 === 0 ? a.url : b.url));
    const perWorker = Math.ceil(CLIENTS / WORKERS);
    const connectStart = now();
    for (let w = 0; w < WORKERS; w++) {
      const child = fork(fileURLToPath(import.meta.url), ['--worker'], {
        serialization: 'advanced',
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        execArgv: (process.env.BENCH_WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean),
      });
      workers.push(child);
      await nextMessage(child, 'up');
    }
    const ready = await Promise.all(
      workers.map((child, w) => {
        const first = w * perWorker;
        child.send({ type: 'start', first, urls: sdkUrls.slice(first, first + perWorker), sdkKey });
        return nextMessage(child, 'ready');
      }),
    );
    const connectedMs = now() - connectStart;
    const streaming = ready.reduce((n, r) => n + r.ok, 0);
    if (streaming !== CLIENTS) throw new Error(`only ${streaming} of ${CLIENTS} clients are streaming`);
    await sleep(3_000);
    const rssIdle = { A: rss(a.child.pid), B: rss(b.child.pid) };

    // Clock offsets of the workers (worker clock minus ours), from the round trip with the least delay.
    const offsets = [];
    for (const child of workers) {
      let best = { rtt: Infinity, offset: 0 };
      for (let i = 0; i < 30; i++) {
        const t0 = now();
        child.send({ type: 'clock', id: i });
        const { t } = await nextMessage(child, 'clock');
        const t1 = now();
        if (t1 - t0 < best.rtt) best = { rtt: t1 - t0, offset: t - (t0 + t1) / 2 };
      }
      offsets.push(best.offset);
    }

    // Raw probes, connected after the clients: they hear an event once the instance wrote it to all its streams.
    const probes = { A: await probe(a.url, sdkKey), B: await probe(b.url, sdkKey) };

    // ---- changes: the specified pass, then a slower reference pass (same clients)
    const components = { 'server A': [a.child.pid], 'server B': [b.child.pid], [`${WORKERS} SDK workers`]: workers.map((w) => w.pid), redis: [redis.pid], 'bench (writes, probes)': [process.pid] };
    const cpuNow = () => Object.fromEntries(Object.entries(components).map(([k, pids]) => [k, pids.reduce((n, pid) => n + cpuMs(pid), 0)]));
    const everyClientAt = (revision) =>
      waitFor(
        `every client at revision ${revision}`,
        async () => {
          const counts = await Promise.all(workers.map((child) => (child.send({ type: 'at', revision }), nextMessage(child, 'at'))));
          return counts.reduce((n, c) => n + c.count, 0) === CLIENTS || undefined;
        },
        15_000,
        100,
      ).catch((e) => console.error(`bench: ${e.message}`));
    let changeIndex = 0;
    const runPass = async (count, spacingMs, members = false) => {
      await Promise.all(workers.map((child) => (child.send({ type: 'measure' }), nextMessage(child, 'measuring'))));
      const cpuBefore = cpuNow();
      // One write at a time, as an operator or a rollout plan does: each starts at its slot, or when
      // the previous one answered if that is later (the achieved rate is printed). A flag alternates
      // kill / re-enable, FLAGS changes apart.
      const changes = [];
      const t0 = now();
      for (let n = 0; n < count; n++, changeIndex++) {
        const wait = t0 + n * spacingMs - now();
        if (wait > 0) await sleep(wait);
        const i = changeIndex;
        const round = Math.floor(i / FLAGS);
        const flag = flags[i % FLAGS];
        // The member pass alternates the kinds, so each kind takes turns between the instances too
        // (by the change count alone, every member change would go through the same one).
        const via = (members ? Math.floor(n / 2) : i) % 2 === 0 ? 'A' : 'B';
        const call = via === 'A' ? adminA : adminB;
        // The member pass alternates a member change with a rollout change of one flag, so that
        // the two are measured under the same conditions.
        const kind = members ? (n % 2 === 0 ? 'rollout' : 'member') : round % 2 === 0 ? 'kill' : Math.floor(round / 2) % 2 === 0 ? 'revive' : 'rollout';
        const sent = now();
        let view;
        if (kind === 'member') {
          const body = n % 4 === 1 ? { add: [`newcomer-${n}`] } : { remove: [`newcomer-${n - 2}`] };
          view = { revision: (await call('POST', '/cohorts/big/members', body)).revisions.production };
        } else if (kind === 'kill') view = await call('POST', `/environments/production/flags/${flag}/kill`, { reason: 'bench' });
        else if (kind === 'revive') view = await call('POST', `/environments/production/flags/${flag}/revive`, { reason: 'bench' });
        else view = await call('PUT', `/environments/production/flags/${flag}`, { enabled: true, rules: [{ id: 'r', conditions: [], rollout: { percentage: 1 + ((i * 37) % 99) } }] });
        changes.push({ revision: view.revision, kind, via, sent, answered: now() });
      }
      const lastRevision = changes.at(-1).revision;
      await everyClientAt(lastRevision);
      const cpuAfter = cpuNow();
      const phaseMs = now() - t0;
      const collected = await Promise.all(workers.map((child) => (child.send({ type: 'collect' }), nextMessage(child, 'records'))));
      load.push(loadavg()[0]);

      const byRevision = new Map(changes.map((c) => [c.revision, c]));
      const heard = new Map(); // `${client}:${revision}` -> time of the expected event (kill for kills, else change)
      collected.forEach(({ records }, w) => {
        for (let i = 0; i < records.length; i += 4) {
          const [client, revision, isKill, t] = [records[i], records[i + 1], records[i + 2], records[i + 3] - offsets[w]];
          const change = byRevision.get(revision);
          if (!change || (change.kind === 'kill') !== (isKill === 1)) continue;
          heard.set(`${client}:${revision}`, t);
        }
      });
      const groups = { all: [], 'all, from the write request': [], kill: [], 'revive/rollout': [], 'client on the written instance': [], 'client on the other instance (Redis)': [] };
      let missed = 0;
      const missedBy = new Map();
      for (const change of changes) {
        for (let client = 0; client < CLIENTS; client++) {
          const t = heard.get(`${client}:${change.revision}`);
          if (t === undefined) {
            missed++;
            missedBy.set(client, (missedBy.get(client) ?? 0) + 1);
            continue;
          }
          const ms = t - change.answered;
          groups.all.push(ms);
          groups['all, from the write request'].push(t - change.sent);
          (groups[change.kind === 'kill' ? 'kill' : change.kind === 'member' ? 'member added/removed' : members ? 'rollout (same pass)' : 'revive/rollout'] ??= []).push(ms);
          const clientOn = sdkUrls[client] === a.url ? 'A' : 'B';
          const where = clientOn === change.via ? 'client on the written instance' : 'client on the other instance (Redis)';
          groups[where].push(ms);
          // The member pass tells the two kinds apart on each path, to show where a difference comes from.
          if (members) (groups[`${change.kind}, ${where}`] ??= []).push(ms);
        }
      }
      const kinds = members ? ['rollout', 'member'] : [undefined];
      for (const [name, p] of Object.entries(probes)) {
        for (const kind of kinds) {
          const label = kind ? `probe on ${name}, ${kind} (server fan-out done)` : `probe on ${name} (server fan-out done)`;
          groups[label] = changes.filter((c) => !kind || c.kind === kind).map((c) => (p.heard.get(c.revision) ?? NaN) - c.answered).filter((x) => !Number.isNaN(x));
        }
      }
      for (const kind of kinds) groups[`admin API write${kind ? `, ${kind}` : ''} (request to response)`] = changes.filter((c) => !kind || c.kind === kind).map((c) => c.answered - c.sent);
      const cpu = Object.fromEntries(Object.keys(components).map((k) => [k, (cpuAfter[k] - cpuBefore[k]) / count]));
      const writeSpanMs = changes.at(-1).answered - t0;
      return { count, spacingMs, changes, groups, missed, missedBy, collected, cpu, phaseMs, lastRevision, writeSpanMs };
    };
    const passes = [await runPass(CHANGES, SPACING_MS)];
    if (REFERENCE_CHANGES > 0) passes.push(await runPass(REFERENCE_CHANGES, REFERENCE_SPACING_MS));
    let lastRevision = passes.at(-1).lastRevision;
    if (MEMBER_CHANGES > 0) {
      // A cohort large enough that a member change goes out as a delta (protocol 2's `members`),
      // and a flag that uses it; made now, and removed after its pass, so that the other passes
      // and the ruleset GETs below measure what they always did.
      await adminA('POST', '/cohorts', { key: 'big' });
      for (let i = 0; i < COHORT_MEMBERS; i += 100_000) {
        await adminA('POST', '/cohorts/big/members', { add: Array.from({ length: Math.min(100_000, COHORT_MEMBERS - i) }, (_, j) => `member-${i + j}`) });
      }
      await adminA('POST', '/flags', { key: 'gated' });
      const { revision } = await adminA('PUT', '/environments/production/flags/gated', { enabled: true, rules: [{ id: 'big', cohorts: ['big'] }] });
      await everyClientAt(revision);
      passes.push(await runPass(MEMBER_CHANGES, REFERENCE_SPACING_MS, true));
      await adminA('DELETE', '/flags/gated', { reason: 'bench' });
      await adminA('DELETE', '/cohorts/big', { reason: 'bench' });
      lastRevision = (await adminA('GET', '/environments/production')).revision;
      await everyClientAt(lastRevision);
    }
    for (const p of Object.values(probes)) p.close();

    // ---- throughput
    for (const child of workers) child.send({ type: 'close' });
    await Promise.all(workers.map((child) => new Promise((resolve) => child.once('exit', resolve))));
    workers.length = 0;
    const rulesetUrl = `${a.url}/sdk/v1/ruleset`;
    const rulesetBytes = (await (await fetch(rulesetUrl, { headers: { authorization: `Bearer ${sdkKey}` } })).text()).length;
    const cannon = (headers) =>
      new Promise((resolve, reject) =>
        autocannon({ url: rulesetUrl, connections: 50, duration: AUTOCANNON_S, headers: { authorization: `Bearer ${sdkKey}`, ...headers } }, (err, res) => (err ? reject(err) : resolve(res))),
      );
    const ok = await cannon({});
    const notModified = await cannon({ 'if-none-match': `"${lastRevision}"` });
    load.push(loadavg()[0]);

    // ---- report
    const pct = (xs, p) => {
      if (xs.length === 0) return NaN;
      const sorted = [...xs].sort((x, y) => x - y);
      return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
    };
    const f = (x) => (Number.isNaN(x) ? '–' : x.toFixed(1));
    const row = (name, xs) => `| ${name.padEnd(52)} | ${f(pct(xs, 50)).padStart(6)} | ${f(pct(xs, 95)).padStart(6)} | ${f(pct(xs, 99)).padStart(6)} | ${f(xs.reduce((m, x) => Math.max(m, x), -Infinity)).padStart(7)} | ${String(xs.length).padStart(7)} |`;
    const lines = [];
    lines.push(`\nPropagation: ${CLIENTS} @aviary/node clients (${CLIENTS / 2} on A, ${CLIENTS / 2} on B) in ${WORKERS} worker processes, all ${CLIENTS} streaming ${(connectedMs / 1000).toFixed(1)} s after start; writes alternate A/B, half kills`);
    lines.push(`latency = the client's kill (kills) or change event minus the admin API response (below 0: the client heard it first), ms; "from the write request": minus when the request was sent; worker clock offsets ${offsets.map((o) => o.toFixed(2)).join(', ')} ms (corrected)`);
    for (const [index, pass] of passes.entries()) {
      const p99 = pct(pass.groups.all, 99);
      lines.push('');
      const title = [`Specified pass`, 'Reference pass (slower, same clients)', `Member pass (the reference's spacing; every other change adds a member to or removes one from the ${COHORT_MEMBERS.toLocaleString('en')}-member cohort "big", a protocol 2 delta, the others change one flag's rollout)`][index];
      lines.push(`${title}: ${pass.count} changes (${pass.changes.filter((c) => c.kind === 'kill').length} kills), one every ${pass.spacingMs} ms (${(pass.count / (pass.writeSpanMs / 1000)).toFixed(1)} writes/s achieved)`);
      lines.push('');
      lines.push(`| ${'measure'.padEnd(52)} | ${'p50'.padStart(6)} | ${'p95'.padStart(6)} | ${'p99'.padStart(6)} | ${'max'.padStart(7)} | ${'n'.padStart(7)} |`);
      lines.push(`|${'-'.repeat(54)}|--------|--------|--------|---------|---------|`);
      for (const [name, xs] of Object.entries(pass.groups)) if (xs.length) lines.push(row(name, xs));
      lines.push('');
      lines.push(`missed: ${pass.missed} (client, change) pairs${pass.missed ? ` over ${pass.missedBy.size} clients` : ''}; target p99 <= 50 ms: ${p99 <= 50 ? 'met' : 'MISSED'} (p99 ${f(p99)} ms)`);
      lines.push(`worker event-loop delay (ms): ${pass.collected.map((c) => `p99 ${c.loopDelay.p99.toFixed(0)} / max ${c.loopDelay.max.toFixed(0)}`).join('; ')}`);
      lines.push(`CPU per change (ms): ${Object.entries(pass.cpu).map(([k, ms]) => `${k} ${ms.toFixed(1)}`).join(', ')}; pass took ${(pass.phaseMs / 1000).toFixed(1)} s`);
      const kinds = {};
      for (const c of pass.collected) for (const [k, n] of Object.entries(c.problems.kinds)) kinds[k] = (kinds[k] ?? 0) + n;
      if (Object.keys(kinds).length) lines.push(`client warnings/errors so far: ${Object.entries(kinds).map(([k, n]) => `${n}x "${k}"`).join('; ')}`);
    }
    lines.push('');
    lines.push(`Ruleset GET on A (autocannon, 50 connections, ${AUTOCANNON_S} s each, ${FLAGS} flags = ${rulesetBytes} bytes of JSON)`);
    lines.push('');
    lines.push('| path                        |   req/s | p50 ms | p99 ms | responses | errors |');
    lines.push('|-----------------------------|---------|--------|--------|-----------|--------|');
    const cannonRow = (name, r, expected) =>
      `| ${name.padEnd(27)} | ${String(Math.round(r.requests.average)).padStart(7)} | ${String(r.latency.p50).padStart(6)} | ${String(r.latency.p99).padStart(6)} | ${String(r[expected]).padStart(9)} | ${String(r.errors + r.timeouts + r.non2xx - (expected === '3xx' ? r['3xx'] : 0)).padStart(6)} |`;
    lines.push(cannonRow('200 (full ruleset, JSON)', ok, '2xx'));
    lines.push(cannonRow('304 (If-None-Match current)', notModified, '3xx'));
    lines.push('');
    lines.push('Memory (VmRSS of the server process)');
    lines.push('');
    lines.push('| instance | before clients | 500 idle streams | delta | per 1,000 streams |');
    lines.push('|----------|----------------|------------------|-------|-------------------|');
    for (const name of ['A', 'B']) {
      const streams = sdkUrls.filter((u) => u === (name === 'A' ? a.url : b.url)).length;
      const delta = rssIdle[name] - rssBefore[name];
      lines.push(`| ${name}        | ${rssBefore[name].toFixed(0).padStart(11)} MB | ${rssIdle[name].toFixed(0).padStart(13)} MB | ${delta.toFixed(0).padStart(2)} MB | ${((delta * 1000) / streams).toFixed(0).padStart(14)} MB |`);
    }
    lines.push('');
    lines.push(`1-min load average: ${load.map((l) => l.toFixed(1)).join(' -> ')} on ${availableParallelism()} cores; bench took ${((Date.now() - started) / 1000).toFixed(0)} s`);
    console.log(lines.join('\n'));
    process.exitCode = passes.every((p) => p.missed === 0) ? 0 : 1;
  } finally {
    clearTimeout(guard);
    await cleanup();
  }
}

// -------------------------------------------------------------------------------------------------
// Helpers

async function withPg(url, work) {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** CPU time (user + system) of a process so far, in ms (Linux clock ticks of 10 ms). */
function cpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

function rss(pid) {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
}

async function waitFor(what, check, timeoutMs, everyMs = 50) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function portOpen(port) {
  const { Socket } = await import('node:net');
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => (socket.destroy(), resolve(false)));
    socket.connect(port, '127.0.0.1');
  });
}

async function startServer(main, name, env, processes) {
  const port = await freePort();
  const args = [...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean), main];
  const child = spawn(process.execPath, args, { env: { ...env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'pipe'] });
  processes.push(child);
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr = (stderr + chunk).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    `server ${name}`,
    async () => {
      if (child.exitCode !== null) throw new Error(`server ${name} exited: ${stderr}`);
      try {
        return (await fetch(`${url}/healthz`)).ok || undefined;
      } catch {
        return undefined;
      }
    },
    30_000,
  );
  return { name, url, child };
}

function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => (clearTimeout(force), resolve()));
    child.kill('SIGTERM');
  });
}

function nextMessage(child, type) {
  return new Promise((resolve, reject) => {
    const onMessage = (msg) => {
      if (msg.type !== type) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(msg);
    };
    const onExit = (code) => reject(new Error(`worker exited (${code}) while waiting for "${type}"`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** A raw SSE reader that notes when each revision's event arrived. */
async function probe(url, sdkKey) {
  const abort = new AbortController();
  const heard = new Map();
  const res = await fetch(`${url}/sdk/v1/stream?protocol=2`, { headers: { authorization: `Bearer ${sdkKey}`, accept: 'text/event-stream' }, signal: abort.signal });
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  void (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        const t = now();
        buffer += decoder.decode(value, { stream: true });
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const id = /^id: (\d+)$/m.exec(frame)?.[1];
          if (id !== undefined && !heard.has(Number(id))) heard.set(Number(id), t);
        }
      }
    } catch {
      // closed
    }
  })();
  return { heard, close: () => abort.abort() };
}
