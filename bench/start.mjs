// How long `npm start` takes to listen when nothing changed since the last build, beside the
// former start (an Nx build check, then the server), on the same embedded data folder.
// Usage: npm run build && node bench/start.mjs [rounds]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const REPO = new URL('..', import.meta.url).pathname;
const ROUNDS = Number(process.argv[2] ?? 3);
const MAIN = 'apps/server/dist/apps/server/src/main.js';
const variants = {
  'npm start (tsc --build check)': ['npm', ['start']],
  'nx run @aviary/server:build && node main.js': ['sh', ['-c', `npx nx run @aviary/server:build --outputStyle=static >/dev/null && exec node ${MAIN}`]],
};

function timeToListening(command, args, dataDir) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, {
      cwd: REPO,
      detached: true,
      env: { ...process.env, AVIARY_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', NX_DAEMON: 'false', LOG_FORMAT: 'json', AVIARY_ADMIN_TOKEN: 'ava_bench_start_0123456789abcdef' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    // The whole process group ends (npm, sh and the server) before the next round opens the folder.
    const done = async (ms) => {
      process.kill(-child.pid, 'SIGTERM');
      for (;;) {
        try {
          process.kill(-child.pid, 0);
        } catch {
          return resolve(ms);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const timer = setTimeout(() => {
      process.kill(-child.pid, 'SIGKILL');
      reject(new Error(`not listening after 120 s:\n${output}`));
    }, 120_000);
    for (const stream of [child.stdout, child.stderr]) {
      stream.on('data', (chunk) => {
        output += chunk;
        if (output.includes('listening on')) {
          clearTimeout(timer);
          done(Number(process.hrtime.bigint() - started) / 1e6);
          output = '';
        }
      });
    }
  });
}

const dataDir = mkdtempSync(join(tmpdir(), 'aviary-bench-start-'));
try {
  await timeToListening(...variants['npm start (tsc --build check)'], dataDir); // first start of the data folder, not counted
  const results = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, [command, args]] of Object.entries(variants)) results[name].push(await timeToListening(command, args, dataDir));
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`\nTime from the command to "listening", nothing changed since the build (${ROUNDS} rounds, alternating):\n`);
  console.log(`${'command'.padEnd(48)} ${'median ms'.padStart(10)} ${'min ms'.padStart(8)} ${'max ms'.padStart(8)}`);
  for (const [name, times] of Object.entries(results)) {
    console.log(`${name.padEnd(48)} ${median(times).toFixed(0).padStart(10)} ${Math.min(...times).toFixed(0).padStart(8)} ${Math.max(...times).toFixed(0).padStart(8)}`);
  }
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
