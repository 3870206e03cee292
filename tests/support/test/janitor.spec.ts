import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { RUN_TAG_VARIABLE } from '../src/resources.js';

const here = import.meta.dirname;

/** Running, not a zombie (an orphan killed here may wait for a pid 1 that never reaps it). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

describe('a test run that fails halfway through its setup', () => {
  it('leaves no database, folder or process behind', async () => {
    const probe = join(tmpdir(), `aviary-janitor-probe-${process.pid}.json`);
    const env: NodeJS.ProcessEnv = { ...process.env, JANITOR_PROBE_OUT: probe };
    delete env[RUN_TAG_VARIABLE]; // its own run, with its own tag
    try {
      const run = spawnSync(process.execPath, [join(here, '../../../node_modules/vitest/vitest.mjs'), 'run', '--config', join(here, 'fixtures/vitest.failing.config.ts')], {
        env,
        encoding: 'utf8',
        timeout: 60_000,
      });
      const output = run.stdout + run.stderr;
      expect(run.status, output).not.toBe(0);
      expect(output).toContain('deliberate failure in setup');
      const created = JSON.parse(readFileSync(probe, 'utf8')) as { tag: string; database: string; folder: string; pid: number };
      expect(output).toContain(`[janitor] tests of run ${created.tag} left behind`);

      expect(alive(created.pid)).toBe(false);
      expect(existsSync(created.folder)).toBe(false);
      const client = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
      await client.connect();
      try {
        const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [created.database]);
        expect(rowCount).toBe(0);
      } finally {
        await client.end();
      }
    } finally {
      rmSync(probe, { force: true });
    }
  });
});
