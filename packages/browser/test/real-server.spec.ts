import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { launchChromium } from '@aviary/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cohort, Ruleset } from '@aviary/core';
import { Admin, aviaryServer, createDatabase, type ServerProcess, type TestDatabase } from './support/aviary-server.js';
import { bundleForBrowser, startSite } from './support/site.js';

// Real headless Chromium (the system's, or the one @sparticuz/chromium packs) against the REAL
// Aviary server: the built apps/server spawned as a child process on a fresh Postgres database,
// CORS configured for the page's origin, the page served from another localhost port. What the page received is read from Chromium's own network
// events (CDP), not from the server's side.

const FLAG = 'new-checkout';
const COHORT = 'beta-testers';
/** Not client-visible: its key and everything in its rules must never reach a browser. */
const HIDDEN = 'zz-hidden-payroll-export';
const HIDDEN_VALUES = ['cfo@hidden-payroll.example', 'hidden-ledger-7c1f'];
const HIDDEN_VALUE_LATER = 'hidden-after-change-9e2b';
/** Created, configured and archived while the pages watch. */
const HIDDEN_2 = 'zz-hidden-acquisition-4d1c';
const HIDDEN_2_VALUE = 'target-company-b6e0';
/** Cohort members other than the pages' own users: none of them may reach a browser. */
const OTHERS_INCLUDED = ['alice-3b9d1e', 'bob-5f02a4'];
const OTHERS_EXCLUDED = ['mallory-8c71d0'];
const OTHERS_LATER = { add: ['carol-2d6f93'], exclude: ['trent-91ab4c'] };
const OTHERS = [...OTHERS_INCLUDED, ...OTHERS_EXCLUDED, ...OTHERS_LATER.add, ...OTHERS_LATER.exclude];
/** The pages' users: two canaries, one excluded, one not listed at all. */
const CANARY = 'user-42';
const CANARY_2 = 'user-43';
const EXCLUDED = 'user-66';
const STRANGER = 'user-7';
const PAGE_USERS = [CANARY, CANARY_2, EXCLUDED, STRANGER];

interface Render {
  value: 'on' | 'off';
  at: number;
  status: string;
}

/** What one page's Chromium received from the flag server, and what it sent. */
interface Wire {
  /** Server-sent events as Chromium parsed them (CDP `Network.eventSourceMessageReceived`), but heartbeats. */
  events: Array<{ url: string; event: string; id: string; data: string; at: number }>;
  /** `GET /sdk/v1/ruleset` responses (bodies of the 200s). */
  rulesets: Array<{ status: number; body: string; ifNoneMatch?: string; at: number }>;
  /** Every response from the flag server, with the request's URL and headers. */
  responses: Array<{ url: string; status: number; headers: Record<string, string>; at: number }>;
  /** Console messages that mention CORS. */
  corsErrors: string[];
}

let db: TestDatabase;
let server: ServerProcess;
let admin: Admin;
let clientKey: string;
let serverKey: string;
let browser: Browser;
let site: Awaited<ReturnType<typeof startSite>>;
const contexts: BrowserContext[] = [];
const processes: ServerProcess[] = [];

beforeAll(async () => {
  const started = Date.now();
  // One at a time, each kept as soon as it exists, so a failure of one still lets afterAll remove the others.
  db = await createDatabase();
  browser = await launchChromium();
  site = await startSite(await bundleForBrowser());
  server = await aviaryServer('aviary', { DATABASE_URL: db.url, AVIARY_CORS_ORIGINS: site.url });
  const bootMs = await server.start();
  admin = new Admin(server.url);
  [clientKey, serverKey] = await Promise.all([admin.createKey('client'), admin.createKey('server')]);
  await admin.request('POST', '/cohorts', { key: COHORT });
  await admin.request('POST', `/cohorts/${COHORT}/members`, { add: [CANARY, CANARY_2, ...OTHERS_INCLUDED], exclude: [EXCLUDED, ...OTHERS_EXCLUDED] });
  await admin.request('POST', '/flags', { key: FLAG, clientVisible: true });
  await admin.request('PUT', `/environments/production/flags/${FLAG}`, { enabled: true, rules: [{ id: 'beta', cohorts: [COHORT] }] });
  await admin.request('POST', '/flags', { key: HIDDEN, description: 'server-only' });
  await admin.request('PUT', `/environments/production/flags/${HIDDEN}`, {
    enabled: true,
    rules: [{ id: 'finance', conditions: [{ attribute: 'email', operator: 'in', values: HIDDEN_VALUES }] }],
  });
  console.log(`real server: booted on a copy of the migrated template in ${bootMs} ms; setup done in ${Date.now() - started} ms`);
}, 40_000);

