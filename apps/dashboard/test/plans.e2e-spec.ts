import type { Page } from 'playwright-core';
import type { ServerProcess } from '@aviary/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectAccessible, shot } from './browser-checks.js';
import { DashboardFixture } from './dashboard-fixture.js';

/**
 * The rollout plan screens in real headless Chromium against the built server on real Postgres: a
 * guarded canary created from its template on the flag page, paused and resumed from the plan
 * view, then rolled back by its guard on metrics reported as the SDKs report them, with the
 * reason shown live. axe-core on the create dialog and the plan view; screenshots to docs/images/.
 */

const ADMIN_TOKEN = 'ava_plans_test_admin_token_01234567';
const ADMIN = { email: 'ada@example.com', name: 'Ada Admin', password: 'a long admin passphrase' };
const VIEWER = { email: 'vic@example.com', name: 'Vic Viewer', password: 'a long viewer passphrase' };
const FLAG = 'checkout-v3';
const ENV = 'development';
describe('rollout plans in Chromium', () => {
  let f: DashboardFixture;
  let server: ServerProcess;
  let admin: Page;
  let base: string;
  let serverKey: string;
  let planUrl: string;
  const call = <T = Record<string, unknown>>(method: string, path: string, body?: unknown) => f.call<T>(method, path, body);
  const newPage = () => f.newPage({ height: 900 });
  DashboardFixture.reportFailures(() => f);

  /** What the SDKs send (docs/protocol.md): exposures and tracked events per arm, with a server key. */
  async function report(arms: { exposed: [errors: number, requests: number]; control: [errors: number, requests: number] }): Promise<void> {
    const row = (enabled: boolean, [errors, requests]: [number, number]) => [
      { event: 'error', flag: FLAG, enabled, variant: null, count: errors },
      { event: 'request', flag: FLAG, enabled, variant: null, count: requests },
    ];
    const res = await fetch(`${server.url}/sdk/v1/metrics`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${serverKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        start: Date.now() - 1000,
        end: Date.now(),
        exposures: [
          { flag: FLAG, enabled: true, variant: null, count: arms.exposed[1] },
          { flag: FLAG, enabled: false, variant: null, count: arms.control[1] },
        ],
        events: [...row(true, arms.exposed), ...row(false, arms.control)],
      }),
    });
    expect(res.status, await res.text()).toBe(202);
  }

  beforeAll(async () => {
    f = await DashboardFixture.start('plans', ADMIN_TOKEN, { AVIARY_SCHEDULER_INTERVAL_MS: '200' });
    ({ server, base } = f);
    await call('POST', '/flags', { key: FLAG, name: 'Checkout v3' });
    await call('PUT', `/environments/${ENV}/flags/${FLAG}`, { enabled: true, rules: [{ id: 'r1', rollout: { percentage: 0 } }] });
    serverKey = (await call<{ secret: string }>('POST', '/api-keys', { name: 'checkout service', kind: 'server', environment: ENV })).secret;
  });

  afterAll(() => f?.close());

  it('first run: the setup link signs the first admin in', async () => {
    admin = await newPage();
    await admin.goto(f.setupUrl());
    await f.createFirstAdmin(admin, ADMIN);
  });

  it('creates a guarded canary from its template on the flag page, edited before it is created', async () => {
    await admin.goto(`${base}/flags/${FLAG}?env=${ENV}`);
    await admin.getByRole('heading', { name: 'Rollout plans' }).waitFor();
    await admin.getByText(`No rollout plans for this flag in ${ENV} yet.`).waitFor();
    // The keyboard alone: Enter opens the dialog, Escape closes it, the template is a radio group.
    const dialog = admin.getByRole('dialog', { name: `New rollout plan for ${FLAG}` });
    await admin.getByRole('button', { name: 'New rollout plan' }).focus();
    await admin.keyboard.press('Enter');
    await dialog.waitFor();
    expect(await admin.evaluate(() => (document.activeElement as HTMLInputElement | null)?.type)).toBe('radio');
    await admin.keyboard.press('ArrowDown');
    expect(await dialog.getByRole('radio', { name: 'Blue-green' }).isChecked()).toBe(true);
    await admin.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await admin.getByRole('button', { name: 'New rollout plan' }).click();
    await dialog.waitFor();
    // Each template prefills steps, holds and the guard; the choice is explained in a sentence.
    await dialog.getByRole('radio', { name: 'Blue-green' }).check();
    expect(await dialog.getByLabel('Step 1 percentage').inputValue()).toBe('100');
    expect(await dialog.getByLabel('Step 2 percentage').count()).toBe(0);
    expect(await dialog.getByLabel('Guard: roll back when the exposed users do worse').isChecked()).toBe(false);
    await dialog.getByRole('radio', { name: 'Rolling' }).check();
    expect(await dialog.getByLabel('Wait for approval before each widening').isChecked()).toBe(true);
    await dialog.getByRole('radio', { name: 'Canary' }).check();
    await dialog.getByText('A few users first').waitFor();
    expect(await dialog.getByLabel('Step 5 percentage').inputValue()).toBe('100');
    expect(await dialog.getByLabel('Min samples').inputValue()).toBe('500');
    await expectAccessible(admin, 'create plan dialog');
    await shot(admin, 'plan-create');

    // A 400 is answered at its field: percentages must not decrease.
    await dialog.getByLabel('Step 2 percentage').fill('0.5');
    await dialog.getByRole('button', { name: 'Create plan' }).click();
    await dialog.getByText("must not be below the previous step's (1)").first().waitFor();
    expect(await dialog.getByLabel('Step 2 percentage').getAttribute('aria-invalid')).toBe('true');
    await dialog.getByLabel('Step 2 percentage').fill('5');

    await dialog.getByLabel('Min samples').fill('100');
    await dialog.getByLabel('Reason', { exact: true }).fill('ship checkout v3');
    await dialog.getByRole('button', { name: 'Create plan' }).click();
    await admin.getByRole('heading', { name: `Rollout plan for ${FLAG}` }).waitFor();
    await admin.waitForURL(new RegExp(`/rollouts/[0-9a-f-]{36}\\?env=${ENV}$`));
    planUrl = admin.url();
    await admin.getByText('Running', { exact: true }).waitFor();
    await admin.locator('.step-current').getByText('1 %').waitFor();
    await admin.getByText(/Next step \(5 %\) in \d+ min \d+ s/).waitFor();
  });

  it('pauses and resumes from the plan view; the countdown ticks', async () => {
    const countdown = admin.locator('.countdown');
    const before = await countdown.textContent();
    await admin.waitForFunction((text) => document.querySelector('.countdown')?.textContent !== text, before, { timeout: 5000 });
    // Valid in running: pause, cancel, roll back; not resume, approve or start.
    for (const name of ['Resume', 'Approve next step', 'Start']) expect(await admin.getByRole('button', { name }).count(), name).toBe(0);
    await admin.getByLabel('Reason for the action').fill('a look at the logs');
    await admin.getByRole('button', { name: 'Pause' }).click();
    await admin.getByText('Paused', { exact: true }).waitFor();
    await admin.getByText('Reason: a look at the logs').waitFor();
    expect(await admin.getByRole('button', { name: 'Pause' }).count()).toBe(0);
    expect(await admin.locator('.countdown').count()).toBe(0);
    await admin.getByRole('button', { name: 'Resume' }).click();
    await admin.getByText('Running', { exact: true }).waitFor();
    await admin.getByRole('button', { name: 'Pause' }).waitFor();
    const plan = await call<{ history: Array<{ type: string; actor: string; reason: string | null }> }>('GET', `/rollout-plans/${planUrl.split('/rollouts/')[1].split('?')[0]}`);
    expect(plan.history.map((h) => h.type)).toEqual(['created', 'started', 'step', 'paused', 'resumed']);
    expect(plan.history.find((h) => h.type === 'paused')).toMatchObject({ actor: ADMIN.name, reason: 'a look at the logs' });
  });

  it('a guarded plan rolls back and the plan view shows the reason live', async () => {
    // No reload from here on: a marker on the window survives only if the page stays.
    await admin.evaluate(() => ((window as unknown as { stayed: boolean }).stayed = true));
    // Healthy, and too few exposed requests to judge yet.
    await report({ exposed: [0, 50], control: [5, 500] });
    await admin.getByText('Not enough data yet').waitFor();
    // The next 10 s bucket, so that the chart has two points.
    const bucket = Math.floor(Date.now() / 10_000);
    while (Math.floor(Date.now() / 10_000) === bucket) await new Promise((r) => setTimeout(r, 200));
    const reported = Date.now();
    await report({ exposed: [200, 1000], control: [10, 1000] });
    await admin.getByText('Rolled back', { exact: true }).waitFor({ timeout: 15_000 });
    console.log(`rollback shown ${Date.now() - reported} ms after the report`);
    await admin.getByText(/^Why it was rolled back: guard error\/request: exposed 0\.1905 \(200\/1050\) vs control 0\.0100 \(15\/1500\)/).waitFor();
    await admin.getByRole('cell', { name: 'breach' }).waitFor();
    await admin.getByText('Verdict: Breach').waitFor();
    expect(await admin.evaluate(() => (window as unknown as { stayed?: boolean }).stayed)).toBe(true);
    // Nothing is left to do with a finished plan.
    for (const name of ['Pause', 'Resume', 'Cancel plan', 'Roll back']) expect(await admin.getByRole('button', { name }).count(), name).toBe(0);
    await admin.locator('.step-stopped').getByText('1 %').waitFor();
    const config = await call<{ enabled: boolean }>('GET', `/environments/${ENV}/flags/${FLAG}`);
    expect(config.enabled).toBe(false);
    await admin.getByRole('img', { name: /^Chart: error \/ request, accumulated since the plan started: exposed 0\.190, control 0\.010/ }).waitFor();
    await expectAccessible(admin, 'plan view');
    await shot(admin, 'plan');
  });

  it("the flag's plans and /rollouts link to the plan view", async () => {
    await admin.goto(`${base}/flags/${FLAG}?env=${ENV}`);
    const link = admin.getByRole('link', { name: '1 % → 5 % → 25 % → 50 % → 100 %' });
    await link.waitFor();
    await admin.getByRole('cell', { name: /^rolled-back/ }).waitFor();
    await admin.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Rollouts' }).click();
    await admin.getByRole('heading', { name: 'Rollout plans' }).waitFor();
    await admin.getByRole('link', { name: FLAG }).waitFor();
    await expectAccessible(admin, 'rollouts list');
    await admin.getByRole('link', { name: '1 % → 5 % → 25 % → 50 % → 100 %' }).click();
    await admin.getByRole('heading', { name: `Rollout plan for ${FLAG}` }).waitFor();
    await admin.waitForURL(planUrl);
  });

  it('a viewer sees the plan with no buttons, and no New rollout plan', async () => {
    await call('POST', `/environments/${ENV}/flags/${FLAG}/revive`, {});
    const pending = await call<{ id: string }>('POST', `/environments/${ENV}/flags/${FLAG}/rollout-plans`, { ruleId: 'r1', steps: [{ percentage: 10, holdSeconds: 600 }] });
    const invite = await call<{ inviteUrl: string }>('POST', '/people', { email: VIEWER.email, name: VIEWER.name, role: 'viewer' });
    const viewer = await newPage();
    await viewer.goto(invite.inviteUrl);
    await viewer.getByLabel('Password').fill(VIEWER.password);
    await viewer.getByRole('button', { name: 'Accept invitation' }).click();
    await viewer.getByRole('heading', { name: 'Flags' }).waitFor();
    await viewer.goto(`${base}/rollouts/${pending.id}?env=${ENV}`);
    await viewer.getByText('Pending: not started').waitFor();
    expect(await viewer.locator('main button').count()).toBe(0);
    expect(await viewer.getByLabel('Reason for the action').count()).toBe(0);
    // The admin starts it: the viewer's page follows without a reload.
    await admin.goto(`${base}/rollouts/${pending.id}?env=${ENV}`);
    await admin.getByRole('button', { name: 'Start' }).click();
    await viewer.getByText('Running', { exact: true }).waitFor();
    await viewer.goto(`${base}/flags/${FLAG}?env=${ENV}`);
    await viewer.getByRole('heading', { name: 'Rollout plans' }).waitFor();
    expect(await viewer.getByRole('button', { name: 'New rollout plan' }).count()).toBe(0);
  });
});
