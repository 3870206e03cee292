import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, auth, createTestDatabase } from './helpers.js';
import { PrivateRedis, REPO, serverBuild, waitFor } from './real-processes.js';
import { ServerProcess, testTempDir } from '@aviary/test-support';

/**
 * The exact start path of the Docker image, without Docker: the runtime stage of the Dockerfile
 * is replayed in a clean temporary folder standing for `/app` (its COPY steps from the repository
 * and the build output, its `npm ci`, its ENV and its CMD), then the server starts there against
 * a fresh Postgres database and Redis, answers, drains on SIGTERM, and `migrate` runs there too.
 */

interface RuntimeStage {
  copies: Array<{ from?: string; sources: string[]; dest: string }>;
  installs: string[][];
  skipped: string[];
  env: Record<string, string>;
  cmd: string[];
}

/** Reads the last stage of the Dockerfile into the steps this test replays. */
function runtimeStage(dockerfile: string): RuntimeStage {
  const joined = dockerfile.replace(/\\\n\s*/g, ' ');
  const stage = joined.split(/^FROM /m).pop()!;
  const out: RuntimeStage = { copies: [], installs: [], skipped: [], env: {}, cmd: [] };
  for (const line of stage.split('\n').slice(1)) {
    const [instruction, ...rest] = line.trim().split(/\s+/);
    if (!instruction || instruction.startsWith('#')) continue;
    switch (instruction) {
      case 'COPY': {
        const from = rest[0]?.startsWith('--from=') ? rest.shift()!.slice('--from='.length) : undefined;
        out.copies.push({ from, sources: rest.slice(0, -1), dest: rest[rest.length - 1]! });
        break;
      }
      case 'RUN':
        for (const command of rest.join(' ').split('&&').map((c) => c.trim())) {
          // Only the install runs here; folder ownership and cache cleaning are the image's business.
          if (/^npm ci\b/.test(command)) out.installs.push(command.split(/\s+/));
          else out.skipped.push(command);
        }
        break;
      case 'ENV':
        for (const pair of rest) {
          const [key, ...value] = pair.split('=');
          out.env[key!] = value.join('=');
        }
        break;
      case 'CMD':
        out.cmd = JSON.parse(rest.join(' ')) as string[];
        break;
    }
  }
  return out;
}

const stage = runtimeStage(readFileSync(join(REPO, 'Dockerfile'), 'utf8'));
let app: string;
let redis: PrivateRedis;
const databases: Array<Awaited<ReturnType<typeof createTestDatabase>>> = [];

beforeAll(async () => {
  // The build stage: what `nx run @aviary/server:build` produces (tsc --build).
  const serverDist = serverBuild();
  const coreDist = join(REPO, 'packages/core/dist');
  const guardDist = join(REPO, 'packages/guard/dist');
  const dashboardDist = join(REPO, 'apps/dashboard/dist');
  expect(existsSync(join(coreDist, 'index.js')), '@aviary/core is built').toBe(true);
  expect(existsSync(join(guardDist, 'index.js')), '@aviary/guard is built').toBe(true);
  // nx builds the dashboard before the server's tests (apps/server/package.json).
  expect(existsSync(join(dashboardDist, 'index.html')), 'the dashboard is built').toBe(true);
  const buildOutput: Record<string, string> = {
    '/app/packages/core/dist': coreDist,
    '/app/packages/guard/dist': guardDist,
    '/app/apps/server/dist': serverDist,
    '/app/apps/dashboard/dist': dashboardDist,
  };

  app = testTempDir('image');
  for (const copy of stage.copies) {
    for (const source of copy.sources) {
      const from = copy.from === undefined ? join(REPO, source) : buildOutput[source];
      expect(from, `COPY --from=${copy.from} ${source}`).toBeDefined();
      const to = copy.dest.endsWith('/') || copy.dest === './' ? join(app, copy.dest, source.split('/').pop()!) : join(app, copy.dest);
      mkdirSync(dirname(to), { recursive: true });
      cpSync(from!, to, { recursive: true, filter: (path) => !path.includes('/node_modules') });
    }
  }
  for (const [npm, ...args] of stage.installs) {
    // From the local npm cache where it can; the registry is asked for anything missing.
    execFileSync(npm!, [...args, '--prefer-offline'], { cwd: app, stdio: 'pipe', env: { ...process.env, NODE_ENV: 'production' } });
  }
  redis = await PrivateRedis.create();
}, 180_000);

