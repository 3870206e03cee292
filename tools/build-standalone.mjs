// The browser SDK as one self-contained ES module (core inlined, minified, no bare imports), for a
// page that loads it with a plain <script type="module"> and no bundler. Run from packages/browser
// after tsc (its Nx `build` target does both); it bundles tsc's dist/index.js and @aviary/core's dist.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';

const OUT = 'dist/aviary.browser.js';
const { name, version, license } = JSON.parse(readFileSync('package.json', 'utf8'));

const result = await build({
  entryPoints: ['dist/index.js'],
  outfile: OUT,
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  // Nothing stays external: a bare import would not load without a bundler or an import map.
  external: [],
  banner: { js: `/*! ${name} ${version} (standalone ES module, @aviary/core included) | ${license} */` },
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
});
const { bytes } = result.metafile.outputs[OUT];
console.log(`build-standalone: ${OUT} (${bytes} B minified)`);
