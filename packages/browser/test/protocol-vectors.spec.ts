import { type Browser, type Page } from 'playwright-core';
import { launchChromium, loadProtocolVectors, toServerSentEvent, type VectorExpectation } from '@aviary/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleForBrowser, startSite } from './support/site.js';
import { VectorServer } from './support/vector-server.js';

// The protocol vectors of @aviary/core, run in real headless Chromium through the client's own
// path: a real EventSource on a real server that sends each step's event, then a `barrier` event
// (unknown to the client, so ignored) that tells the page the step has been handled.

const { context, vectors } = loadProtocolVectors();

let browser: Browser;
let site: Awaited<ReturnType<typeof startSite>>;
let server: VectorServer;
let page: Page;

beforeAll(async () => {
  const [launched, bundle] = await Promise.all([launchChromium(), bundleForBrowser()]);
  browser = launched;
  site = await startSite(bundle);
  server = new VectorServer();
  await server.start();
  page = await (await browser.newContext()).newPage();
  await page.goto(`${site.url}/blank`);
  // Counts the barriers each EventSource hears; the client's own listeners for the step's event ran before.
  await page.evaluate(() => {
    const w = window as unknown as Record<string, unknown> & { EventSource: typeof EventSource };
    w['barriers'] = 0;
    w.EventSource = class extends w.EventSource {
      constructor(url: string | URL, init?: EventSourceInit) {
        super(url, init);
        this.addEventListener('barrier', () => (w['barriers'] = (w['barriers'] as number) + 1));
      }
    };
  });
});

afterAll(async () => {
  await browser?.close();
  await site?.close();
  await server?.stop();
});

type Seen = Omit<VectorExpectation, 'reload'>;

/** Starts a client for one vector in the page; it records its events in `window.seen`. */
async function startClient(clientKey: string): Promise<void> {
  await page.evaluate(
    ({ url, clientKey, context }) => {
      const w = window as unknown as Record<string, unknown>;
      const { createClient } = w['Aviary'] as { createClient: (options: object) => { on(e: string, l: (p: unknown) => void): void; close(): void } };
      (w['client'] as { close(): void } | undefined)?.close();
      const client = createClient({ url, clientKey, context, storage: null, readyTimeoutMs: 100, logger: { warn: () => undefined } });
      const seen: [string, unknown][] = [];
      for (const name of ['ready', 'change', 'kill']) client.on(name, (payload) => seen.push([name, payload]));
      client.on('error', (error) => seen.push(['error', { code: (error as { code: string }).code }]));
      w['client'] = client;
      w['seen'] = seen;
    },
    { url: server.url, clientKey, context },
  );
}

/** What the page shows now, and the events since the last look. */
function look(flags: string[]): Promise<Seen> {
  return page.evaluate((flags) => {
    const w = window as unknown as Record<string, unknown>;
    const client = w['client'] as { revision?: number; evaluate(flag: string): { enabled: boolean; reason: string } };
    const states: Record<string, boolean | null> = {};
    for (const flag of flags) {
      const result = client.evaluate(flag);
      states[flag] = result.reason === 'FLAG_NOT_FOUND' ? null : result.enabled;
    }
    const seen = w['seen'] as [string, unknown][];
    return { revision: client.revision ?? null, flags: states, events: seen.splice(0) };
  }, flags);
}

describe('protocol vectors in Chromium, through EventSource and the client', () => {
  it('has the vectors', () => {
    expect(vectors.length).toBeGreaterThanOrEqual(25);
  });

  it.each(vectors.map((vector, i) => [vector.name, vector, `avc_vector_${i}`] as const))('%s', async (_name, vector, clientKey) => {
    await startClient(clientKey);
    let connection = await server.connection(clientKey, 0);
    expect(connection.lastEventId).toBeUndefined();
    for (const [i, { send, expect: expected }] of vector.steps.entries()) {
      const connections = server.connections(clientKey).length;
      const barriers = await page.evaluate(() => (window as unknown as { barriers: number }).barriers);
      connection.write(toServerSentEvent(send) + 'event: barrier\ndata: {}\n\n');
      if (expected.reload) {
        connection = await server.connection(clientKey, connections);
        expect(connection.lastEventId, `step ${i + 1}: the reload asks for the whole ruleset`).toBeUndefined();
      } else {
        await page.waitForFunction((n) => (window as unknown as { barriers: number }).barriers > n, barriers, { timeout: 5_000 });
        expect(server.connections(clientKey).length, `step ${i + 1}: no reconnect`).toBe(connections);
      }
      const { reload: _reload, ...shown } = expected;
      expect(await look(Object.keys(expected.flags)), `step ${i + 1}`).toEqual(shown);
    }
  });
});
