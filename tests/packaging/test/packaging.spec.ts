import { transform, build as esbuild, stop as stopEsbuild } from 'esbuild';
import { copyFileSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { build as vite, createLogger } from 'vite';
import webpack from 'webpack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, aviaryServer, createDatabase } from './support/aviary-server.js';
import { launchChromium, testTempDir } from '@aviary/test-support';
import { outsideEnv, run } from './support/processes.js';
import { codeBlock, splitImports, substitute } from './support/readme.js';
import { Resources, settleAll } from './support/resources.js';
import { startSite } from './support/site.js';

// An application outside this repository: the three packages packed with `npm pack`, installed
// from the tarballs into an empty project under os.tmpdir() (copies, no workspace, no links), then
// the READMEs' own snippets run there against the real server: Node as ESM and as CommonJS, tsc
// on an .mts and a .cts, the browser snippet bundled by Vite, esbuild and webpack 5 and run in
// Chromium, and the standalone ES module loaded by a plain <script type="module">.

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const NODE_README = join(ROOT, 'packages/node/README.md');
const BROWSER_README = join(ROOT, 'packages/browser/README.md');
const PACKAGES = ['core', 'node', 'browser'] as const;
type Name = (typeof PACKAGES)[number];
const FLAG = 'new-checkout';
/** The snippets' placeholders, replaced by the real server's values. */
const README_URL = "'https://flags.example.com'";
const README_CLIENT_KEY = "'avc_…'";

/** The versions the workspace has installed (so npm finds them in its cache). */
const installed = (name: string): string => (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

/** Every file an `exports` map points at. */
const exportTargets = (exports: unknown): string[] =>
  typeof exports === 'string' ? [exports] : Object.values(exports as Record<string, unknown>).flatMap(exportTargets);

interface Packed {
  name: string;
  filename: string;
  files: Array<{ path: string }>;
}

const resources = new Resources();
let work: string;
let app: string;
let tarballs: Record<Name, Packed & { file: string }>;
let serverUrl: string;
let sdkKey: string;
let clientKey: string;
let siteUrl: string;
let siteRoot: string;
let browser: Browser;
let typeProblems: Record<string, Array<{ kind: string; entrypoint?: string; resolutionKind?: string }>>;

/** `npm pack` of the three packages, from the builds the Nx test target depends on (hence --ignore-scripts: prepack would run Nx inside Nx). */
async function pack(destination: string): Promise<void> {
  mkdirSync(destination, { recursive: true });
  const workspaces = PACKAGES.flatMap((p) => ['-w', `@aviary/${p}`]);
  const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', destination, ...workspaces], { cwd: ROOT, env: outsideEnv() });
  expect(packed.code, packed.stderr).toBe(0);
  const list = JSON.parse(packed.stdout) as Packed[];
  tarballs = Object.fromEntries(PACKAGES.map((p) => {
    const entry = list.find((e) => e.name === `@aviary/${p}`)!;
    return [p, { ...entry, file: join(destination, entry.filename) }];
  })) as typeof tarballs;
}

/** An empty application that installs the tarballs (and the OpenFeature peer, @types/node for tsc). */
async function installApplication(): Promise<void> {
  app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'outside-app', version: '1.0.0', private: true }));
  const specs = [...PACKAGES.map((p) => tarballs[p].file), `@openfeature/server-sdk@${installed('@openfeature/server-sdk')}`, `@types/node@${installed('@types/node')}`];
  const result = await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...specs], { cwd: app, env: outsideEnv(), timeoutMs: 90_000 });
  expect(result.code, result.stderr).toBe(0);
}

