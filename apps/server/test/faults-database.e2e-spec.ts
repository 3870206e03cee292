import { join } from 'node:path';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { loadConfig } from '../src/config/config.js';
import { openDatabase } from '../src/database/data-source.js';
import { watchDatabase } from '../src/observability/database-errors.js';
import type { Logger } from '../src/observability/logger.js';
import { ServerMetrics } from '../src/observability/server-metrics.js';
import { ADMIN_TOKEN, createTestDatabase } from './helpers.js';
import { ServerProcess } from '@aviary/test-support';
import { adminCall, freePort, serverBuild, SilenceableProxy, SilentTcpServer, sleep, waitFor } from './real-processes.js';

/**
 * Database faults (docs/security.md "Database timeouts"), with the built server as a real process:
 * a DATABASE_URL nobody listens on, one that accepts and never answers, a statement blocked by a
 * lock, and a database that stops answering under a running server.
 */

const PASSWORD = 's3cret-pw-never-logged';

type LogLine = { level?: string; time?: string; msg?: string; timeout?: string };
const parse = (output: string[]): LogLine[] =>
  output.flatMap((line) => {
    try {
      return [JSON.parse(line) as LogLine];
    } catch {
      return [];
    }
  });
const at = (line: LogLine | undefined) => Date.parse(line?.time ?? '');

let entry: string;

beforeAll(() => {
  entry = join(serverBuild(), 'apps/server/src/main.js');
}, 120_000);

describe('start-up against a database that is not there', () => {
  it('retries a closed port with a doubling delay for AVIARY_DB_CONNECT_RETRY_MS, then exits with one line naming host:port, never the password', async () => {
    const port = await freePort();
    const run = await ServerProcess.run({ entry, env: { DATABASE_URL: `postgres://aviary:${PASSWORD}@127.0.0.1:${port}/aviary`, AVIARY_DB_CONNECT_RETRY_MS: '3000' }, timeoutMs: 30_000 });
    onTestFailed(() => console.log(run.output.join('\n')));
    const lines = parse(run.output);
    const retries = lines.filter((l) => l.level === 'warn' && /unreachable/.test(l.msg ?? ''));
    const last = lines.at(-1);
    expect(run.timedOut).toBe(false);
    expect(run.code).toBe(1);
    for (const line of retries) expect(line.msg).toMatch(new RegExp(`^Postgres at 127\\.0\\.0\\.1:${port} \\(DATABASE_URL\\) is unreachable \\(connect ECONNREFUSED [^)]*\\); attempt \\d+ failed, retrying in \\d+ ms$`));
    expect(retries.map((l) => Number(/retrying in (\d+) ms/.exec(l.msg!)![1])).slice(0, 3)).toEqual([250, 500, 1000]);
    expect(last?.level).toBe('error');
    expect(last?.msg).toMatch(new RegExp(`^Cannot reach Postgres at 127\\.0\\.0\\.1:${port} \\(DATABASE_URL\\) after ${retries.length + 1} attempts in \\d+\\.\\d s: connect ECONNREFUSED`));
    expect(last?.msg).not.toContain('\n');
    const retriedFor = at(last) - at(retries[0]);
    console.log(`closed port: ${retries.length + 1} attempts, gave up ${retriedFor} ms after the first failed`);
    expect(retriedFor).toBeGreaterThan(2500);
    expect(retriedFor).toBeLessThan(3000 + 1500);
    expect(run.output.join('\n')).not.toContain(PASSWORD);
  });

  it('gives up on a database that accepts and never answers, naming the connect timeout, instead of hanging', async () => {
    const silent = await SilentTcpServer.create();
    try {
      const run = await ServerProcess.run({ entry, env: { DATABASE_URL: `postgres://aviary:${PASSWORD}@127.0.0.1:${silent.port}/aviary`, AVIARY_DB_CONNECT_TIMEOUT_MS: '1000', AVIARY_DB_CONNECT_RETRY_MS: '2500' }, timeoutMs: 30_000 });
      onTestFailed(() => console.log(run.output.join('\n')));
      const lines = parse(run.output);
      const starting = lines.find((l) => /Starting Nest application/.test(l.msg ?? ''));
      const retries = lines.filter((l) => l.level === 'warn' && /unreachable/.test(l.msg ?? ''));
      const last = lines.at(-1);
      expect(run.timedOut).toBe(false);
      expect(run.code).toBe(1);
      expect(retries.length).toBeGreaterThanOrEqual(2);
      for (const line of retries) expect(line.msg).toContain('connect timeout hit: no answer within AVIARY_DB_CONNECT_TIMEOUT_MS = 1000 ms');
      // The first line comes one connect timeout after the start, not never.
      const firstLineAfter = at(retries[0]) - at(starting);
      const gaveUpAfter = at(last) - at(starting);
      console.log(`silent database: first log line ${firstLineAfter} ms after "Starting Nest application", exit after ${gaveUpAfter} ms`);
      expect(firstLineAfter).toBeGreaterThanOrEqual(900);
      expect(firstLineAfter).toBeLessThan(2500);
      expect(last?.msg).toMatch(new RegExp(`^Cannot reach Postgres at 127\\.0\\.0\\.1:${silent.port} \\(DATABASE_URL\\) after \\d+ attempts in \\d+\\.\\d s: connect timeout hit`));
      // The last attempt may start just before the retry time is up: one connect timeout more.
      expect(gaveUpAfter).toBeLessThan(2500 + 1000 + 1500);
      expect(run.output.join('\n')).not.toContain(PASSWORD);
    } finally {
      await silent.close();
    }
  });
});

