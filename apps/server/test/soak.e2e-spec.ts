import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, serverBuild } from './real-processes.js';

/**
 * The short soak of `npm test`: `bench/soak.mjs` for 5 s with 10 admin writers and 200 streams
 * over two instances (the full run is `npm run bench:soak`: 60 s, 100 writers, 2,000 streams).
 */

interface SoakResult {
  writes: number;
  statuses: Record<string, number>;
  streams: number;
  atFinal: number;
  equal: number;
  lost: number;
  gaps: number;
  checks: Record<string, boolean>;
  pass: boolean;
}

function soak(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(REPO, 'bench/soak.mjs'), ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

describe('soak (short)', () => {
  it('10 writers and 200 streams over two instances for 5 s: every stream ends on the final ruleset, nothing lost, no 5xx', async () => {
    const entry = join(serverBuild(), 'apps/server/src/main.js');
    const run = await soak(['--seconds', '5', '--streams', '200', '--writers', '10', '--instances', '2', '--entry', entry, '--json']);
    const lines = run.stdout.trim().split('\n');
    console.log(lines.slice(0, -1).join('\n'));
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(lines[lines.length - 1]!) as SoakResult;
    expect(result.checks).toEqual(Object.fromEntries(Object.keys(result.checks).map((k) => [k, true])));
    expect(result.pass).toBe(true);
    expect(result.writes).toBeGreaterThan(20);
    expect(Object.keys(result.statuses)).toEqual(['200']);
    expect(result).toMatchObject({ streams: 200, atFinal: 200, equal: 200, lost: 0, gaps: 0 });
  }, 90_000);
});