/** A migrated database of its own and the built server on it, with one flag, a server key and a client key for the page's origin. */
async function startAviary(): Promise<void> {
  const database = await createDatabase();
  resources.add('database', database.drop);
  const server = await aviaryServer({ DATABASE_URL: database.url, AVIARY_CORS_ORIGINS: siteUrl });
  resources.add('server', () => server.kill());
  await server.start();
  serverUrl = server.url;
  await admin(serverUrl, 'POST', '/flags', { key: FLAG, clientVisible: true });
  // On for the Netherlands and for user-42 (the README's users), off for anyone else.
  await admin(serverUrl, 'PUT', `/environments/production/flags/${FLAG}`, {
    enabled: true,
    rules: [
      { id: 'nl', conditions: [{ attribute: 'country', operator: 'in', values: ['NL'] }] },
      { id: 'canary', conditions: [{ attribute: 'key', operator: 'in', values: ['user-42'] }] },
    ],
  });
  sdkKey = (await admin<{ secret: string }>(serverUrl, 'POST', '/api-keys', { name: 'packaging server', kind: 'server', environment: 'production' })).secret;
  clientKey = (await admin<{ secret: string }>(serverUrl, 'POST', '/api-keys', { name: 'packaging web', kind: 'client', environment: 'production' })).secret;
}

async function checkTypes(): Promise<void> {
  const script = fileURLToPath(new URL('./support/attw.mjs', import.meta.url));
  const result = await run(process.execPath, [script, ...PACKAGES.map((p) => tarballs[p].file)], { cwd: ROOT });
  expect(result.code, result.stderr).toBe(0);
  typeProblems = JSON.parse(result.stdout);
}

beforeAll(async () => {
  work = testTempDir('packaging');
  resources.add('temporary folder', () => rmSync(work, { recursive: true, force: true }));
  siteRoot = join(work, 'site');
  mkdirSync(siteRoot);
  const site = await startSite(siteRoot);
  resources.add('site', site.close);
  siteUrl = site.url;
  await pack(join(work, 'packs'));
  // Each branch records what it creates as soon as it exists; settleAll waits for all of them.
  await settleAll([
    installApplication(),
    startAviary(),
    checkTypes(),
    launchChromium().then((b) => {
      resources.add('chromium', () => b.close());
      browser = b;
    }),
  ]);
});

// esbuild's service process would outlive the test by a moment otherwise.
afterAll(() => Promise.all([resources.release(), stopEsbuild()]));