describe('a running server whose database blocks or stops answering', () => {
  const LIMITS = { AVIARY_DB_CONNECT_TIMEOUT_MS: '1000', AVIARY_DB_STATEMENT_TIMEOUT_MS: '1000', AVIARY_DB_QUERY_TIMEOUT_MS: '2000' };
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let proxy: SilenceableProxy;
  let server: ServerProcess;
  let percentage = 0;

  const write = () => adminCall(server.url, ADMIN_TOKEN, 'PUT', '/api/v1/environments/production/flags/timeouts/rollout', { percentage: ++percentage % 100 });
  const timeoutLines = (kind: string) => parse(server.output).filter((l) => l.level === 'warn' && l.timeout === kind);

  beforeAll(async () => {
    db = await createTestDatabase();
    const url = new URL(db.url);
    proxy = await SilenceableProxy.create({ host: url.hostname, port: Number(url.port || 5432) });
    url.port = String(proxy.port);
    server = await ServerProcess.start({ name: 'server', entry, env: {
      DATABASE_URL: url.toString(),
      AVIARY_ADMIN_TOKEN: ADMIN_TOKEN,
      AVIARY_DB_POOL_SIZE: '4',
      AVIARY_REVISION_CHECK_MS: '500',
      LOG_LEVEL: 'warn',
      ...LIMITS,
    } });
    expect((await adminCall(server.url, ADMIN_TOKEN, 'POST', '/api/v1/flags', { key: 'timeouts' })).status).toBe(201);
  }, 120_000);

  afterAll(async () => {
    await server?.kill();
    await proxy?.close();
    await db?.drop();
  });

  it('a write blocked by a lock answers a clean 503 after the statement timeout, and says so in the log', async () => {
    onTestFailed(() => console.log(server.output.slice(-30).join('\n')));
    expect((await write()).status).toBe(200);
    // Another session holds the environments: the write's SELECT … FOR UPDATE waits for it.
    const locker = new pg.Client({ connectionString: db.url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE environments IN EXCLUSIVE MODE');
      const started = Date.now();
      const res = await write();
      const ms = Date.now() - started;
      console.log(`blocked write answered ${res.status} after ${ms} ms`);
      expect(res.status).toBe(503);
      expect(res.body.message).toBe('The database did not answer in time (statement timeout), so this request could not be completed; retry in a few seconds');
      expect(res.headers.get('retry-after')).toBe('5');
      expect(ms).toBeGreaterThanOrEqual(900);
      expect(ms).toBeLessThan(1000 + 1500);
      const logged = await waitFor('the statement timeout in the log', () => timeoutLines('statement')[0], 5000);
      expect(logged.msg).toMatch(/^postgres statement timeout hit \(AVIARY_DB_STATEMENT_TIMEOUT_MS = 1000 ms\): canceling statement due to statement timeout$/);
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
    }
    expect((await write()).status).toBe(200);
  });

  it('a database that stops answering: /readyz 503 naming postgres, writes 503 within the limits, each limit logged, and it recovers', async () => {
    onTestFailed(() => console.log(server.output.slice(-40).join('\n')));
    expect((await write()).status).toBe(200);
    proxy.silence();
    const silencedAt = Date.now();

    const ready = await fetch(`${server.url}/readyz`, { signal: AbortSignal.timeout(10_000) });
    const readyBody = (await ready.json()) as { message: string; errors: Record<string, { status: string }> };
    expect(ready.status).toBe(503);
    expect(readyBody.message).toMatch(/^Not ready: postgres is unreachable/);
    expect(readyBody.errors.postgres!.status).toBe('down');
    expect(Date.now() - silencedAt).toBeLessThan(2000 + 1000);

    const writes: Array<{ status: number; ms: number; message: string }> = [];
    for (let i = 0; i < 3; i++) {
      const started = Date.now();
      const res = await write();
      writes.push({ status: res.status, ms: Date.now() - started, message: res.body.message as string });
    }
    console.log(`writes while the database hangs: ${writes.map((w) => `${w.status} in ${w.ms} ms`).join(', ')}`);
    for (const w of writes) {
      expect(w.status).toBe(503);
      expect(w.message).toMatch(/^The database (did not answer in time \(query timeout\)|is unreachable)/);
      // Waiting for a connection (connect timeout), then its answer (query timeout), at most.
      expect(w.ms).toBeLessThan(1000 + 2000 + 1500);
    }
    // Both limits a hanging database runs into are named in the log.
    const query = await waitFor('a query timeout in the log', () => timeoutLines('query')[0], 10_000);
    const connect = await waitFor('a connect timeout in the log', () => timeoutLines('connect')[0], 10_000);
    expect(query.msg).toMatch(/^postgres query timeout hit \(AVIARY_DB_QUERY_TIMEOUT_MS = 2000 ms\): Query read timeout$/);
    expect(connect.msg).toMatch(/^postgres connect timeout hit \(AVIARY_DB_CONNECT_TIMEOUT_MS = 1000 ms\): /);

    // The connections that hung stay hung; the pool drops them and opens new ones.
    proxy.restore();
    const restoredAt = Date.now();
    await waitFor('readiness again', async () => (await fetch(`${server.url}/readyz`)).status === 200, 20_000, 200);
    await waitFor('a write to succeed again', async () => (await write()).status === 200, 20_000, 200);
    for (let i = 0; i < 5; i++) expect((await write()).status).toBe(200);
    console.log(`recovered ${Date.now() - restoredAt} ms after the database answered again`);
    expect(server.running).toBe(true);
  });
});

describe('a transaction left idle', () => {
  it('is ended by Postgres after AVIARY_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS, and the server logs which limit it was', async () => {
    const db = await createTestDatabase();
    const config = loadConfig({ DATABASE_URL: db.url, AVIARY_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: '300', AVIARY_DB_POOL_SIZE: '2' });
    const { options } = await openDatabase(config);
    const dataSource = new DataSource({ ...options, migrationsRun: false });
    const warnings: Array<{ fields: Record<string, unknown>; msg: string }> = [];
    const logger = { warn: (fields: Record<string, unknown>, msg: string) => warnings.push({ fields, msg }), info: () => undefined, debug: () => undefined } as unknown as Logger;
    try {
      await dataSource.initialize();
      watchDatabase(dataSource, new ServerMetrics(), logger, config.dbTimeouts);
      const runner = dataSource.createQueryRunner();
      await runner.startTransaction();
      await runner.query('SELECT 1');
      await sleep(1000);
      await expect(runner.query('SELECT 1')).rejects.toThrow();
      await runner.release().catch(() => undefined);
      const line = await waitFor('the idle-in-transaction timeout in the log', () => warnings.find((w) => w.fields.timeout === 'idle-in-transaction'), 5000);
      expect(line.msg).toMatch(/^postgres idle-in-transaction timeout hit \(AVIARY_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS = 300 ms\): terminating connection due to idle-in-transaction timeout/);
      // The pool goes on with a fresh connection.
      expect(await dataSource.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    } finally {
      if (dataSource.isInitialized) await dataSource.destroy();
      await db.drop();
    }
  });
});