afterAll(async () => {
  await Promise.all(contexts.map((c) => c.close().catch(() => undefined)));
  await browser?.close();
  await site?.close();
  await Promise.all([server, ...processes].map((p) => p?.kill()));
  await db?.drop();
});

/** Opens the test page for `user` with its network watched from the first request on. */
async function open(user: string, query = ''): Promise<{ page: Page; wire: Wire }> {
  const context = await browser.newContext();
  contexts.push(context);
  const page = await context.newPage();
  const wire: Wire = { events: [], rulesets: [], responses: [], corsErrors: [] };
  const cdp = await context.newCDPSession(page);
  const urls = new Map<string, string>();
  cdp.on('Network.requestWillBeSent', (e) => urls.set(e.requestId, e.request.url));
  // Heartbeats (`ping`, every 15 s, whenever the server's timer fires) are left out: they carry
  // nothing, and would land at random places in the sequences the tests compare.
  cdp.on('Network.eventSourceMessageReceived', (e) => {
    if (e.eventName !== 'ping') wire.events.push({ url: urls.get(e.requestId) ?? '', event: e.eventName, id: e.eventId, data: e.data, at: Date.now() });
  });
  await cdp.send('Network.enable');
  page.on('response', (response) => {
    if (!response.url().startsWith(server.url)) return;
    const at = Date.now();
    const headers = response.request().headers();
    wire.responses.push({ url: response.url(), status: response.status(), headers, at });
    if (new URL(response.url()).pathname === '/sdk/v1/ruleset' && response.request().method() === 'GET') {
      const entry = { status: response.status(), body: '', ifNoneMatch: headers['if-none-match'], at };
      wire.rulesets.push(entry);
      if (entry.status === 200) response.text().then((body) => (entry.body = body), () => undefined);
    }
  });
  page.on('console', (message) => {
    if (/CORS|Access-Control/i.test(message.text())) wire.corsErrors.push(message.text());
  });
  await page.goto(`${site.url}/?flags=${encodeURIComponent(server.url)}&clientKey=${clientKey}&user=${user}${query}`);
  return { page, wire };
}

const shown = (page: Page) => page.locator('#state').textContent();
const waitFor = (page: Page, value: string, timeout = 10_000) =>
  page.waitForFunction((v) => document.getElementById('state')?.textContent === v, value, { timeout });
const waitForStatus = (page: Page, status: string, timeout = 10_000) =>
  page.waitForFunction((s) => (window as unknown as { flags: { status: string } }).flags.status === s, status, { timeout });
const renders = (page: Page) => page.evaluate(() => (window as unknown as { renders: Render[] }).renders);
const setMarker = (page: Page, value: number) => page.evaluate((v) => ((window as unknown as { marker: number }).marker = v), value);
const marker = (page: Page) => page.evaluate(() => (window as unknown as { marker?: number }).marker);