describe('the tarballs', () => {
  const allowed: Record<Name, RegExp> = {
    core: /^(LICENSE|README\.md|package\.json|vectors\/(vectors|protocol)\.json|dist\/(cjs\/)?[\w/-]+\.(js|d\.ts)|dist\/cjs\/package\.json)$/,
    node: /^(LICENSE|README\.md|package\.json|dist\/(cjs\/)?[\w/-]+\.(js|d\.ts)|dist\/cjs\/package\.json)$/,
    browser: /^(LICENSE|README\.md|package\.json|dist\/[\w/-]+\.(js|d\.ts)|dist\/aviary\.browser\.js)$/,
  };

  it.each(PACKAGES)('@aviary/%s holds only its build, README, LICENSE and package.json', (name) => {
    const files = tarballs[name].files.map((f) => f.path).sort();
    console.log(`@aviary/${name} (${files.length} files): ${files.join(' ')}`);
    expect(files.filter((f) => !allowed[name].test(f))).toEqual([]);
    expect(files.filter((f) => /(^|\/)(src|test|out-tsc)\/|\.spec\.|\.map$|tsbuildinfo|generate/.test(f))).toEqual([]);
    expect(files).toContain('LICENSE');
    expect(files).toContain('README.md');
    // Every file `exports` names is in the tarball.
    const manifest = JSON.parse(readFileSync(join(ROOT, 'packages', name, 'package.json'), 'utf8')) as { exports: unknown };
    const targets = exportTargets(manifest.exports).map((t) => t.replace(/^\.\//, ''));
    expect(targets.length).toBeGreaterThan(2);
    expect(targets.filter((t) => !files.includes(t))).toEqual([]);
    // The CommonJS build mirrors the ESM one file for file, declarations included.
    if (name !== 'browser') {
      const esm = files.filter((f) => f.startsWith('dist/') && !f.startsWith('dist/cjs/'));
      const cjs = files.filter((f) => f.startsWith('dist/cjs/') && f !== 'dist/cjs/package.json');
      expect(cjs).toEqual(esm.map((f) => f.replace(/^dist\//, 'dist/cjs/')));
    }
  });

  it('has correct types for every entry point, ESM and CommonJS (arethetypeswrong)', () => {
    // node10 resolution is gone from TS 6 and knows no subpaths; the browser SDK is ESM only.
    const ignored: Record<Name, string[]> = { core: ['node10'], node: ['node10'], browser: ['node10', 'node16-cjs'] };
    for (const name of PACKAGES) {
      const problems = typeProblems[tarballs[name].file]!.filter((p) => !ignored[name].includes(p.resolutionKind ?? ''));
      expect(problems, `@aviary/${name}`).toEqual([]);
    }
  });
});

describe('installed in an application outside the workspace', () => {
  it('is a copy of each package, with one @aviary/core for both SDKs', () => {
    for (const name of PACKAGES) expect(lstatSync(join(app, 'node_modules/@aviary', name)).isSymbolicLink()).toBe(false);
    const cores = readdirSync(join(app, 'node_modules'), { recursive: true }).map(String).filter((f) => f.endsWith('@aviary/core/package.json'));
    expect(cores).toEqual(['@aviary/core/package.json']);
    const lock = readFileSync(join(app, 'package-lock.json'), 'utf8');
    expect(lock).not.toContain(ROOT.replace(/\/$/, ''));
  });
});

describe("the Node README's snippets", () => {
  const quickStart = splitImports(substitute(codeBlock(NODE_README, 'ts', 'Quick start'), README_URL, 'url'));
  const openFeature = splitImports(codeBlock(NODE_README, 'ts', 'OpenFeature'));
  const imports = `${quickStart.imports}\n${openFeature.imports}`;
  // What the snippets take as given: a user, a render function, the server's URL and key.
  const prelude = `
    const user = { id: 'user-1', country: 'NL' };
    let rendered = false;
    const renderNewCheckout = () => { rendered = true; };
    const url = process.env.AVIARY_URL!;
    const sdkKey = process.env.AVIARY_SDK_KEY!;`;
  const report = (extra = '') => `
    console.log(JSON.stringify({ rendered, enabled, stranger: flags.isEnabled('${FLAG}', { key: 'user-7', country: 'DE' }), initialized: flags.initialized, status: flags.status${extra} }));
    await OpenFeature.close();
    await flags.close();`;

  async function runScript(file: string, typescript: string, format: 'esm' | 'cjs') {
    const { code } = await transform(typescript, { loader: 'ts', format, target: 'node20' });
    writeFileSync(join(app, file), code);
    const result = await run(process.execPath, [file], { cwd: app, env: outsideEnv({ AVIARY_URL: serverUrl, AVIARY_SDK_KEY: sdkKey }), timeoutMs: 20_000 });
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    return JSON.parse(result.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
  }

  it('run as an ES module, evaluating against the real server', async () => {
    const out = await runScript('readme.mjs', `${imports}\n${prelude}\n${quickStart.body}\n${openFeature.body}\n${report()}`, 'esm');
    expect(out).toEqual({ rendered: true, enabled: true, stranger: false, initialized: true, status: 'streaming' });
  });

  it('run as CommonJS, loading the CommonJS build (not Node 20.19+ require of ESM)', async () => {
    // `import` lines become require() calls; the body goes in an async function (no top-level await in CommonJS).
    const checks = `,
      resolved: ['@aviary/node', '@aviary/node/openfeature', '@aviary/core'].map((id) => require.resolve(id)),
      loaded: Object.keys(require.cache).filter((f) => f.includes('@aviary')).map((f) => f.slice(f.indexOf('@aviary')))`;
    const out = await runScript('readme.cjs', `${imports}\n${prelude}\n(async () => {\n${quickStart.body}\n${openFeature.body}\n${report(checks)}\n})().catch((e) => { console.error(e); process.exit(1); });`, 'cjs');
    const { resolved, loaded, ...results } = out as { resolved: string[]; loaded: string[] };
    expect(results).toEqual({ rendered: true, enabled: true, stranger: false, initialized: true, status: 'streaming' });
    expect(resolved).toEqual(['node/dist/cjs/index.js', 'node/dist/cjs/openfeature.js', 'core/dist/cjs/index.js'].map((f) => join(app, 'node_modules/@aviary', f)));
    // Every @aviary module came through require() from dist/cjs, and the two entry points share one client module.
    expect(loaded.length).toBeGreaterThan(10);
    expect(loaded.filter((f) => !/^@aviary\/(node|core)\/dist\/cjs\//.test(f))).toEqual([]);
    expect(loaded.filter((f) => f.endsWith('/client.js'))).toEqual(['@aviary/node/dist/cjs/client.js']);
  });

  it('type-check as .mts and .cts (strict, nodenext), each against its own declarations', async () => {
    const declarations = `
      declare const user: { id: string; country: string };
      declare function renderNewCheckout(): void;
      declare const url: string;
      declare const sdkKey: string;`;
    const verbatim = (heading: string) => splitImports(codeBlock(NODE_README, 'ts', heading));
    const [qs, of] = [verbatim('Quick start'), verbatim('OpenFeature')];
    // skipLibCheck (as most applications have it) would let a declaration that fails to resolve
    // degrade to \`any\`: these lines would then compile, and the unused @ts-expect-error fails.
    const typed = `
      // @ts-expect-error a flag key is a string
      flags.isEnabled(42, {});
      // @ts-expect-error createProvider takes options or a client
      createProvider(42);
      const answer: boolean = enabled;`;
    writeFileSync(join(app, 'readme.mts'), `${qs.imports}\n${of.imports}\n${declarations}\n${qs.body}\n${of.body}\n${typed}\nexport { answer };\n`);
    writeFileSync(join(app, 'readme.cts'), `${qs.imports}\n${of.imports}\n${declarations}\nexport async function main(): Promise<boolean> {\n${qs.body}\n${of.body}\n${typed}\nreturn answer;\n}\n`);
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, skipLibCheck: true, types: ['node'] }, files: ['readme.mts', 'readme.cts'] }),
    );
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    const result = await run(process.execPath, [tsc, '-p', 'tsconfig.json', '--listFiles'], { cwd: app, env: outsideEnv() });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const files = result.stdout.split('\n').filter((f) => f.includes('node_modules/@aviary/')).map((f) => f.slice(f.indexOf('@aviary')));
    for (const entry of ['node/dist/index.d.ts', 'node/dist/cjs/index.d.ts', 'node/dist/openfeature.d.ts', 'node/dist/cjs/openfeature.d.ts', 'core/dist/index.d.ts', 'core/dist/cjs/index.d.ts']) {
      expect(files).toContain(`@aviary/${entry}`);
    }
  });
});

describe("the browser README's snippet", () => {
  const snippet = () => {
    const code = codeBlock(BROWSER_README, 'js', 'Quick start');
    return splitImports(substitute(substitute(code, README_URL, JSON.stringify(serverUrl)), README_CLIENT_KEY, JSON.stringify(clientKey)));
  };
  // The page's answer: whether the snippet showed the new checkout for user-42, and the flag after setContext({ key: 'user-7' }).
  const page = (imports: string) => {
    const { body } = snippet();
    return `${imports}
let shown = false;
const showNewCheckout = () => { shown = true; };
const render = () => {};
${body}
window.__result = { shown, afterSetContext: flags.isEnabled('${FLAG}'), status: flags.status };
`;
  };
  const html = (script: string) => `<!doctype html>\n<meta charset="utf-8">\n<link rel="icon" href="data:,">\n<title>outside app</title>\n${script}\n`;

  async function openPage(path: string) {
    const context = await browser.newContext();
    try {
      const pageErrors: string[] = [];
      const tab = await context.newPage();
      tab.on('pageerror', (e) => pageErrors.push(e.message));
      tab.on('console', (m) => m.type() === 'error' && pageErrors.push(m.text()));
      await tab.goto(`${siteUrl}/${path}/`);
      await tab.waitForFunction(() => (window as unknown as { __result?: unknown }).__result !== undefined, null, { timeout: 15_000 }).catch(() => undefined);
      const result = await tab.evaluate(() => (window as unknown as { __result?: unknown }).__result);
      return { result, pageErrors };
    } finally {
      await context.close();
    }
  }

  function bundlerInput(name: string): string {
    const dir = join(app, `web-${name}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'main.js'), page(snippet().imports));
    return dir;
  }

  const expected = { result: { shown: true, afterSetContext: false, status: 'streaming' }, pageErrors: [] };

  it('bundled by Vite runs in Chromium', async () => {
    const dir = bundlerInput('vite');
    writeFileSync(join(dir, 'index.html'), html('<script type="module" src="./main.js"></script>'));
    const warnings: string[] = [];
    const logger = createLogger('warn', { allowClearScreen: false });
    logger.warn = (msg) => void warnings.push(msg);
    logger.warnOnce = (msg) => void warnings.push(msg);
    logger.error = (msg) => void warnings.push(msg);
    await vite({ root: dir, base: './', configFile: false, logLevel: 'warn', customLogger: logger, build: { outDir: join(siteRoot, 'vite'), emptyOutDir: true } });
    // A Node built-in would be "externalized for browser compatibility" with a warning, not bundled.
    expect(warnings).toEqual([]);
    expect(await openPage('vite')).toEqual(expected);
  });

  it('bundled by esbuild runs in Chromium', async () => {
    const dir = bundlerInput('esbuild');
    mkdirSync(join(siteRoot, 'esbuild'));
    const result = await esbuild({ entryPoints: [join(dir, 'main.js')], absWorkingDir: dir, bundle: true, minify: true, format: 'esm', platform: 'browser', outfile: join(siteRoot, 'esbuild/main.js'), logLevel: 'silent' });
    expect(result.warnings).toEqual([]);
    writeFileSync(join(siteRoot, 'esbuild/index.html'), html('<script type="module" src="./main.js"></script>'));
    expect(await openPage('esbuild')).toEqual(expected);
  });

  it('bundled by webpack 5 runs in Chromium', async () => {
    const dir = bundlerInput('webpack');
    const stats = await new Promise<webpack.Stats>((resolve, reject) => {
      webpack({ mode: 'production', context: dir, entry: './main.js', output: { path: join(siteRoot, 'webpack'), filename: 'main.js' }, devtool: false }, (error, result) => (error || !result ? reject(error) : resolve(result)));
    });
    // webpack 5 polyfills no Node built-ins: one would be an error here.
    expect(stats.toJson({ all: false, errors: true, warnings: true })).toMatchObject({ errors: [], warnings: [] });
    writeFileSync(join(siteRoot, 'webpack/index.html'), html('<script src="./main.js"></script>'));
    expect(await openPage('webpack')).toEqual(expected);
  });

  it('runs from the standalone ES module with a plain <script type="module">, no bundler', async () => {
    const file = createRequire(join(app, 'package.json')).resolve('@aviary/browser/standalone');
    expect(file).toBe(join(app, 'node_modules/@aviary/browser/dist/aviary.browser.js'));
    const code = readFileSync(file, 'utf8');
    // Self-contained: no import statement or import() at all, so no bare specifier to resolve.
    expect(code).not.toMatch(/\bimport\s*[\s{*("'`]/);
    mkdirSync(join(siteRoot, 'standalone'));
    copyFileSync(file, join(siteRoot, 'standalone/aviary.browser.js'));
    // The README's plain-script example, pointed at the copy and the real server, reporting what it did.
    let example = codeBlock(BROWSER_README, 'html', 'Install');
    example = substitute(substitute(substitute(example, "'/vendor/aviary.browser.js'", "'./aviary.browser.js'"), README_URL, JSON.stringify(serverUrl)), README_CLIENT_KEY, JSON.stringify(clientKey));
    example = substitute(example, '</script>', `  window.__result = { shown: document.body.classList.contains('${FLAG}'), status: flags.status };\n</script>`);
    writeFileSync(join(siteRoot, 'standalone/index.html'), html(example));
    expect(await openPage('standalone')).toEqual({ result: { shown: true, status: 'streaming' }, pageErrors: [] });
  });
});
