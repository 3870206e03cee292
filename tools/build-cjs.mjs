// The CommonJS twin of a package's ESM build, for `require()`. Run from the package folder after
// `tsc --build tsconfig.lib.json` (the package's Nx `build` target does both).
//
// tsc writes ESM to dist/; this writes dist/cjs/: one CommonJS file per source file (esbuild,
// not bundled, so every entry point of the package and its dependencies keep one module instance
// each, as in ESM), tsc's declarations copied beside them, and a package.json saying
// `"type": "commonjs"`, so Node loads those .js files and TypeScript reads those .d.ts files as
// CommonJS. TS 6 has no moduleResolution node10 any more, so a second tsc pass is not an option.
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const SRC = 'src';
const ESM = 'dist';
const OUT = 'dist/cjs';

const sources = readdirSync(SRC, { recursive: true })
  .map(String)
  .filter((file) => file.endsWith('.ts') && !file.endsWith('.spec.ts') && !file.endsWith('.d.ts'))
  .sort();
if (sources.length === 0) throw new Error(`build-cjs: no sources under ${SRC}/ (run from a package folder)`);

rmSync(OUT, { recursive: true, force: true });
await build({
  entryPoints: sources.map((file) => join(SRC, file)),
  outbase: SRC,
  outdir: OUT,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  tsconfig: 'tsconfig.lib.json',
  bundle: false,
  logLevel: 'warning',
});

for (const file of sources) {
  const declaration = file.replace(/\.ts$/, '.d.ts');
  const from = join(ESM, declaration);
  if (!existsSync(from)) throw new Error(`build-cjs: ${from} is missing (run tsc first)`);
  mkdirSync(dirname(join(OUT, declaration)), { recursive: true });
  // The declaration maps are not published, and these copies would point one folder off anyway.
  writeFileSync(join(OUT, declaration), readFileSync(from, 'utf8').replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n'));
}
writeFileSync(join(OUT, 'package.json'), `${JSON.stringify({ type: 'commonjs' }, null, 2)}\n`);
console.log(`build-cjs: ${sources.length} files -> ${OUT}/`);
