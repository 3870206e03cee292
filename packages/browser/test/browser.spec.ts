import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { type Browser, type Page } from 'playwright-core';
import { launchChromium } from '@aviary/test-support';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { evaluate, withParsedFlag, withParsedPatterns, type Cohort, type Context, type Result, type Ruleset } from '@aviary/core';
import { FlagServer } from './support/flag-server.js';
import { bundleForBrowser, startSite } from './support/site.js';

/** Each entry of a record through `f`, left as it was where `f` throws (the vectors' malformed flags). */
const eachOf = (record: unknown, f: (v: never) => unknown) =>
  typeof record === 'object' && record !== null
    ? Object.fromEntries(Object.entries(record).map(([k, v]) => { try { return [k, f(v as never)]; } catch { return [k, v]; } }))
    : record;

/** A ruleset as the server sends it to a client key: each `matches` pattern with its parsed form. */
function asClientKeyGets(ruleset: unknown): unknown {
  if (typeof ruleset !== 'object' || ruleset === null) return ruleset;
  const r = ruleset as Ruleset;
  return { ...r, flags: eachOf(r.flags, withParsedFlag), cohorts: eachOf(r.cohorts, (c: Cohort) => (Array.isArray(c.conditions) ? { ...c, conditions: withParsedPatterns(c.conditions) } : c)) };
}

// Real headless Chromium (the system's or @sparticuz/chromium's, never a downloaded one) against
// real HTTP servers on loopback: the page on one origin, the flag server on another (so CORS is exercised too).

const initial: Ruleset = {
  environment: 'production',
  revision: 1,
  flags: {
    'new-checkout': {
      key: 'new-checkout',
      enabled: true,
      rules: [{ id: 'canary', conditions: [{ attribute: 'key', operator: 'in', values: ['user-42', 'user-43'] }] }],
    },
  },
  cohorts: {},
};

interface Render {
  value: 'on' | 'off';
  at: number;
  status: string;
}

let browser: Browser;
let site: Awaited<ReturnType<typeof startSite>>;
let server: FlagServer;

beforeAll(async () => {
  const [launched, bundle] = await Promise.all([launchChromium(), bundleForBrowser()]);
  browser = launched;
  site = await startSite(bundle);
});

afterAll(async () => {
  await browser?.close();
  await site?.close();
});

beforeEach(async () => {
  server = new FlagServer(initial);
  await server.start();
});

afterEach(async () => {
  await server.stop();
});