afterAll(async () => {
  await redis?.destroy();
  for (const db of databases) await db.drop();
  if (app) rmSync(app, { recursive: true, force: true });
});

describe('the Docker image start path, without Docker', () => {
  it('installs production dependencies only, with @aviary/core and @aviary/guard linked and built', () => {
    expect(stage.installs).toHaveLength(1);
    expect(stage.installs[0]!.slice(0, 3)).toEqual(['npm', 'ci', '--omit=dev']);
    expect(existsSync(join(app, 'node_modules/@aviary/core/dist/index.js'))).toBe(true);
    expect(existsSync(join(app, 'node_modules/@aviary/guard/dist/index.js'))).toBe(true);
    expect(existsSync(join(app, 'node_modules/@nestjs/core/package.json'))).toBe(true);
    for (const dev of ['vitest', 'nx', 'eslint', '@nestjs/testing', 'supertest', '@aviary/node', '@aviary/browser']) {
      expect(existsSync(join(app, 'node_modules', dev)), `${dev} must not be installed`).toBe(false);
    }
    expect(existsSync(join(app, stage.cmd[1]!))).toBe(true);
  });

  it('migrates a fresh database with the migrate entry point', async () => {
    const db = await createTestDatabase({ from: 'empty' });
    databases.push(db);
    const migrate = join(dirname(stage.cmd[1]!), 'migrate.js');
    const env = { PATH: process.env.PATH, ...stage.env, DATABASE_URL: db.url, AVIARY_DATA_DIR: join(app, 'data') };
    const first = execFileSync(process.execPath, [migrate], { cwd: app, env, encoding: 'utf8' });
    expect(first).toMatch(/Applied .*Initial/);
    const second = execFileSync(process.execPath, [migrate], { cwd: app, env, encoding: 'utf8' });
    expect(second).toMatch(/The schema is up to date/);
  });

  it('starts with the image CMD on a fresh database, migrates, answers, and drains on SIGTERM', async () => {
    const db = await createTestDatabase({ from: 'empty' });
    databases.push(db);
    const [node, entry] = stage.cmd;
    expect(node).toBe('node');
    const server = await ServerProcess.start({ name: 'image', entry: join(app, entry!), env: {
      ...stage.env,
      // The image listens on 4000 and keeps embedded data in /data; here a free port (the launcher's) and the temp folder.
      AVIARY_DATA_DIR: join(app, 'data'),
      DATABASE_URL: db.url,
      REDIS_URL: redis.url,
      AVIARY_ADMIN_TOKEN: ADMIN_TOKEN,
      LOG_LEVEL: 'log',
    }, cwd: app });
    try {
      const ready = await waitFor('readyz', async () => {
        const res = await fetch(`${server.url}/readyz`);
        return res.status === 200 ? ((await res.json()) as { info: Record<string, { status: string }> }) : undefined;
      });
      expect(ready.info).toMatchObject({ postgres: { status: 'up' }, redis: { status: 'up' } });

      const created = await fetch(`${server.url}/api/v1/flags`, {
        method: 'POST',
        headers: { ...auth(), 'Content-Type': 'application/json' },
        body: JSON.stringify({ key: 'shipped-in-a-container' }),
      });
      expect(created.status).toBe(201);
      const envs = (await (await fetch(`${server.url}/api/v1/environments`, { headers: auth() })).json()) as { items: Array<{ key: string }> };
      expect(envs.items.map((e) => e.key)).toEqual(['development', 'production']);

      // The image ships the dashboard: its page at / and on its client-side routes, its hashed assets.
      const page = await fetch(`${server.url}/flags/shipped-in-a-container`, { headers: { Accept: 'text/html' } });
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).toContain('<div id="root">');
      const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
      expect(script, 'the page names its script').toBeDefined();
      const asset = await fetch(`${server.url}${script}`);
      expect(asset.status).toBe(200);
      expect(asset.headers.get('content-type')).toMatch(/javascript/);
    } finally {
      const exit = await server.stop('SIGTERM');
      expect(exit).toMatchObject({ code: 0 });
      expect(exit.ms).toBeLessThan(10_000);
    }
    // Logs are JSON lines and never carry the admin token.
    const lines = server.logs();
    expect(lines.length).toBeGreaterThan(3);
    expect(server.output.join('\n')).not.toContain(ADMIN_TOKEN);
    expect(lines.some((l) => l.msg === 'POST /api/v1/flags 201' || String(l.msg).startsWith('POST /api/v1/flags 201'))).toBe(true);
  });
});
