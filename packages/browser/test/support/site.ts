import { build, stop } from 'esbuild';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

/**
 * The SDK as a page would load it: bundled from the sources with esbuild (IIFE, minified, global
 * `Aviary`), plus the SDK's own evaluate (core's, compiling the parsed patterns client keys get) as
 * `Aviary.evaluateRuleset` for running the vectors.
 */
export async function bundleForBrowser(): Promise<string> {
  const packageDir = fileURLToPath(new URL('../..', import.meta.url));
  const result = await build({
    stdin: {
      contents: `export * from './src/index.ts'; import { evaluator, parsedPatterns } from '@aviary/core'; export const evaluateRuleset = evaluator(parsedPatterns);`,
      resolveDir: packageDir,
      loader: 'ts',
    },
    bundle: true,
    minify: true,
    format: 'iife',
    globalName: 'Aviary',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  // esbuild's service process would outlive the test file by a moment otherwise; a later build starts another.
  await stop();
  return result.outputFiles[0]!.text;
}

/**
 * The test page: shows `new-checkout` for the user in `?user=`, re-rendering on `ready` and `change`, and
 * records each state it showed with a timestamp (`window.renders`), so a test can tell what the
 * very first paint was and when a kill arrived. `?streaming=0` makes it poll only.
 */
const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>Aviary browser test</title>
<p>new-checkout is <b id="state">?</b> <small id="status"></small></p>
<script src="/aviary.js"></script>
<script>
  const q = new URLSearchParams(location.search);
  const flags = Aviary.createClient({
    url: q.get('flags'),
    clientKey: q.get('clientKey'),
    context: { key: q.get('user') },
    streaming: q.get('streaming') !== '0',
    pollIntervalMs: 300,
    readyTimeoutMs: 3000,
  });
  const state = document.getElementById('state');
  window.renders = [];
  window.errors = [];
  function render() {
    const value = flags.isEnabled('new-checkout') ? 'on' : 'off';
    if (state.textContent !== value) {
      state.textContent = value;
      window.renders.push({ value, at: Date.now(), status: flags.status });
    }
  }
  render();
  flags.on('ready', render);
  flags.on('change', render);
  flags.on('error', (e) => window.errors.push(e.code));
  setInterval(() => { document.getElementById('status').textContent = flags.status; }, 25);
  window.flags = flags;
</script>`;

/** Serves the page and the bundle from its own origin (the flag server is another one). */
export async function startSite(bundle: string): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/aviary.js') res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(bundle);
    else if (path === '/') res.writeHead(200, { 'Content-Type': 'text/html' }).end(PAGE);
    else if (path === '/blank') res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><script src="/aviary.js"></script>');
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
