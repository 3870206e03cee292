import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, stop } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '@aviary/test-support';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { ADMIN_TOKEN, createTestDatabase } from './helpers.js';
import { evaluate } from '@aviary/core';
import { expectedDetails, loadIntoServer, loadVectors, ofrepContext, probeFor } from './ofrep/vectors.js';
import { ServerProcess } from '@aviary/test-support';
import { adminCall, serverBuild, waitFor } from './real-processes.js';

/**
 * The real `@openfeature/ofrep-web-provider` with `@openfeature/web-sdk`, bundled by esbuild, in
 * real headless Chromium, against the built server (its own origin; the page is served from
 * another): bulk evaluation with a client key in `X-API-Key`, then the event stream the answer
 * names (EventSource: the URL alone authenticates). A kill must reach the page through it; the
 * time from the admin call to the page's `ConfigurationChanged` is printed.
 */

const PAGE = `<!doctype html>
<meta charset="utf-8">
<script src="/of.js"></script>
<script>
  const q = new URLSearchParams(location.search);
  window.changes = [];
  window.errors = [];
  const provider = new OF.OFREPWebProvider({ baseUrl: q.get('flags'), headers: [['X-API-Key', q.get('clientKey')]], pollInterval: 0, ...(q.get('cache') ? { cacheMode: q.get('cache') } : {}) });
  const client = OF.OpenFeature.getClient();
  window.read = (flag) => client.getBooleanDetails(flag, false);
  client.addHandler(OF.ProviderEvents.ConfigurationChanged, (e) => window.changes.push({ at: Date.now(), flags: e.flagsChanged, value: client.getBooleanValue('banner', false) }));
  client.addHandler(OF.ProviderEvents.Error, (e) => window.errors.push(e.message));
  // The vectors: one context after the other (each a bulk evaluation), then the flag read with the typed getter.
  window.runVectors = async (probes) => {
    const out = [];
    for (const p of probes) {
      await OF.OpenFeature.setContext(p.context);
      const get = { boolean: 'getBooleanDetails', string: 'getStringDetails', number: 'getNumberDetails', object: 'getObjectDetails' }[p.type];
      const d = client[get](p.flag, p.fallback);
      out.push({ value: d.value, variant: d.variant, reason: d.reason, errorCode: d.errorCode });
    }
    return out;
  };
  window.ready = OF.OpenFeature.setContext({ targetingKey: 'user-1' })
    .then(() => OF.OpenFeature.setProviderAndWait(provider))
    .then(() => true, (e) => String(e));
</script>`;