describe('in Chromium, against the real server', () => {
  it('shows the flag state for its user, and an admin kill flips it without a reload', async () => {
    const [canary, stranger] = await Promise.all([open(CANARY), open(STRANGER)]);
    await waitFor(canary.page, 'on');
    await waitForStatus(canary.page, 'streaming');
    await waitForStatus(stranger.page, 'streaming');
    expect(await shown(stranger.page)).toBe('off');
    await setMarker(canary.page, 42);

    const sentAt = Date.now();
    const { revision } = await admin.request<{ revision: number }>('POST', `/environments/production/flags/${FLAG}/kill`, { reason: 'browser e2e' });
    const answeredAt = Date.now();
    await waitFor(canary.page, 'off');
    const flipped = (await renders(canary.page)).at(-1)!;
    console.log(
      `real server: admin kill → page flipped in ${flipped.at - sentAt} ms (kill call answered in ${answeredAt - sentAt} ms; status ${flipped.status}, no reload)`,
    );
    expect(flipped).toMatchObject({ value: 'off', status: 'streaming' });
    expect(flipped.at - sentAt).toBeLessThan(5_000);
    expect(await marker(canary.page)).toBe(42);
    // It came as a `kill` event over the page's own EventSource, carrying the kill's revision.
    await expect.poll(() => canary.wire.events.map((e) => [e.event, Number(e.id)]).slice(1), { timeout: 5_000 }).toEqual([['kill', revision]]);
    expect(canary.wire.events[0]!.event).toBe('ruleset');

    // Revived, it comes back the same way (a `change`).
    await admin.request('POST', `/environments/production/flags/${FLAG}/revive`, { reason: 'browser e2e' });
    await waitFor(canary.page, 'on');
    expect(await shown(stranger.page)).toBe('off');

    // The SDK's exposure report crosses origins too (POST with a JSON body: a preflighted request).
    await canary.page.evaluate(() => (window as unknown as { flags: { close(): void } }).flags.close());
    await expect.poll(() => canary.wire.responses.find((r) => r.url.includes('/sdk/v1/metrics'))?.status, { timeout: 5_000 }).toBe(202);
    expect([...canary.wire.corsErrors, ...stranger.wire.corsErrors]).toEqual([]);
    await Promise.all([canary.page.context().close(), stranger.page.context().close()]);
  });

  it('restarts offline from localStorage with the last state, then catches up with a change made while the server was down', async () => {
    // Another instance on the same database, through which the change is made while the page's server is down.
    const aside = await aviaryServer('aviary-aside', { DATABASE_URL: db.url });
    processes.push(aside);
    const [{ page, wire }] = await Promise.all([open(CANARY_2), aside.start()]);
    await waitFor(page, 'on');
    await waitForStatus(page, 'streaming');
    const before = await admin.revision();

    await server.kill();
    await page.reload();
    // The very first paint shows the stored state: nothing can have come from the server.
    const [first] = await renders(page);
    expect(first).toMatchObject({ value: 'on', status: 'offline' });
    await setMarker(page, 43);

    try {
      await new Admin(aside.url).request('POST', `/cohorts/${COHORT}/members`, { exclude: [CANARY_2], reason: 'browser e2e: while down' });
    } finally {
      await aside.kill();
    }
    expect(await shown(page)).toBe('on');

    const restartedAt = Date.now();
    const bootMs = await server.start();
    await waitFor(page, 'off', 15_000);
    const caughtUpAt = (await renders(page)).at(-1)!.at;
    // It resumed from the stored revision: the stream's `?lastEventId=` or a poll's `If-None-Match`.
    const resumed = wire.responses.find((r) => r.at >= restartedAt && r.status === 200 && (new URL(r.url).searchParams.get('lastEventId') === String(before) || r.headers['if-none-match'] === `"${before}"`));
    const via = resumed === undefined ? 'unknown' : resumed.url.includes('/stream') ? 'stream resume (lastEventId)' : 'poll (If-None-Match)';
    console.log(`real server: restarted in ${bootMs} ms → page caught up ${caughtUpAt - restartedAt} ms after the restart began, via ${via}`);
    expect(resumed).toBeDefined();
    expect(await marker(page)).toBe(43);
    expect(wire.corsErrors).toEqual([]);
    await page.context().close();
  }, 90_000);

  it('privacy: what the browser received (ruleset and stream) has no server-only flag and no other user\'s key, also after changes to both', async () => {
    const start = await admin.revision();
    // A streaming page for a canary, a polling page for an excluded user.
    const [streaming, polling] = await Promise.all([open(CANARY), open(EXCLUDED, '&streaming=0')]);
    await waitForStatus(streaming.page, 'streaming');
    await waitForStatus(polling.page, 'polling');
    expect(await shown(polling.page)).toBe('off');

    // Changes that touch hidden flags and the cohort: a hidden flag created, configured and archived;
    // a config write to the other; a membership write; a kill of a hidden flag.
    await admin.request('POST', '/flags', { key: HIDDEN_2 });
    await admin.request('PUT', `/environments/production/flags/${HIDDEN_2}`, { enabled: true, rules: [{ id: 'deal', conditions: [{ attribute: 'org', operator: 'in', values: [HIDDEN_2_VALUE] }] }] });
    await admin.request('DELETE', `/flags/${HIDDEN_2}`);
    await admin.request('PUT', `/environments/production/flags/${HIDDEN}`, {
      enabled: true,
      rules: [{ id: 'finance', conditions: [{ attribute: 'email', operator: 'in', values: [...HIDDEN_VALUES, HIDDEN_VALUE_LATER] }], cohorts: [COHORT] }],
    });
    await admin.request('POST', `/cohorts/${COHORT}/members`, OTHERS_LATER);
    await admin.request('POST', `/environments/production/flags/${HIDDEN}/kill`, { reason: 'browser e2e' });
    const end = await admin.revision();
    expect(end).toBe(start + 6);

    await expect.poll(() => streaming.wire.events.some((e) => e.id === String(end)), { timeout: 5_000 }).toBe(true);
    await expect.poll(() => polling.wire.rulesets.some((r) => r.body !== '' && (JSON.parse(r.body) as Ruleset).revision === end), { timeout: 5_000 }).toBe(true);
    // Every revision arrived as an event, in order: empty for the hidden flags, the cohort cut to the user.
    const changes = streaming.wire.events.filter((e) => Number(e.id) > start);
    expect(changes.map((e) => [e.event, Number(e.id)])).toEqual([1, 2, 3, 4, 5, 6].map((i) => [i === 6 ? 'kill' : 'change', start + i]));
    const nothing = (revision: number) => ({ revision, flags: {} });
    expect(changes.map((e) => JSON.parse(e.data))).toEqual([
      nothing(start + 1),
      nothing(start + 2),
      nothing(start + 3),
      nothing(start + 4),
      { revision: start + 5, cohorts: { [COHORT]: { key: COHORT, included: [CANARY], excluded: [], conditions: [] } } },
      nothing(start + 6),
    ]);

    // `?lastEventId=` on a new EventSource resumes: the missed patches, cut the same way, when the
    // server can tell what to cut; the whole client ruleset when a hidden flag's visibility before
    // the gap is unknown to it (so a resume never names a hidden flag either).
    const resume = (from: number) =>
      streaming.page.evaluate(
        ({ url, to }) =>
          new Promise<Array<{ type: string; id: string; data: string }>>((resolve, reject) => {
            const got: Array<{ type: string; id: string; data: string }> = [];
            const source = new EventSource(url);
            const timer = setTimeout(() => {
              source.close();
              reject(new Error('no resume: ' + JSON.stringify(got)));
            }, 5_000);
            for (const type of ['ruleset', 'change', 'kill'])
              source.addEventListener(type, (e) => {
                const { lastEventId, data } = e as MessageEvent<string>;
                got.push({ type, id: lastEventId, data });
                if (Number(lastEventId) < to) return;
                source.close();
                clearTimeout(timer);
                resolve(got);
              });
          }),
        { url: `${server.url}/sdk/v1/stream?clientKey=${clientKey}&key=${CANARY}&lastEventId=${from}`, to: end },
      );
    const replayed = await resume(start + 4);
    expect(replayed.map((e) => [e.type, Number(e.id), e.data])).toEqual(changes.slice(4).map((e) => [e.event, Number(e.id), e.data]));
    const reloaded = await resume(start);
    expect(reloaded.map((e) => [e.type, Number(e.id)])).toEqual([['ruleset', end]]);
    // Chromium's network events saw them too, so the checks below cover them.
    await expect.poll(() => streaming.wire.events.filter((e) => e.url.includes('lastEventId=')).length).toBe(3);

    const stored = await streaming.page.evaluate(() => Object.values(localStorage).join('\n'));
    const received = [
      { user: CANARY, what: 'stream events', texts: streaming.wire.events.map((e) => e.data) },
      { user: CANARY, what: 'stored ruleset', texts: [stored] },
      { user: EXCLUDED, what: 'ruleset responses', texts: polling.wire.rulesets.map((r) => r.body).filter((b) => b !== '') },
    ];
    for (const { user, what, texts } of received) {
      expect(texts.length, `${user}: ${what}`).toBeGreaterThan(0);
      const all = texts.join('\n');
      for (const secret of [HIDDEN, ...HIDDEN_VALUES, HIDDEN_VALUE_LATER, HIDDEN_2, HIDDEN_2_VALUE, ...OTHERS, ...PAGE_USERS.filter((u) => u !== user)]) {
        expect(all, `${user}: ${what} contain "${secret}"`).not.toContain(secret);
      }
      // Structurally too: only the visible flag, and cohort lists with at most the user's own key.
      for (const text of texts) {
        const body = JSON.parse(text) as Partial<Ruleset>;
        expect(Object.keys(body.flags ?? {}).filter((k) => k !== FLAG)).toEqual([]);
        for (const cohort of Object.values(body.cohorts ?? {}) as Array<Cohort | null>) {
          for (const key of [...(cohort?.included ?? []), ...(cohort?.excluded ?? [])]) expect(key).toBe(user);
        }
      }
    }
    // Each page still got what it needs: its own membership, so the flag evaluates right.
    expect(stored).toContain(`"included":["${CANARY}"]`);
    expect(polling.wire.rulesets.some((r) => r.body.includes(`"excluded":["${EXCLUDED}"]`))).toBe(true);
    expect(await shown(streaming.page)).toBe('on');
    expect(await shown(polling.page)).toBe('off');
    // Polling revalidated with If-None-Match across origins (a preflighted header), answered 304.
    await expect.poll(() => polling.wire.rulesets.some((r) => r.status === 304 && r.ifNoneMatch === `"${end}"`), { timeout: 3_000 }).toBe(true);
    expect([...streaming.wire.corsErrors, ...polling.wire.corsErrors]).toEqual([]);

    // For contrast: the same server gives a server key the hidden flag and every member.
    const full = await (await fetch(`${server.url}/sdk/v1/ruleset`, { headers: { authorization: `Bearer ${serverKey}` } })).text();
    for (const secret of [HIDDEN, HIDDEN_VALUE_LATER, ...OTHERS]) expect(full).toContain(secret);
    await Promise.all([streaming.page.context().close(), polling.page.context().close()]);
  });

  it('a stored ruleset newer than the server\'s (its database restored from an older backup) is reset to the server\'s state', async () => {
    const { page, wire } = await open(STRANGER);
    await waitForStatus(page, 'streaming');
    const actual = (await shown(page))!;
    const revision = await admin.revision();
    // What a page kept from the history the backup lost: a later revision, with the flag the other way.
    const forged = revision + 1000;
    await page.evaluate(
      ({ user, flag, forged, on }) => {
        const slot = Object.keys(localStorage).find((k) => k.startsWith('aviary:') && k.endsWith(`:${user}`))!;
        const stored = JSON.parse(localStorage.getItem(slot)!);
        stored.revision = forged;
        stored.flags[flag] = { key: flag, enabled: on, rules: [] };
        localStorage.setItem(slot, JSON.stringify(stored));
      },
      { user: STRANGER, flag: FLAG, forged, on: actual === 'off' },
    );
    const reloadedAt = Date.now();
    await page.reload();
    // The first paint is the stored state; then the server's reset brings the page back to the truth.
    expect((await renders(page))[0]!.value).toBe(actual === 'off' ? 'on' : 'off');
    await waitFor(page, actual);
    const stored = () =>
      page.evaluate((user) => {
        const slot = Object.keys(localStorage).find((k) => k.startsWith('aviary:') && k.endsWith(`:${user}`))!;
        return JSON.parse(localStorage.getItem(slot)!) as { revision: number; reset?: boolean };
      }, STRANGER);
    expect(await stored()).toEqual(expect.not.objectContaining({ reset: expect.anything() }));
    expect((await stored()).revision).toBe(revision);
    // On the wire: the stream resumed from the forged revision and got the ruleset marked as a reset.
    const reset = wire.events.find((e) => e.at >= reloadedAt && e.event === 'ruleset');
    expect(new URL(reset!.url).searchParams.get('lastEventId')).toBe(String(forged));
    expect(Number(reset!.id)).toBe(revision);
    expect(JSON.parse(reset!.data)).toMatchObject({ reset: true, revision });
    // And it goes on from there: the next revision (a kill) is applied and stored.
    const killed = (await admin.request<{ revision: number }>('POST', `/environments/production/flags/${FLAG}/kill`, { reason: 'browser e2e: after a reset' })).revision;
    await expect.poll(async () => (await stored()).revision).toBe(killed);
    expect(wire.events.filter((e) => e.at >= reloadedAt).map((e) => [e.event, Number(e.id)])).toEqual([['ruleset', revision], ['kill', killed]]);
    await admin.request('POST', `/environments/production/flags/${FLAG}/revive`, { reason: 'browser e2e: after a reset' });
    await page.context().close();
  });

  it('a member change of a 200,000-member cohort reaches the page as a delta of its own key (protocol 2)', async () => {
    const big = 'big-cohort';
    const user = 'newcomer-0b7e';
    await admin.request('POST', '/cohorts', { key: big });
    for (let i = 0; i < 200_000; i += 100_000) {
      await admin.request('POST', `/cohorts/${big}/members`, { add: Array.from({ length: 100_000 }, (_, j) => `member-${i + j}@example.com`) });
    }
    await admin.request('POST', '/flags', { key: 'big-feature', clientVisible: true });
    await admin.request('PUT', '/environments/production/flags/big-feature', { enabled: true, rules: [{ id: 'big', cohorts: [big] }] });
    const { page, wire } = await open(user);
    await waitForStatus(page, 'streaming');
    const enabled = () => page.evaluate(() => (window as unknown as { flags: { isEnabled(k: string): boolean } }).flags.isEnabled('big-feature'));
    expect(await enabled()).toBe(false);
    const openedAt = Date.now();

    const sentAt = Date.now();
    const added = await admin.request<{ revisions: Record<string, number> }>('POST', `/cohorts/${big}/members`, { add: [user] });
    await page.waitForFunction(() => (window as unknown as { flags: { isEnabled(k: string): boolean } }).flags.isEnabled('big-feature'), undefined, { timeout: 10_000 });
    console.log(`real server: one member added to a 200,000-member cohort → page evaluates it ${Date.now() - sentAt} ms after the request`);
    await admin.request('POST', `/cohorts/${big}/members`, { remove: [user, 'member-5@example.com'] });
    await expect.poll(enabled, { timeout: 10_000 }).toBe(false);

    const deltas = wire.events.filter((e) => e.at >= openedAt);
    expect(deltas.map((e) => [e.event, JSON.parse(e.data).members])).toEqual([
      ['change', { [big]: { include: [user] } }],
      ['change', { [big]: { remove: [user] } }],
    ]);
    expect(Number(deltas[0]!.id)).toBe(added.revisions.production);
    for (const e of deltas) {
      expect(e.data.length).toBeLessThan(200);
      expect(new URL(e.url).searchParams.get('protocol')).toBe('2');
    }
    await page.context().close();
  });
});
