// Dashboard benchmark in headless Chromium against the built server on the local Postgres:
// the initial JavaScript (gzip) of apps/dashboard/dist, the time the flag list of 5,000 flags
// takes to render (its first page of rows, the count of all) once its data has arrived, and how long the list takes to follow each
// keystroke of a search (and the longest task meanwhile).
// Usage: npm run bench:dashboard   (BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres, BENCH_FLAGS=5000)
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { freePort, launchChromium } from '@aviary/test-support';
import { adminCall, startServer, stopServer } from './server.mjs';

const ADMIN = `ava_bench_${randomBytes(12).toString('hex')}`;
const PG_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const FLAGS = Number(process.env.BENCH_FLAGS ?? 5000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const PERSON = { email: 'bench@example.com', password: 'a long bench passphrase' };
const DIST = fileURLToPath(new URL('../apps/dashboard/dist/', import.meta.url));

/** The JavaScript and CSS index.html loads before anything renders, gzip-compressed as a server would send it. */
function initialAssets() {
  const html = readFileSync(`${DIST}index.html`, 'utf8');
  const files = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]);
  const size = (ext) => files.filter((f) => f.endsWith(ext)).reduce((sum, f) => sum + gzipSync(readFileSync(DIST + f)).length, 0);
  return { js: size('.js'), css: size('.css') };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main() {
  const assets = initialAssets();
  const name = `aviary_bench_${randomBytes(4).toString('hex')}`;
  const root = new pg.Client({ connectionString: PG_URL });
  await root.connect();
  await root.query(`CREATE DATABASE ${name}`);
  let child;
  let browser;
  try {
    // Sign-in checks Origin against AVIARY_PUBLIC_URL: the page must be opened at that address.
    const port = await freePort();
    const started = await startServer(
      {
      ...process.env,
      DATABASE_URL: PG_URL.replace(/\/[^/]*$/, `/${name}`),
      AVIARY_ADMIN_TOKEN: ADMIN,
      AVIARY_ADMIN_EMAIL: PERSON.email,
      AVIARY_ADMIN_PASSWORD: PERSON.password,
        AVIARY_RATE_LIMIT_ADMIN: '0',
        AVIARY_PUBLIC_URL: `http://127.0.0.1:${port}`,
      },
      [],
      port,
    );
    child = started.child;
    const url = `http://127.0.0.1:${port}`;
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < FLAGS) {
          const i = next++;
          await adminCall(url, ADMIN, 'POST', '/api/v1/flags', { key: `flag-${String(i).padStart(5, '0')}`, name: `Flag ${i}`, tags: [`team-${i % 20}`] });
        }
      }),
    );
    browser = await launchChromium();
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    await page.goto(`${url}/`);
    await page.getByLabel('Email').fill(PERSON.email);
    await page.getByLabel('Password').fill(PERSON.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Flags' }).waitFor();

    const renders = [];
    for (let run = 0; run < RUNS; run++) {
      await page.goto(`${url}/?env=development`);
      // From the end of the list's response to the frame after the last row is in the DOM.
      renders.push(
        await page.evaluate(async (count) => {
          for (;;) {
            await new Promise((resolve) => requestAnimationFrame(resolve));
            if (document.querySelector('.count')?.textContent?.startsWith(`${count} flags`) && document.querySelector('tr[data-flag]')) break;
          }
          const painted = performance.now();
          const list = performance.getEntriesByType('resource').find((e) => /\/api\/v1\/environments\/[^/]+\/flags$/.test(new URL(e.name).pathname));
          return painted - list.responseEnd;
        }, FLAGS),
      );
    }

    // Each keystroke of a search: from the key to the frame where the count shows that search's result.
    await page.evaluate(() => {
      window.longest = 0;
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) window.longest = Math.max(window.longest, e.duration);
      }).observe({ type: 'longtask' });
    });
    const flags = Array.from({ length: FLAGS }, (_, i) => ({ key: `flag-${String(i).padStart(5, '0')}`, name: `flag ${i}` }));
    const search = page.getByLabel('Search flags');
    await search.focus();
    const keystrokes = [];
    for (const text of ['f', 'fl', 'fla', 'flag', 'flag-', 'flag-0', 'flag-00', 'flag-001', 'flag-0012']) {
      const matching = flags.filter((f) => f.key.includes(text) || f.name.includes(text)).length;
      const expected = matching === FLAGS ? `${FLAGS} flags` : `${matching} of ${FLAGS} flags`;
      const t0 = await page.evaluate(() => performance.now());
      await page.keyboard.type(text.slice(-1));
      keystrokes.push(
        await page.evaluate(
          async ({ want, start }) => {
            for (;;) {
              await new Promise((resolve) => requestAnimationFrame(resolve));
              if (document.querySelector('.count')?.textContent?.startsWith(want) && document.querySelector('input[type=search]').value !== '') return performance.now() - start;
            }
          },
          { want: expected, start: t0 },
        ),
      );
    }
    const longest = await page.evaluate(() => window.longest);

    const rows = [
      ['initial JavaScript (gzip)', `${(assets.js / 1024).toFixed(1)} KB`, 'under 200 KB'],
      ['initial CSS (gzip)', `${(assets.css / 1024).toFixed(1)} KB`, ''],
      [`flag list render, ${FLAGS} flags (median of ${RUNS})`, `${median(renders).toFixed(0)} ms`, 'under 300 ms'],
      [`  all runs`, renders.map((r) => r.toFixed(0)).join(', ') + ' ms', ''],
      ['search: keystroke to updated list (median)', `${median(keystrokes).toFixed(0)} ms`, ''],
      ['search: keystroke to updated list (worst)', `${Math.max(...keystrokes).toFixed(0)} ms`, ''],
      ['longest task while typing', `${longest.toFixed(0)} ms`, ''],
    ];
    const width = Math.max(...rows.map((r) => r[0].length));
    console.log(`\n${'measure'.padEnd(width)}  ${'result'.padEnd(28)}  target`);
    for (const [what, result, target] of rows) console.log(`${what.padEnd(width)}  ${result.padEnd(28)}  ${target}`);
    console.log(`\nload average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')} (numbers move with other work on the machine)`);
  } finally {
    await browser?.close();
    await stopServer(child);
    await root.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await root.end();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