async function bundle(): Promise<string> {
  const result = await build({
    stdin: {
      contents: `export { OFREPWebProvider } from '@openfeature/ofrep-web-provider'; export { OpenFeature, ProviderEvents } from '@openfeature/web-sdk';`,
      resolveDir: fileURLToPath(new URL('.', import.meta.url)),
      loader: 'ts',
    },
    bundle: true,
    format: 'iife',
    globalName: 'OF',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  await stop();
  return result.outputFiles[0]!.text;
}

describe('@openfeature/ofrep-web-provider in Chromium', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let server: ServerProcess;
  let site: Server;
  let siteUrl: string;
  let browser: Browser;
  let page: Page;
  let clientKey: string;
  const requested: string[] = [];
  const call = (method: string, path: string, body?: unknown) => adminCall(server.url, ADMIN_TOKEN, method, path, body);

  beforeAll(async () => {
    const [script, database] = await Promise.all([bundle(), createTestDatabase()]);
    db = database;
    site = createServer((req, res) => {
      if (req.url === '/of.js') res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(script);
      else res.writeHead(200, { 'Content-Type': 'text/html' }).end(PAGE);
    });
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', () => resolve()));
    siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
    const entry = join(serverBuild(), 'apps/server/src/main.js');
    server = await ServerProcess.start({ name: 'aviary', entry, env: { DATABASE_URL: db.url, AVIARY_ADMIN_TOKEN: ADMIN_TOKEN, AVIARY_CORS_ORIGINS: siteUrl, LOG_LEVEL: 'log' } });
    expect((await call('POST', '/api/v1/flags', { key: 'banner', clientVisible: true })).status).toBe(201);
    expect((await call('PUT', '/api/v1/environments/production/flags/banner', { enabled: true })).status).toBe(200);
    expect((await call('POST', '/api/v1/flags', { key: 'internal' })).status).toBe(201);
    expect((await call('PUT', '/api/v1/environments/production/flags/internal', { enabled: true })).status).toBe(200);
    clientKey = (await call('POST', '/api/v1/api-keys', { name: 'web', kind: 'client', environment: 'production' })).body.secret as string;
    browser = await launchChromium();
    page = await browser.newPage();
    page.on('pageerror', (e) => console.log(`page error: ${e.message}`));
    page.on('request', (r) => void (r.url().startsWith(server.url) && requested.push(`${r.method()} ${r.url().slice(server.url.length)}`)));
    await page.goto(`${siteUrl}/?flags=${encodeURIComponent(server.url)}&clientKey=${encodeURIComponent(clientKey)}`);
  }, 300_000);

  it('answers what @aviary/core answers, for every evaluation vector the server holds', async () => {
    const { expressible } = loadVectors();
    expect((await call('POST', '/api/v1/environments', { key: 'vectors', name: 'Vectors' })).status).toBe(201);
    const { loaded, refused } = await loadIntoServer((method, path, body) => call(method, path, body), 'vectors', expressible);
    expect(loaded.length).toBeGreaterThan(expressible.length * 0.75);
    const key = (await call('POST', '/api/v1/api-keys', { name: 'vectors', kind: 'client', environment: 'vectors' })).body.secret as string;
    const vectorsPage = await browser.newPage();
    // Without the provider's localStorage cache: it would answer a context seen before with reason CACHED.
    await vectorsPage.goto(`${siteUrl}/?flags=${encodeURIComponent(server.url)}&clientKey=${encodeURIComponent(key)}&cache=disabled`);
    expect(await vectorsPage.evaluate(() => (globalThis as unknown as { ready: Promise<unknown> }).ready)).toBe(true);
    const probes = loaded.map((vector) => {
      const result = evaluate(vector.ruleset, vector.flag, vector.context);
      return { vector, result, ...probeFor(vector, result), context: ofrepContext(vector), flag: vector.serverFlag };
    });
    const started = Date.now();
    const answers = await vectorsPage.evaluate(
      (list: unknown[]) => (globalThis as unknown as { runVectors(l: unknown[]): Promise<Array<Record<string, unknown>>> }).runVectors(list),
      probes.map(({ context, flag, type, fallback }) => ({ context, flag, type, fallback })) as unknown[],
    );
    console.log(`OFREP web provider: ${loaded.length} vectors (${refused.length} refused by the admin API), one bulk evaluation each, in ${Date.now() - started} ms`);
    const mismatches = probes.flatMap(({ vector, result, fallback }, i) => {
      const want = expectedDetails(vector, result, fallback, 'default');
      const got = Object.fromEntries(Object.keys(want).map((k) => [k, answers[i]![k]]));
      return JSON.stringify(got) === JSON.stringify(want) ? [] : [`${vector.name}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`];
    });
    expect(mismatches).toEqual([]);
    await vectorsPage.close();
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => (site ? site.close(resolve) : resolve(undefined)));
    await server?.kill();
    await db?.drop();
  });

  it('evaluates the client-visible flag; the server-only one is FLAG_NOT_FOUND', async () => {
    onTestFailed(() => console.log(server.output.slice(-20).join('\n')));
    expect(await page.evaluate(() => (globalThis as unknown as { ready: Promise<unknown> }).ready)).toBe(true);
    expect(await page.evaluate(() => (globalThis as unknown as { read(f: string): unknown }).read('banner'))).toMatchObject({ value: true, reason: 'STATIC' });
    expect(await page.evaluate(() => (globalThis as unknown as { read(f: string): unknown }).read('internal'))).toMatchObject({ value: false, errorCode: 'FLAG_NOT_FOUND' });
  });

  it('kills and revivals reach the page through the event stream; prints the propagation times', async () => {
    onTestFailed(() => console.log(server.output.slice(-20).join('\n')));
    const times: number[] = [];
    const changes = () => page.evaluate(() => (globalThis as unknown as { changes: Array<{ at: number; value: boolean }> }).changes);
    for (let round = 0; round < 10; round++) {
      const kill = round % 2 === 0;
      const seen = (await changes()).length;
      const at = Date.now();
      const res = await call('POST', `/api/v1/environments/production/flags/banner/${kill ? 'kill' : 'revive'}`, { reason: 'propagation test' });
      expect(res.status).toBe(200);
      const change = await waitFor('ConfigurationChanged in the page', async () => (await changes())[seen], 10_000, 2);
      expect(change.value).toBe(!kill);
      times.push(change.at - at);
    }
    const sorted = [...times].sort((x, y) => x - y);
    console.log(`OFREP web provider: admin kill/revive → ConfigurationChanged in Chromium, ms: ${times.join(', ')} (median ${sorted[5]}, max ${sorted[9]}); the provider debounces refetch events by 50 ms`);
    // No polling was configured: every refetch was triggered by a stream event (it carries its etag).
    expect(await page.evaluate(() => (globalThis as unknown as { errors: string[] }).errors)).toEqual([]);
    expect(requested.filter((r) => r.startsWith('GET /sdk/v1/ofrep-stream?clientKey='))).toHaveLength(1);
    const refetches = requested.filter((r) => r.startsWith('POST /ofrep/v1/evaluate/flags?flagConfigEtag='));
    expect(refetches.length).toBeGreaterThanOrEqual(10);
  });
});