async function open(user: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${site.url}/?flags=${encodeURIComponent(server.url)}&clientKey=${server.clientKey}&user=${user}`);
  return page;
}

const shown = (page: Page) => page.locator('#state').textContent();
const waitFor = (page: Page, value: string, timeout = 10_000) =>
  page.waitForFunction((v) => document.getElementById('state')?.textContent === v, value, { timeout });
const waitForStatus = (page: Page, status: string, timeout = 10_000) =>
  page.waitForFunction((s) => (window as unknown as { flags: { status: string } }).flags.status === s, status, { timeout });
const renders = (page: Page) => page.evaluate(() => (window as unknown as { renders: Render[] }).renders);

describe('in Chromium', () => {
  it('shows the flag state for its user, and a kill flips it without a reload', async () => {
    const [canary, other] = await Promise.all([open('user-42'), open('user-7')]);
    await waitFor(canary, 'on');
    await waitForStatus(canary, 'streaming');
    expect(await shown(other)).toBe('off');
    await canary.evaluate(() => ((window as unknown as { marker: number }).marker = 42));

    const stream = server.requests.find((r) => r.path === '/sdk/v1/stream' && r.query.key === 'user-42');
    expect(stream?.query.clientKey).toBe(server.clientKey);

    const sentAt = Date.now();
    server.kill('new-checkout');
    await waitFor(canary, 'off');
    const flipped = (await renders(canary)).at(-1)!;
    console.log(`kill → page flipped in ${flipped.at - sentAt} ms (status ${flipped.status}, no reload)`);
    expect(flipped.value).toBe('off');
    expect(await canary.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);
    expect(await canary.evaluate(() => (window as unknown as { flags: { evaluate(f: string): Result } }).flags.evaluate('new-checkout').reason)).toBe('DISABLED');

    // Leaving the page reports the exposures it counted (pagehide, fetch keepalive).
    await canary.goto('about:blank');
    await expect.poll(() => server.metrics.length, { timeout: 5_000 }).toBeGreaterThan(0);
    expect(server.metrics[0]).toMatchObject({ exposures: expect.arrayContaining([expect.objectContaining({ flag: 'new-checkout', enabled: true, variant: null })]) });
    await Promise.all([canary.context().close(), other.context().close()]);
  });

  it('restarts offline from localStorage with the last state, then catches up when the server is back', async () => {
    const page = await open('user-43');
    await waitFor(page, 'on');
    await waitForStatus(page, 'streaming');
    const revision = server.ruleset.revision;

    await server.stop();
    await page.reload();
    // The very first paint already shows the stored state: nothing could have come from the server.
    const [first] = await renders(page);
    expect(first).toMatchObject({ value: 'on', status: 'offline' });
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 43));

    server.kill('new-checkout');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await shown(page)).toBe('on');
    const requestsBefore = server.requests.length;
    const restartedAt = Date.now();
    await server.start();

    await waitFor(page, 'off', 15_000);
    console.log(`server back → page caught up in ${Date.now() - restartedAt} ms`);
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(43);
    // It resumed from the stored revision (stream Last-Event-ID, or a poll's If-None-Match).
    const resumed = server.requests
      .slice(requestsBefore)
      .some((r) => r.query.lastEventId === String(revision) || r.headers['if-none-match'] === `"${revision}"`);
    expect(resumed).toBe(true);
    // And it goes back to streaming once the stream opens again.
    await waitForStatus(page, 'streaming', 20_000);
    await page.context().close();
  });

  it('switches user with setContext: the new key gets its own ruleset over a new stream', async () => {
    const page = await open('user-7');
    await waitForStatus(page, 'streaming');
    expect(await shown(page)).toBe('off');
    // The two users' rulesets are the same data (the rule names both keys), so no `change` comes: the page renders itself.
    await page.evaluate(async () => {
      const w = window as unknown as { flags: { setContext(c: object): Promise<void> }; render(): void };
      await w.flags.setContext({ key: 'user-42' });
      w.render();
    });
    await waitFor(page, 'on');
    expect(server.requests.filter((r) => r.path === '/sdk/v1/stream').map((r) => r.query.key)).toEqual(['user-7', 'user-42']);
    await page.context().close();
  });

  describe('the core vectors, run with the bundled evaluate', () => {
    type Case = { name: string; ruleset: unknown; flag: string; context: unknown; now?: number; expected: Partial<Result> };
    let cases: Case[];
    let inChromium: Partial<Result>[];

    beforeAll(async () => {
      const file = createRequire(import.meta.url).resolve('@aviary/core/vectors.json');
      cases = (JSON.parse(readFileSync(file, 'utf8')) as { cases: Case[] }).cases;
      const page = await (await browser.newContext()).newPage();
      await page.goto(`${site.url}/blank`);
      inChromium = await page.evaluate((all) => {
        const { evaluateRuleset } = (window as unknown as { Aviary: { evaluateRuleset: (...a: unknown[]) => Result } }).Aviary;
        return all.map((c) => {
          const r = evaluateRuleset(c.clientRuleset, c.flag, c.context, c.now === undefined ? undefined : { now: c.now });
          const all = { enabled: r.enabled, reason: r.reason, variant: r.variant, value: r.value, ruleId: r.ruleId, errorCode: r.errorCode };
          return Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined));
        });
      }, cases.map((c) => ({ ...c, clientRuleset: asClientKeyGets(c.ruleset) })));
      await page.context().close();
    });

    it('gives exactly the answers Node gives (same engine, two platforms)', () => {
      expect(cases.length).toBeGreaterThan(0);
      const inNode = cases.map((c) => fields(evaluate(c.ruleset as Ruleset, c.flag, c.context as Context, c.now === undefined ? undefined : { now: c.now })));
      expect(cases.filter((_, i) => canonical(inChromium[i]) !== canonical(inNode[i])).map((c) => c.name)).toEqual([]);
    });

    it('gives the expected answers', () => {
      const mismatches = cases.flatMap((c, i) => (canonical(inChromium[i]) === canonical(c.expected) ? [] : [{ name: c.name, expected: c.expected, actual: inChromium[i] }]));
      console.log(`core vectors in Chromium: ${cases.length - mismatches.length}/${cases.length} as expected`);
      expect(mismatches).toEqual([]);
    });
  });
});

describe('in Chromium: catastrophic patterns (packages/core/test/redos-corpus.json)', () => {
  type Entry = { pattern: string; prefix?: string; pump: string; suffix: string; expect: string; flag?: unknown };
  type Measured = { pattern: string; length: number; enabled: boolean; single: number; median: number; max: number };
  const LENGTHS = [25, 41, 1024];
  let entries: Entry[];
  let measured: Measured[];

  beforeAll(async () => {
    entries = (JSON.parse(readFileSync(new URL('../../core/test/redos-corpus.json', import.meta.url), 'utf8')) as { entries: Entry[] }).entries;
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${site.url}/blank`);
    measured = await page.evaluate(
      ({ entries, lengths }) => {
        const { evaluateRuleset } = (window as unknown as { Aviary: { evaluateRuleset: (...a: unknown[]) => { enabled: boolean } } }).Aviary;
        const input = (e: Entry, length: number) => {
          const prefix = e.prefix ?? '';
          const k = Math.max(0, Math.floor((length - prefix.length - e.suffix.length) / e.pump.length));
          return (prefix + e.pump.repeat(k) + e.suffix).slice(0, length);
        };
        const out: Measured[] = [];
        for (const e of entries) {
          const ruleset = { environment: 'e', revision: 1, flags: { f: e.flag }, cohorts: {} };
          for (const length of lengths) {
            const context = { key: 'u', email: input(e, length) };
            const enabled = evaluateRuleset(ruleset, 'f', context).enabled;
            let single = Infinity;
            // One alone, tried up to 3 times (the machine may have been busy).
            for (let k = 0; k < 3 && single > 50; k++) {
              const started = performance.now();
              evaluateRuleset(ruleset, 'f', context);
              single = Math.min(single, performance.now() - started);
            }
            // A backtracking engine stops here, at a short input, instead of hanging the page.
            if (single > 50) return [...out, { pattern: e.pattern, length, enabled, single, median: single, max: single }];
            // Batches of 50: the page's clock is coarse (0.1 ms).
            const batches: number[] = [];
            for (let b = 0; b < 11; b++) {
              const started = performance.now();
              for (let k = 0; k < 50; k++) evaluateRuleset(ruleset, 'f', context);
              batches.push((performance.now() - started) / 50);
            }
            batches.sort((x, y) => x - y);
            out.push({ pattern: e.pattern, length, enabled, single, median: batches[5]!, max: batches[10]! });
          }
        }
        return out;
      },
      { entries: entries.map((e) => ({ ...e, flag: withParsedFlag({ key: 'f', enabled: true, rules: [{ id: 'r', conditions: [{ attribute: 'email', operator: 'matches', values: [e.pattern] }] }] }) as unknown })), lengths: LENGTHS },
    );
    await page.context().close();
  });

  it('evaluates every one in under 1 ms (median) at up to 1,024 characters, never over 50 ms', () => {
    expect(measured).toHaveLength(entries.length * LENGTHS.length);
    const slowest = measured.reduce((a, b) => (b.median > a.median ? b : a));
    console.log(`Chromium, ${measured.length} evaluations measured: slowest median ${slowest.median.toFixed(3)} ms (${slowest.pattern} at ${slowest.length} chars)`);
    expect(measured.filter((m) => !(m.median < 1 && m.single < 50 && m.max < 50))).toEqual([]);
  });

  it('gives the answers Node gives', () => {
    const inNode = entries.flatMap((e) =>
      LENGTHS.map((length) => {
        const prefix = e.prefix ?? '';
        const k = Math.max(0, Math.floor((length - prefix.length - e.suffix.length) / e.pump.length));
        const flag = { key: 'f', enabled: true, rules: [{ id: 'r', conditions: [{ attribute: 'email', operator: 'matches' as const, values: [e.pattern] }] }] };
        return evaluate({ environment: 'e', revision: 1, flags: { f: flag }, cohorts: {} }, 'f', { key: 'u', email: (prefix + e.pump.repeat(k) + e.suffix).slice(0, length) }).enabled;
      }),
    );
    expect(measured.map((m) => m.enabled)).toEqual(inNode);
  });
});

/** The compared fields of a result, without the ones left undefined. */
function fields(r: Result): Partial<Result> {
  const all = { enabled: r.enabled, reason: r.reason, variant: r.variant, value: r.value, ruleId: r.ruleId, errorCode: r.errorCode };
  return Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined));
}

/** JSON with sorted keys: key order does not matter when comparing results. */
function canonical(value: unknown): string {
  const sort = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(sort) : v === null || typeof v !== 'object' ? v : Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort((v as Record<string, unknown>)[k])]));
  return JSON.stringify(sort(value));
}
