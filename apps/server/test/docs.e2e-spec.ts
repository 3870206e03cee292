import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ServerProcess, testTempDir } from '@aviary/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firstJson, mismatches, parsePattern, shellBlocks, shellSteps, type ShellBlock, type ShellStep } from './docs/shell-doc.js';
import { REPO, serverBuild, waitFor } from './real-processes.js';

// The README and docs/ are executed, not trusted: every shell block a user would paste runs, in
// order, against a fresh server started as `npm start` starts it (embedded Postgres, a new data
// folder, the admin key it prints), and what each command prints must match what the page shows.
// A block that cannot run here says why in the line before its fence.

function pages(): string[] {
  const inFolder = (folder: string, pick: (name: string) => boolean) =>
    readdirSync(join(REPO, folder), { withFileTypes: true })
      .filter((entry) => pick(entry.name))
      .map((entry) => join(REPO, folder, entry.name));
  const readmes = (folder: string) =>
    readdirSync(join(REPO, folder), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => join(REPO, folder, entry.name, 'README.md'))
      .filter((path) => {
        try {
          readFileSync(path);
          return true;
        } catch {
          return false;
        }
      });
  return [join(REPO, 'README.md'), ...inFolder('docs', (name) => name.endsWith('.md')), ...readmes('packages'), ...readmes('apps'), join(REPO, 'bench/README.md')];
}

const blocks: ShellBlock[] = pages().flatMap((path) => shellBlocks(relative(REPO, path), readFileSync(path, 'utf8')));
const runnable = new Map<string, ShellBlock[]>();
for (const block of blocks.filter((b) => !b.skip)) runnable.set(block.file, [...(runnable.get(block.file) ?? []), block]);

it('finds the shell blocks of the README and docs/, and every one it does not run says why', () => {
  expect(runnable.get('README.md')?.length).toBeGreaterThanOrEqual(2);
  for (const block of blocks.filter((b) => b.skip)) expect(block.skip, `${block.file}:${block.line}`).not.toBe('no reason given');
});

interface Ran {
  step: ShellStep;
  output: string;
  exit: number;
}

describe.each([...runnable.keys()])('%s, pasted into a shell against a fresh `npm start`', (file) => {
  const steps = runnable.get(file)!.flatMap(shellSteps);
  const ran: Ran[] = [];
  let server: ServerProcess | undefined;
  let dataDir: string | undefined;

  beforeAll(async () => {
    dataDir = testTempDir('docs');
    const serverEnv = Object.assign({}, ...steps.map((step) => step.serverEnv ?? {})) as Record<string, string>;
    server = await ServerProcess.start({ name: `docs ${file}`, entry: join(serverBuild(), 'apps/server/src/main.js'), env: { AVIARY_DATA_DIR: dataDir, NO_COLOR: '1', ...serverEnv }, timeoutMs: 90_000 });
    // Printed right after the "listening" line.
    const key = await waitFor('the admin key printed on first start', () => server!.output.map((line) => /^\s*(ava_[A-Za-z0-9_-]{20,})\s*$/.exec(line)?.[1]).find(Boolean));
    const script = steps
      .map((step, i) => {
        const command = step.serverEnv ? ':' : step.command.replaceAll('http://localhost:4000', server!.url).replace(/\bava_…/g, key);
        return `printf '\\n@@docs-step ${i}@@\\n'\n${command}\nprintf '\\n@@docs-exit %d@@\\n' $?`;
      })
      .join('\n');
    const shell = spawnSync('bash', ['-c', script], { cwd: dataDir, encoding: 'utf8', timeout: 60_000, env: { PATH: process.env.PATH, HOME: process.env.HOME } });
    for (const [, index, output, exit] of shell.stdout.matchAll(/@@docs-step (\d+)@@\n([\s\S]*?)\n@@docs-exit (\d+)@@/g)) {
      ran.push({ step: steps[Number(index)]!, output: output!, exit: Number(exit) });
    }
    if (ran.length !== steps.length) throw new Error(`the shell ran ${ran.length} of ${steps.length} commands:\n${shell.stdout}\n${shell.stderr}`);
  }, 90_000);

  afterAll(async () => {
    await server?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it.each(steps.map((step) => [`line ${step.line}: ${step.command.split('\n')[0]!.slice(0, 90)}`, step] as const))('%s', (_, step) => {
    const { output, exit } = ran.find((r) => r.step === step)!;
    const where = `${file}:${step.line}\n$ ${step.command}\n${output}`;
    expect(exit, where).toBe(0);
    const body = firstJson(output) as { statusCode?: number } | undefined;
    const pattern = step.expected === undefined ? undefined : (parsePattern(step.expected) as { statusCode?: number });
    if (typeof body?.statusCode === 'number' && body.statusCode >= 400) {
      expect(pattern?.statusCode, `an error the page does not show: ${where}`).toBe(body.statusCode);
    }
    if (pattern !== undefined) expect(mismatches(pattern, body), where).toEqual([]);
  });
});
