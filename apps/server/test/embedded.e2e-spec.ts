import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import { ServerProcess, testTempDir } from '@aviary/test-support';
import { ADMIN_TOKEN, auth, startApp } from './helpers.js';
import { serverBuild } from './real-processes.js';

const dataDir = testTempDir('embedded');

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('embedded default (no DATABASE_URL)', () => {
  it('starts on PGlite, keeps writes across a restart, locks its folder, cleans a stale socket', async () => {
    const env = { DATABASE_URL: undefined, AVIARY_DATA_DIR: dataDir };
    const first = await startApp(env);
    try {
      const envs = await request(first.url).get('/api/v1/environments').set(auth()).expect(200);
      expect(envs.body.items.map((e: { key: string }) => e.key)).toEqual(['development', 'production']);
      await request(first.url).post('/api/v1/flags').set(auth()).send({ key: 'kept' }).expect(201);
      // Concurrent requests share PGlite's one backend without failing.
      const writes = await Promise.all(
        Array.from({ length: 10 }, (_, i) => request(first.url).put('/api/v1/environments/production/flags/kept/rollout').set(auth()).send({ percentage: i })),
      );
      expect(writes.map((w) => w.status)).toEqual(Array(10).fill(200));
      expect(readFileSync(join(dataDir, 'aviary.lock'), 'utf8')).toBe(String(process.pid));
      // A second server on the same folder is refused, naming the variable.
      await expect(startApp(env)).rejects.toThrow(/AVIARY_DATA_DIR/);
    } finally {
      await first.close();
    }

    // What a kill -9 leaves behind: a lock of a dead process and the socket file.
    writeFileSync(join(dataDir, 'aviary.lock'), '999999');
    writeFileSync(join(dataDir, '.s.PGSQL.5432'), '');
    const second = await startApp(env);
    try {
      const config = await request(second.url).get('/api/v1/environments/production/flags/kept').set(auth()).expect(200);
      expect(config.body).toMatchObject({ version: 11, enabled: false });
      const prod = await request(second.url).get('/api/v1/environments/production').set(auth()).expect(200);
      expect(prod.body.revision).toBe(12); // 1 (created) + 1 (flag) + 10 (dial)
      // First start happens once: no second pair of environments, the same admin key.
      const envs = await request(second.url).get('/api/v1/environments').set(auth()).expect(200);
      expect(envs.body.items).toHaveLength(2);
    } finally {
      await second.close();
    }
  });
});

describe('a second server process on the same data folder', () => {
  it('prints one readable line naming the running server\'s pid and the folder, and exits 1', async () => {
    const folder = testTempDir('locked');
    let first: ServerProcess | undefined;
    try {
      const entry = join(serverBuild(), 'apps/server/src/main.js');
      const env = { AVIARY_DATA_DIR: folder, AVIARY_ADMIN_TOKEN: ADMIN_TOKEN, LOG_LEVEL: 'log' };
      first = await ServerProcess.start({ name: 'first', entry, env, timeoutMs: 60_000 });
      const second = await ServerProcess.run({ entry, env });
      const lines = second.output.filter((line) => line.trim() !== '');
      expect(second, lines.join('\n')).toMatchObject({ code: 1, signal: null });
      expect(lines).toEqual([
        `Aviary cannot start: AVIARY_DATA_DIR ${folder} is in use by another Aviary server (pid ${first.pid}); stop it, or point AVIARY_DATA_DIR at another folder`,
      ]);
      // The first one is undisturbed.
      expect((await request(first.url).get('/api/v1/environments').set(auth())).status).toBe(200);
    } finally {
      await first?.kill();
      rmSync(folder, { recursive: true, force: true });
    }
  }, 120_000);
});
