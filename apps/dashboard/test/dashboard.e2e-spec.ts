import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import type { ServerProcess } from '@aviary/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectAccessible, shot } from './browser-checks.js';
import { DashboardFixture } from './dashboard-fixture.js';

/**
 * The dashboard in real headless Chromium, served by the real built server on real Postgres:
 * first-run setup, sign-in, a flag created and dialled to 5 %, killed from the list with a reason
 * (seen live by a second browser), the reason in the audit log, a viewer without write controls,
 * two editors resolving a 412, a 400 at its field, the kill on a phone, and a lost connection.
 * axe-core runs on every screen (0 serious or critical violations); screenshots go to docs/images/.
 */

const ADMIN_TOKEN = 'ava_dashboard_test_admin_token_0123';
const ADMIN = { email: 'ada@example.com', name: 'Ada Admin', password: 'a long admin passphrase' };
const VIEWER = { email: 'vic@example.com', name: 'Vic Viewer', password: 'a long viewer passphrase' };
const FLAG = 'checkout-v2';
describe('the dashboard in Chromium', () => {
  let f: DashboardFixture;
  let server: ServerProcess;
  let admin: Page;
  let base: string;
  let viewerPage: Page | undefined;
  const call = <T = Record<string, unknown>>(method: string, path: string, body?: unknown) => f.call<T>(method, path, body);
  const newPage = (viewport?: { width?: number; height?: number }) => f.newPage(viewport);
  const signIn = (page: Page, who: { email: string; password: string }) => f.signIn(page, who);
  DashboardFixture.reportFailures(() => f);

  const row = (page: Page, key: string) => page.locator(`tr[data-flag="${key}"]`);

  beforeAll(async () => {
    f = await DashboardFixture.start('dashboard', ADMIN_TOKEN, {
      // The webhook test's receiver listens on 127.0.0.1.
      AVIARY_WEBHOOK_ALLOW_PRIVATE: 'true',
      AVIARY_WEBHOOK_POLL_MS: '200',
    });
    ({ server, base } = f);
  });

  afterAll(() => f?.close());

  it('serves the page at / and for client routes, never in place of the APIs', async () => {
    const html = { headers: { accept: 'text/html' } };
    const page = await fetch(`${base}/flags/anything`, html);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="root">');
    for (const path of ['/api/v1/nothing', '/sdk/v1/nothing', '/ofrep/v1/nothing', '/metrics/nothing', '/health/nothing']) {
      const res = await fetch(`${base}${path}`, html);
      expect(res.headers.get('content-type'), path).toContain('application/json');
    }
    expect((await fetch(`${base}/openapi.json`)).headers.get('content-type')).toContain('application/json');
  });

  it('first run: the one-time setup link creates the first admin and signs them in', async () => {
    const setupUrl = f.setupUrl();
    expect(setupUrl.startsWith(`${base}/setup?token=`)).toBe(true);
    admin = await newPage();
    await admin.goto(setupUrl);
    await admin.getByRole('heading', { name: 'Set up Aviary' }).waitFor();
    await expectAccessible(admin, 'setup');
    await shot(admin, 'setup');
    await admin.getByLabel('Email').fill(ADMIN.email);
    await admin.getByLabel('Name').fill(ADMIN.name);
    await admin.getByLabel('Password').fill(ADMIN.password);
    await admin.getByRole('button', { name: 'Create admin' }).click();
    await admin.getByRole('heading', { name: 'Flags' }).waitFor();
    await admin.getByText('0 flags').waitFor();
  });

  it('signs out and in again with Email, Password and "Sign in"; a wrong password is a sentence', async () => {
    await admin.getByRole('button', { name: 'Sign out' }).click();
    await admin.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(await admin.getByRole('link', { name: 'Sign in with SSO' }).count()).toBe(0);
    await admin.getByLabel('Email').fill(ADMIN.email);
    await admin.getByLabel('Password').fill('not the password at all');
    await admin.getByRole('button', { name: 'Sign in' }).click();
    await admin.getByRole('alert').filter({ hasText: 'Wrong email or password' }).waitFor();
    await expectAccessible(admin, 'sign-in');
    await shot(admin, 'sign-in');
    await signIn(admin, ADMIN);
  });

  it('marks production in the always-visible environment switcher', async () => {
    const switcher = admin.getByLabel('Environment');
    expect(await switcher.inputValue()).toBe('development');
    expect(await admin.locator('.badge-production').count()).toBe(0);
    await switcher.selectOption('production');
    await admin.locator('.badge-production', { hasText: 'Production' }).waitFor();
    expect(await admin.locator('.app.env-production').count()).toBe(1);
    await switcher.selectOption('development');
    await admin.locator('.app:not(.env-production)').waitFor();
  });

  it('creates a flag, dials it to 5 % and switches it on; a percentage over 100 is an error at its field', async () => {
    await admin.getByRole('button', { name: 'New flag' }).click();
    const dialog = admin.getByRole('dialog', { name: 'New flag' });
    await dialog.getByLabel('Key').fill(FLAG);
    await dialog.getByLabel('Name').fill('Checkout v2');
    await dialog.getByLabel('Tags').fill('checkout, payments');
    await expectAccessible(admin, 'new flag');
    await dialog.getByRole('button', { name: 'Create flag' }).click();
    await admin.getByRole('heading', { name: FLAG }).waitFor();
    const pct = admin.getByLabel('Rollout percentage');
    await pct.fill('150');
    await admin.getByRole('button', { name: 'Set rollout' }).click();
    await admin.locator('.field-error', { hasText: 'must not be greater than 100' }).waitFor();
    expect(await pct.getAttribute('aria-invalid')).toBe('true');
    await pct.fill('5');
    await admin.getByRole('button', { name: 'Set rollout' }).click();
    await admin.getByText('Rollout set to 5 %.').waitFor();
    await admin.getByRole('button', { name: 'Revive' }).click();
    const revive = admin.getByRole('dialog', { name: `Revive ${FLAG} in development` });
    await revive.getByLabel('Reason').fill('start the canary');
    await revive.getByRole('button', { name: 'Revive' }).click();
    await admin.locator('.state-on').first().waitFor();
    await expectAccessible(admin, 'flag detail');
    await shot(admin, 'flag');
  });

  it('kills from the list with a reason; a second browser sees it live, without a reload', async () => {
    await call('POST', '/flags', { key: 'search-v3', tags: ['search'] });
    await call('POST', '/environments/development/flags/search-v3/revive', {});
    await admin.getByRole('link', { name: 'Flags', exact: true }).click();
    await row(admin, FLAG).getByText('5 %').waitFor();
    const watcher = await newPage();
    await signIn(watcher, ADMIN);
    await row(watcher, FLAG).locator('.state-on').waitFor();
    await watcher.evaluate(() => ((window as unknown as { marker: string }).marker = 'same page'));

    // Search and the tag filter.
    await admin.getByLabel('Search flags').fill('search');
    await admin.getByText('1 of 2 flags').waitFor();
    await admin.getByLabel('Search flags').fill('');
    await admin.getByLabel('Tag', { exact: true }).selectOption('payments');
    await admin.getByText('1 of 2 flags').waitFor();
    expect(await row(admin, 'search-v3').count()).toBe(0);
    await admin.getByLabel('Tag', { exact: true }).selectOption('');
    await expectAccessible(admin, 'flag list');
    await shot(admin, 'flags');

    await row(admin, FLAG).getByRole('button', { name: 'Kill' }).click();
    const dialog = admin.getByRole('dialog', { name: `Kill ${FLAG} in development` });
    await dialog.getByLabel('Reason').fill('errors up after deploy 41');
    await expectAccessible(admin, 'kill dialog');
    await shot(admin, 'kill-dialog');
    const killedAt = Date.now();
    await dialog.getByRole('button', { name: 'Kill' }).click();
    await row(admin, FLAG).locator('.state-off').waitFor();
    await row(watcher, FLAG).locator('.state-off').waitFor();
    console.log(`the second browser showed the kill ${Date.now() - killedAt} ms after the click`);
    expect(await watcher.evaluate(() => (window as unknown as { marker?: string }).marker)).toBe('same page');
    await row(watcher, FLAG).getByText('errors up after deploy 41').waitFor();
    await row(admin, FLAG).getByRole('button', { name: 'Revive' }).waitFor();
  });

  it("shows an active rollout plan's step in the row, live", async () => {
    await call('PUT', '/environments/development/flags/search-v3/rollout', { percentage: 1 });
    await call('POST', '/environments/development/flags/search-v3/rollout-plans', {
      ruleId: 'rollout',
      steps: [{ percentage: 1, holdSeconds: 3600 }, { percentage: 25, holdSeconds: 3600 }, { percentage: 100, holdSeconds: 0 }],
      requireApproval: false,
      start: true,
    });
    await row(admin, 'search-v3').getByText(/^plan step 1 of 3, running/).waitFor();
  });

  it('shows the reason in the audit log, with the before and after', async () => {
    await admin.getByRole('link', { name: 'Audit log' }).click();
    await admin.getByRole('heading', { name: 'Audit log' }).waitFor();
    const entry = admin.locator('.audit-entry[data-action="flag-config.kill"]').first();
    await entry.getByText('Reason: errors up after deploy 41').waitFor();
    await entry.getByText(ADMIN.email).waitFor();
    await entry.getByText('Before and after').click();
    await entry.getByRole('heading', { name: 'Before' }).waitFor();
    await admin.getByLabel('Action').fill('flag-config.revive');
    await admin.locator('.audit-entry[data-action="flag-config.kill"]').first().waitFor({ state: 'detached' });
    await admin.locator('.audit-entry[data-action="flag-config.revive"]').first().waitFor();
    await admin.getByLabel('Action').fill('');
    await expectAccessible(admin, 'audit log');
    await shot(admin, 'audit');
  });

  it('an invited viewer accepts the invite and sees no write controls at all', async () => {
    const invite = await call<{ inviteUrl: string }>('POST', '/people', { email: VIEWER.email, name: VIEWER.name, role: 'viewer' });
    const viewer = await newPage();
    viewerPage = viewer;
    await viewer.goto(invite.inviteUrl);
    await viewer.getByRole('heading', { name: 'Join Aviary' }).waitFor();
    await expectAccessible(viewer, 'accept invite');
    await viewer.getByLabel('Password').fill(VIEWER.password);
    await viewer.getByRole('button', { name: 'Accept invitation' }).click();
    await viewer.getByRole('heading', { name: 'Flags' }).waitFor();
    await row(viewer, FLAG).waitFor();
    for (const name of ['Kill', 'Revive', 'New flag']) expect(await viewer.getByRole('button', { name }).count(), name).toBe(0);
    expect(await viewer.getByRole('link', { name: 'Webhooks' }).count()).toBe(0);
    await expectAccessible(viewer, 'flag list (viewer)');
    await row(viewer, FLAG).getByRole('link', { name: FLAG }).click();
    await viewer.getByRole('heading', { name: FLAG }).waitFor();
    await viewer.getByLabel('Rules (JSON)').waitFor();
    for (const name of ['Kill', 'Revive', 'Set rollout', 'Save rules']) expect(await viewer.getByRole('button', { name }).count(), name).toBe(0);
    expect(await viewer.getByLabel('Rules (JSON)').getAttribute('readonly')).not.toBeNull();
    await expectAccessible(viewer, 'flag detail (viewer)');
  });

  it('an admin creates an API key (its secret shown once), revokes it, and invites a person', async () => {
    await admin.getByRole('link', { name: 'Keys and people' }).click();
    await admin.getByRole('heading', { name: 'Keys and people' }).waitFor();
    await admin.getByLabel('Key name').fill('checkout-service');
    await admin.getByLabel('Kind').selectOption('server');
    await admin.getByLabel('Key environment').selectOption('production');
    await admin.getByRole('button', { name: 'Create key' }).click();
    const secret = admin.getByLabel('Secret (shown once)');
    await secret.waitFor();
    expect(await secret.inputValue()).toMatch(/^avs_/);
    const keyRow = admin.locator('tr[data-key="checkout-service"]');
    await keyRow.getByRole('button', { name: 'Revoke' }).click();
    const dialog = admin.getByRole('dialog', { name: 'Revoke checkout-service' });
    await dialog.getByLabel('Reason').fill('service retired');
    await dialog.getByRole('button', { name: 'Revoke' }).click();
    await keyRow.waitFor({ state: 'detached' });
    await admin.getByLabel('Email').fill('eddie@example.com');
    await admin.getByLabel('Name', { exact: true }).fill('Eddie Editor');
    await admin.getByLabel('Role', { exact: true }).selectOption('editor');
    await admin.getByLabel('Environments').fill('development');
    await admin.getByRole('button', { name: 'Invite' }).click();
    expect(await admin.getByLabel('Invite link').inputValue()).toContain(`${base}/invite?token=`);
    await admin.locator('tr[data-person="eddie@example.com"]').getByText('invited').waitFor();
    await expectAccessible(admin, 'keys and people');
    // The links webhook messages carry (/api-keys, /people) open this page at their section.
    for (const [path, section] of [['/api-keys', 'API keys'], ['/people', 'People']]) {
      await admin.goto(`${base}${path}?env=development`);
      await admin.getByRole('heading', { name: 'Keys and people' }).waitFor();
      await admin.getByRole('heading', { name: section, exact: true }).waitFor();
    }
    await shot(admin, 'admin');
    expect(await viewerCannotSeeAdmin()).toBe(0);
  });

  /** The viewer's page has no link to the admin screen. */
  async function viewerCannotSeeAdmin(): Promise<number> {
    return viewerPage!.getByRole('link', { name: 'Keys and people' }).count();
  }

  it('two editors save the same rules: the second gets a 412, sees the other change and re-applies', async () => {
    const url = `${base}/flags/${FLAG}?env=development`;
    const other = await newPage();
    await signIn(other, ADMIN);
    await admin.goto(url);
    await other.goto(url);
    const rulesOf = async (page: Page) => JSON.parse(await page.getByLabel('Rules (JSON)').inputValue()) as Array<Record<string, unknown>>;
    await admin.getByLabel('Rules (JSON)').waitFor();
    await other.getByLabel('Rules (JSON)').waitFor();
    const rules = await rulesOf(admin);
    const mine = [{ ...rules[0], conditions: [{ attribute: 'country', operator: 'in', values: ['NL'] }] }];
    const theirs = [{ ...rules[0], conditions: [{ attribute: 'plan', operator: 'in', values: ['beta'] }] }];
    await admin.getByLabel('Rules (JSON)').fill(JSON.stringify(mine, null, 2));
    await other.getByLabel('Rules (JSON)').fill(JSON.stringify(theirs, null, 2));
    await other.getByRole('button', { name: 'Save rules' }).click();
    await other.getByRole('button', { name: 'Save rules' }).and(other.locator(':disabled')).waitFor();
    await admin.getByRole('button', { name: 'Save rules' }).click();
    const conflict = admin.getByRole('alert').filter({ hasText: 'Someone else saved this flag' });
    await conflict.waitFor();
    await conflict.getByText('"beta"').waitFor();
    await expectAccessible(admin, '412 conflict');
    await shot(admin, 'conflict');
    await conflict.getByRole('button', { name: 'Re-apply my change' }).click();
    await admin.getByText(/^Rules saved \(version \d+\)\.$/).waitFor();
    expect(await conflict.count()).toBe(0);
    const stored = await call<{ rules: Array<{ conditions: Array<{ values: string[] }> }> }>('GET', `/environments/development/flags/${FLAG}`);
    expect(stored.rules[0].conditions[0].values).toEqual(['NL']);
    // A field error of the server is shown with the path it names.
    await admin.getByLabel('Rules (JSON)').fill(JSON.stringify([{ ...mine[0], rollout: { percentage: 'lots' } }]));
    await admin.getByRole('button', { name: 'Save rules' }).click();
    await admin.locator('#rules-errors').getByText('rules[0].rollout.percentage').waitFor();
  });

  it('kills on a phone (390 px wide) in two taps plus a reason', async () => {
    await call('POST', `/environments/development/flags/${FLAG}/revive`, {});
    const phone = await newPage({ width: 390, height: 844 });
    await signIn(phone, ADMIN);
    const kill = row(phone, FLAG).getByRole('button', { name: 'Kill' });
    await kill.waitFor();
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await expectAccessible(phone, 'flag list (phone)');
    await shot(phone, 'phone');
    await kill.click();
    const dialog = phone.getByRole('dialog', { name: `Kill ${FLAG} in development` });
    await dialog.getByLabel('Reason').fill('paged at night');
    await dialog.getByRole('button', { name: 'Kill' }).click();
    await row(phone, FLAG).locator('.state-off').waitFor();
    const audit = await call<{ items: Array<{ action: string; reason: string | null }> }>('GET', `/audit?resource=${FLAG}&action=flag-config.kill`);
    expect(audit.items[0].reason).toBe('paged at night');
  });

  it('kills with the keyboard alone: Tab to the row\'s Kill, Enter, type the reason, Enter; Escape cancels', async () => {
    await call('POST', `/environments/development/flags/${FLAG}/revive`, {});
    const page = await newPage();
    await signIn(page, ADMIN);
    await row(page, FLAG).locator('.state-on').waitFor();
    const focused = () =>
      page.evaluate(() => {
        const el = document.activeElement as HTMLElement | null;
        return { name: el?.getAttribute('aria-label') ?? el?.textContent?.trim() ?? '', flag: el?.closest('tr')?.getAttribute('data-flag') ?? null, label: (el as HTMLInputElement | null)?.labels?.[0]?.textContent?.trim() ?? null };
      });
    // From the top of the page, Tab alone reaches the row's Kill button (bounded: a focus trap fails here).
    let reached = false;
    for (let i = 0; i < 80 && !reached; i++) {
      await page.keyboard.press('Tab');
      const at = await focused();
      reached = at.flag === FLAG && at.name === 'Kill';
    }
    expect(reached, 'Tab reaches the Kill button of the row').toBe(true);
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: `Kill ${FLAG} in development` });
    await dialog.waitFor();
    // Escape closes the dialog and kills nothing.
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect(await row(page, FLAG).locator('.state-on').count()).toBe(1);
    await page.keyboard.press('Enter');
    await dialog.waitFor();
    expect((await focused()).label).toBe('Reason');
    await page.keyboard.type('rolled back from the keyboard');
    await page.keyboard.press('Enter');
    await row(page, FLAG).locator('.state-off').waitFor();
    const audit = await call<{ items: Array<{ action: string; reason: string | null }> }>('GET', `/audit?resource=${FLAG}&action=flag-config.kill`);
    expect(audit.items[0].reason).toBe('rolled back from the keyboard');
  });

  it("the playground shows every flag's result for a context, with its reason and rule", async () => {
    await admin.getByRole('link', { name: 'Playground' }).click();
    const context = admin.getByLabel('Context (JSON)');
    await context.fill('{"key": ');
    await admin.getByRole('button', { name: 'Evaluate in development' }).click();
    await admin.getByRole('alert').filter({ hasText: 'The context is not valid JSON' }).waitFor();
    await context.fill(JSON.stringify({ key: 'user-1', country: 'NL' }));
    await admin.getByRole('button', { name: 'Evaluate in development' }).click();
    const result = admin.locator(`tbody tr[data-flag="${FLAG}"]`);
    await result.getByText('DISABLED').waitFor();
    await admin.locator('tbody tr[data-flag="search-v3"]').getByText(/RULE_MATCH|NO_MATCH/).waitFor();
    await expectAccessible(admin, 'playground');
    await shot(admin, 'playground');
  });

  it('webhooks: an admin subscribes a receiver, sees the secret once, its deliveries, and redelivers one', async () => {
    const received: Array<{ id: string; type: string }> = [];
    const receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ id: String(req.headers['webhook-id']), type: JSON.parse(Buffer.concat(chunks).toString('utf8')).type });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
      await admin.goto(`${base}/?env=development`);
      await admin.getByRole('link', { name: 'Webhooks' }).click();
      await admin.getByRole('heading', { name: 'Webhooks' }).waitFor();
      await admin.getByLabel('URL').fill(url);
      await admin.getByLabel('Description').fill('on-call channel');
      await admin.getByRole('button', { name: 'Create webhook' }).click();
      const secret = await admin.getByTestId('webhook-secret').textContent();
      expect(secret).toMatch(/^whsec_/);
      await admin.getByRole('link', { name: url }).waitFor();
      await expectAccessible(admin, 'webhooks');
      await shot(admin, 'webhooks');

      await call('POST', '/flags', { key: 'hooked' });
      await call('POST', '/environments/development/flags/hooked/kill', { reason: 'webhook test' });
      await admin.getByRole('link', { name: url }).click();
      await admin.getByRole('heading', { name: url }).waitFor();
      const kill = admin.locator('tr[data-state="delivered"]').filter({ hasText: 'flag.killed' });
      await kill.waitFor();
      await admin.getByRole('button', { name: 'Send test event' }).click();
      await admin.locator('tr[data-state="delivered"]').filter({ hasText: 'webhook.test' }).waitFor();
      await expectAccessible(admin, 'webhook deliveries');
      await shot(admin, 'webhook-deliveries');
      const killed = received.find((r) => r.type === 'flag.killed')!;
      expect(killed).toBeDefined();
      await kill.getByRole('button', { name: /^Redeliver/ }).click();
      await expect.poll(() => received.filter((r) => r.id === killed.id).length, { timeout: 15_000 }).toBe(2);
    } finally {
      receiver.closeAllConnections();
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    }
  });

  it('a lost connection shows a banner, recovers by itself and catches up', async () => {
    await admin.goto(`${base}/?env=development`);
    await row(admin, FLAG).waitFor();
    await server.stop();
    const banner = admin.getByRole('alert').filter({ hasText: 'Connection to the server lost' });
    await banner.waitFor();
    await shot(admin, 'connection-lost');
    await server.start();
    await call('POST', `/environments/development/flags/${FLAG}/revive`, { reason: 'fixed' });
    await banner.waitFor({ state: 'detached' });
    await row(admin, FLAG).locator('.state-on').waitFor();
  });
});
