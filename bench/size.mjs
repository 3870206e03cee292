// Size of the browser client, including @aviary/core, next to the peers installed at the root.
// Every package is bundled the same way: esbuild, platform browser, ESM, minified, then gzip -9.
// Run with `npm run bench:size` (which builds first); this script reads packages/browser/dist.
import { build } from 'esbuild';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const TARGET = 4096;

/** Bundles `contents` (an ES module) and measures it; `external` packages are left out. */
async function measure(contents, external = []) {
  const result = await build({
    stdin: { contents, resolveDir: root, loader: 'js' },
    bundle: true,
    minify: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    metafile: true,
    external,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0].contents;
  const inputs = Object.values(result.metafile.outputs)[0].inputs;
  return { min: code.length, gzip: gzipSync(code, { level: 9 }).length, inputs };
}

const version = (dir) => {
  try {
    return JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')).version;
  } catch {
    return '-';
  }
};
const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;

const entry = join(root, 'packages/browser/dist/index.js');
if (!existsSync(entry)) {
  console.error('packages/browser/dist/index.js is missing: run `npm run bench:size` (it builds first).');
  process.exit(1);
}

// Peers: what an application imports to get the client (the browser entry esbuild picks).
const peers = [
  ['unleash-proxy-client', 'UnleashClient'],
  ['flagsmith', 'default'],
  ['@growthbook/growthbook', 'GrowthBook'],
  ['launchdarkly-js-client-sdk', 'initialize'],
];

const ours = await measure(`export * from ${JSON.stringify(entry)};`);
const sdkOnly = await measure(`export * from ${JSON.stringify(entry)};`, ['@aviary/core']);
const coreOnly = await measure(`export { evaluate, Reasons } from '@aviary/core';`);
const rows = [{ name: '@aviary/browser (with @aviary/core)', version: version('packages/browser'), ...ours }];
for (const [name, exported] of peers) {
  try {
    rows.push({ name, version: version(`node_modules/${name}`), ...(await measure(`export { ${exported} } from ${JSON.stringify(name)};`)) });
  } catch (error) {
    rows.push({ name, version: '-', min: NaN, gzip: NaN, note: `not measured: ${error.message.split('\n')[0]}` });
  }
}

const pad = (s, n) => String(s).padEnd(n);
const padl = (s, n) => String(s).padStart(n);
console.log(`\nBrowser SDK size (esbuild --bundle --minify --platform=browser, ESM; gzip -9). Target: <= ${TARGET} B gzip.\n`);
console.log(`${pad('package', 38)} ${pad('version', 8)} ${padl('min B', 8)} ${padl('gzip B', 8)} ${padl('gzip', 10)} ${padl('vs ours', 8)}`);
console.log('-'.repeat(38 + 8 + 8 + 8 + 10 + 8 + 5));
for (const r of rows) {
  const ratio = Number.isNaN(r.gzip) ? '-' : `${(r.gzip / ours.gzip).toFixed(2)}x`;
  console.log(`${pad(r.name, 38)} ${pad(r.version, 8)} ${padl(r.min, 8)} ${padl(r.gzip, 8)} ${padl(Number.isNaN(r.gzip) ? '-' : kib(r.gzip), 10)} ${padl(ratio, 8)}${r.note ? '  ' + r.note : ''}`);
}

console.log(`\nOf ours: the SDK itself (core left out) ${sdkOnly.gzip} B gzip; @aviary/core as the SDK uses it ${coreOnly.gzip} B gzip on its own.`);
console.log(`Whole client: ${ours.gzip} B gzip, ${ours.gzip <= TARGET ? 'within' : `${ours.gzip - TARGET} B over`} the ${TARGET} B target.`);
const standalone = join(root, 'packages/browser/dist/aviary.browser.js');
if (existsSync(standalone)) {
  console.log(`Standalone ES module for a plain <script type="module"> (@aviary/browser/standalone, the same client plus a licence banner): ${gzipSync(readFileSync(standalone), { level: 9 }).length} B gzip.`);
}
console.log('');

// Where the minified bytes come from (gzip does not split by file; the share is an estimate).
console.log(`${pad('module (minified bytes in the whole bundle)', 62)} ${padl('min B', 7)} ${padl('share', 6)} ${padl('~gzip B', 8)}`);
const modules = Object.entries(ours.inputs)
  .map(([file, { bytesInOutput }]) => [relative(root, file).replace(/^(\.\.\/)+/, ''), bytesInOutput])
  .filter(([, bytes]) => bytes > 0)
  .sort((a, b) => b[1] - a[1]);
const total = modules.reduce((sum, [, bytes]) => sum + bytes, 0);
for (const [file, bytes] of modules) {
  console.log(`${pad(file, 62)} ${padl(bytes, 7)} ${padl(((bytes / total) * 100).toFixed(0) + '%', 6)} ${padl(Math.round((bytes / total) * ours.gzip), 8)}`);
}
