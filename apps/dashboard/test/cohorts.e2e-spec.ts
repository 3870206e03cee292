import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectAccessible, shot } from './browser-checks.js';
import { DashboardFixture } from './dashboard-fixture.js';

/**
 * The cohorts screens and the flag editor in real headless Chromium against the real built server:
 * a 250,000-key upload in three batches, finding a member and a non-member, a rule made with the
 * condition builder (an `in` condition and a cohort) evaluated by the server, and a definition edit
 * with a field error for bad variant JSON. axe-core runs on each new screen.
 */

const ADMIN_TOKEN = 'ava_cohorts_test_admin_token_012345';
const ADMIN = { email: 'ada@example.com', name: 'Ada Admin', password: 'a long admin passphrase' };
const VIEWER = { email: 'vic@example.com', name: 'Vic Viewer', password: 'a long viewer passphrase' };
const COHORT = 'beta-testers';
const FLAG = 'new-checkout';
const KEYS = 250_000;
describe('cohorts and the flag editor in Chromium', () => {
  let f: DashboardFixture;
  let admin: Page;
  let base: string;
  const call = <T = Record<string, unknown>>(method: string, path: string, body?: unknown) => f.call<T>(method, path, body);
  const newPage = () => f.newPage({ height: 900 });
  DashboardFixture.reportFailures(() => f);

  beforeAll(async () => {
    f = await DashboardFixture.start('dashboard-cohorts', ADMIN_TOKEN);
    ({ base } = f);
    admin = await newPage();
    await admin.goto(f.setupUrl());
    await f.createFirstAdmin(admin, ADMIN);
  });

  afterAll(() => f?.close());

  it('lists and creates cohorts from the "Cohorts" link', async () => {
    await admin.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Cohorts' }).click();
    await admin.getByRole('heading', { name: 'Cohorts', level: 1 }).waitFor();
    await admin.getByText('No cohorts yet.').waitFor();
    await expectAccessible(admin, 'cohort list (empty)');
    await admin.getByLabel('Cohort key').fill('Not A Key!');
    await admin.getByRole('button', { name: 'Create cohort' }).click();
    await admin.locator('.field-error').first().waitFor();
    await admin.getByLabel('Cohort key').fill(COHORT);
    await admin.getByLabel('Cohort name').fill('Beta testers');
    await admin.getByRole('button', { name: 'Create cohort' }).click();
    await admin.getByRole('heading', { name: `Cohort ${COHORT}` }).waitFor();
    await admin.getByTestId('cohort-counts').getByText('0 listed members').waitFor();
    await expectAccessible(admin, 'cohort (empty)');
  });

  it('uploads 250,000 keys from a file: the progress bar passes through its three batches', async () => {
    const keys = Array.from({ length: KEYS }, (_, i) => `user-${i}`);
    await admin.getByLabel('File of keys (.txt or .csv)').setInputFiles({ name: 'keys.txt', mimeType: 'text/plain', buffer: Buffer.from(`${keys.join('\n')}\n`) });
    // Every aria-valuenow the bar shows, recorded as it changes.
    await admin.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { seen: string[] }).seen = seen;
      new MutationObserver(() => {
        const bar = document.querySelector('[role="progressbar"]');
        const now = bar?.getAttribute('aria-valuenow');
        if (now !== null && now !== undefined && seen[seen.length - 1] !== now) seen.push(now);
      }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['aria-valuenow'] });
    });
    await admin.getByRole('button', { name: 'Upload keys' }).click();
    await admin.getByText(/^Done: 250,000 keys sent, 250,000 added\./).waitFor({ timeout: 90_000 });
    const seen = await admin.evaluate(() => (window as unknown as { seen: string[] }).seen);
    expect(seen).toEqual(['0', '100000', '200000', '250000']);
    const bar = admin.getByRole('progressbar', { name: 'Upload progress' });
    expect(await bar.getAttribute('aria-valuemax')).toBe(String(KEYS));
    expect(await bar.getAttribute('aria-valuetext')).toBe('250,000 of 250,000 keys (batch 3 of 3)');
    const stored = await call<{ counts: { included: number; excluded: number } }>('GET', `/cohorts/${COHORT}`);
    expect(stored.counts).toEqual({ included: KEYS, excluded: 0 });
    await admin.getByTestId('cohort-counts').getByText('250,000 listed members').waitFor();
  });

  it('finds a member and a non-member, and removes one', async () => {
    const find = async (key: string) => {
      await admin.getByLabel('Member key').fill(key);
      await admin.getByRole('button', { name: 'Find', exact: true }).click();
      const answer = admin.getByTestId('member-answer');
      await answer.filter({ hasText: key }).waitFor();
      return (await answer.innerText()).split('\n')[0];
    };
    expect(await find('user-249999')).toBe('user-249999 is a member (in the listed members).');
    expect(await find('user-250000')).toBe('user-250000 is not a member of the list (the conditions may still include it).');
    expect(await find('user-7')).toBe('user-7 is a member (in the listed members).');
    await admin.getByRole('button', { name: 'Remove user-7 from the cohort' }).click();
    await admin.getByTestId('member-answer').getByText('user-7 is not a member of the list').waitFor();
    expect((await call<{ list: string | null }>('GET', `/cohorts/${COHORT}/members/user-7`)).list).toBeNull();
    await admin.getByTestId('cohort-counts').getByText('249,999 listed members').waitFor();
  });

  it('a refused batch ends the upload with a sentence, and nothing of it is applied', async () => {
    await admin.getByLabel('File of keys (.txt or .csv)').setInputFiles({ name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from(`key,name\n"user-a",A\n${'x'.repeat(300)},B\n`) });
    await admin.getByRole('button', { name: 'Upload keys' }).click();
    const error = admin.getByRole('alert').filter({ hasText: /^Batch 1 of 1 failed: / });
    await error.waitFor();
    expect(await error.innerText()).toMatch(/^Batch 1 of 1 failed: .*256 characters.* Nothing was applied\.$/);
    expect((await call<{ counts: { included: number } }>('GET', `/cohorts/${COHORT}`)).counts.included).toBe(KEYS - 1);
  });

  it('the condition builder works with the keyboard alone', async () => {
    await admin.getByRole('button', { name: 'Add condition' }).focus();
    await admin.keyboard.press('Enter');
    const row = admin.getByRole('group', { name: 'Cohort, condition 1' });
    await expect.poll(() => row.getByLabel('Attribute').evaluate((el) => el === document.activeElement)).toBe(true);
    await admin.keyboard.type('country');
    await admin.keyboard.press('Tab');
    expect(await row.getByLabel('Operator').evaluate((el) => el === document.activeElement)).toBe(true);
    await admin.keyboard.press('Tab');
    await admin.keyboard.type('NL');
    await admin.keyboard.press('Tab');
    await admin.keyboard.press('Tab');
    await admin.keyboard.press('Space');
    expect(await row.getByLabel('Ignore case').isChecked()).toBe(true);
    expect(await admin.getByRole('button', { name: 'Save conditions' }).isEnabled()).toBe(true);
    await row.getByRole('button', { name: 'Remove cohort, condition 1' }).focus();
    await admin.keyboard.press('Enter');
    expect(await admin.getByRole('group', { name: 'Cohort, condition 1' }).count()).toBe(0);
    expect(await admin.getByRole('button', { name: 'Save conditions' }).isDisabled()).toBe(true);
  });

  it("edits the cohort's conditions with the condition builder", async () => {
    await admin.getByRole('button', { name: 'Add condition' }).click();
    const row = admin.getByRole('group', { name: 'Cohort, condition 1' });
    await row.getByLabel('Attribute').fill('appVersion');
    await row.getByLabel('Operator').selectOption('semverGte');
    await row.getByLabel('Version (SemVer)').fill('v2');
    await row.getByText(/strict SemVer version/).waitFor();
    await row.getByLabel('Version (SemVer)').fill('2.3.0');
    await admin.getByRole('button', { name: 'Save conditions' }).click();
    await admin.getByText('Conditions saved.').waitFor();
    const stored = await call<{ conditions: unknown[] }>('GET', `/cohorts/${COHORT}`);
    expect(stored.conditions).toEqual([{ attribute: 'appVersion', operator: 'semverGte', values: ['2.3.0'] }]);
    await expectAccessible(admin, 'cohort');
    await shot(admin, 'cohort');
  });

  it('a viewer sees the cohort and can look a member up, with no write controls', async () => {
    const invite = await call<{ inviteUrl: string }>('POST', '/people', { email: VIEWER.email, name: VIEWER.name, role: 'viewer' });
    const viewer = await newPage();
    await viewer.goto(invite.inviteUrl);
    await viewer.getByLabel('Password').fill(VIEWER.password);
    await viewer.getByRole('button', { name: 'Accept invitation' }).click();
    await viewer.getByRole('heading', { name: 'Flags' }).waitFor();
    await viewer.getByRole('link', { name: 'Cohorts' }).click();
    await viewer.locator(`tr[data-cohort="${COHORT}"]`).getByRole('link', { name: COHORT }).click();
    await viewer.getByRole('heading', { name: `Cohort ${COHORT}` }).waitFor();
    for (const name of ['Upload keys', 'Save conditions', 'Add condition', 'Create cohort']) expect(await viewer.getByRole('button', { name }).count(), name).toBe(0);
    expect(await viewer.getByLabel('File of keys (.txt or .csv)').count()).toBe(0);
    await viewer.getByLabel('Member key').fill('user-1');
    await viewer.getByRole('button', { name: 'Find', exact: true }).click();
    await viewer.getByTestId('member-answer').getByText('user-1 is a member').waitFor();
    expect(await viewer.getByRole('button', { name: /Remove user-1/ }).count()).toBe(0);
    await expectAccessible(viewer, 'cohort (viewer)');
  });

  it('builds a rule with the condition builder (an `in` condition and a cohort) that the server then evaluates', async () => {
    await call('POST', '/flags', { key: FLAG, name: 'New checkout', variants: [{ key: 'blue', value: { color: '#00f' }, weight: 1 }, { key: 'green', weight: 1 }] });
    await call('POST', `/environments/development/flags/${FLAG}/revive`, {});
    await admin.goto(`${base}/flags/${FLAG}?env=development`);
    await admin.getByRole('heading', { name: FLAG }).waitFor();
    await admin.getByRole('button', { name: 'Add rule' }).click();
    const rule = admin.locator('fieldset[data-rule="rule-1"]');
    await rule.getByRole('button', { name: 'Add condition', exact: true }).click();
    const country = rule.getByRole('group', { name: 'Rule 1, condition 1' });
    await country.getByLabel('Attribute').fill('country');
    expect(await country.getByLabel('Operator').inputValue()).toBe('in');
    await country.getByLabel('Values (one per line)').fill('NL\nDE');
    await rule.getByRole('button', { name: 'Add cohort condition' }).click();
    const cohort = rule.getByRole('group', { name: 'Rule 1, condition 2' });
    await cohort.getByLabel('Cohort').selectOption(COHORT);
    await rule.getByLabel('Share of the matching audience (%)').fill('100');
    await rule.getByLabel('Serves').selectOption('split');
    await rule.getByLabel('Weight of green').fill('3');
    const rulesJson = async () => JSON.parse(await admin.getByLabel('Rules (JSON)').inputValue()) as Array<Record<string, unknown>>;
    expect((await rulesJson())[0].split).toEqual([{ variant: 'blue', weight: 1 }, { variant: 'green', weight: 3 }]);
    await rule.getByLabel('Serves').selectOption('variant');
    await rule.getByLabel('Variant', { exact: true }).selectOption('green');
    expect((await rulesJson())[0].split).toBeUndefined();
    // Each operator asks for its own kind of value.
    const probe = rule.getByRole('group', { name: 'Rule 1, condition 1' });
    await probe.getByLabel('Operator').selectOption('numGte');
    await probe.getByLabel('Number').fill('many');
    await probe.getByText('Enter a number').waitFor();
    await probe.getByLabel('Operator').selectOption('before');
    await probe.getByLabel('Date (ISO-8601, UTC)').waitFor();
    await probe.getByLabel('Operator').selectOption('inCidr');
    await probe.getByLabel('CIDR blocks (one per line)').waitFor();
    await probe.getByLabel('Operator').selectOption('exists');
    expect(await probe.getByRole('textbox').count()).toBe(1);
    await probe.getByLabel('Operator').selectOption('in');
    await probe.getByLabel('Values (one per line)').fill('NL\nDE');
    const json = JSON.parse(await admin.getByLabel('Rules (JSON)').inputValue()) as unknown;
    const expected = [
      {
        id: 'rule-1',
        conditions: [{ attribute: 'country', operator: 'in', values: ['NL', 'DE'] }],
        rollout: { percentage: 100 },
        cohorts: [COHORT],
        variant: 'green',
      },
    ];
    expect(json).toEqual(expected);
    await expectAccessible(admin, 'flag editor (rules)');
    await admin.getByRole('button', { name: 'Save rules' }).click();
    await admin.getByText(/^Rules saved \(version \d+\)\.$/).waitFor();
    expect((await call<{ rules: unknown }>('GET', `/environments/development/flags/${FLAG}`)).rules).toEqual(expected);
    const evaluate = (context: Record<string, string>) => call<{ enabled: boolean; reason: string; variant?: string }>('POST', '/environments/development/evaluate', { flag: FLAG, context });
    expect(await evaluate({ key: 'user-1', country: 'NL' })).toMatchObject({ enabled: true, reason: 'RULE_MATCH', ruleId: 'rule-1', variant: 'green' });
    expect(await evaluate({ key: 'user-1', country: 'FR' })).toMatchObject({ enabled: false, reason: 'NO_MATCH' });
    // user-7 was removed from the list; the cohort's condition (appVersion >= 2.3.0) still lets it in.
    expect(await evaluate({ key: 'user-7', country: 'DE' })).toMatchObject({ enabled: false, reason: 'NO_MATCH' });
    expect(await evaluate({ key: 'user-7', country: 'DE', appVersion: '2.4.0' })).toMatchObject({ enabled: true, reason: 'RULE_MATCH' });
    expect(await evaluate({ key: 'user-250000', country: 'NL' })).toMatchObject({ enabled: false, reason: 'NO_MATCH' });
  });

  it('a 400 of the rules appears at the builder field it names', async () => {
    const rule = admin.locator('fieldset[data-rule="rule-1"]');
    const first = rule.getByRole('group', { name: 'Rule 1, condition 1' });
    await first.getByLabel('Operator').selectOption('matches');
    await first.getByLabel('Regular expression (RE2)').fill('(?<=a)b');
    await admin.getByRole('button', { name: 'Save rules' }).click();
    await first.locator('.field-error').waitFor();
    await admin.locator('#rules-errors').getByText('rules[0].conditions[0].values').waitFor();
    await expectAccessible(admin, 'flag editor (400)');
    await first.getByLabel('Operator').selectOption('in');
    await first.getByLabel('Values (one per line)').fill('NL\nDE');
    expect(await admin.getByRole('button', { name: 'Save rules' }).isDisabled()).toBe(true);
  });

  it('edits the definition: invalid variant JSON is an error at its field, valid JSON is saved, a 412 is re-applied', async () => {
    await admin.getByLabel('Flag name').fill('New checkout flow');
    await admin.getByLabel('Flag tags').fill('checkout, canary');
    const green = admin.getByRole('group', { name: 'Variant 2' });
    await green.getByLabel('Value (JSON)').fill('{"color": #0f0}');
    await admin.getByRole('button', { name: 'Save definition' }).click();
    await green.getByText(/^The value is not valid JSON/).waitFor();
    expect(await green.getByLabel('Value (JSON)').getAttribute('aria-invalid')).toBe('true');
    expect((await call<{ name: string }>('GET', `/flags/${FLAG}`)).name).toBe('New checkout');
    await green.getByLabel('Value (JSON)').fill('{"color": "#0f0"}');
    await admin.getByRole('button', { name: 'Save definition' }).click();
    await admin.getByText('Definition saved.').waitFor();
    const saved = await call<{ name: string; tags: string[]; variants: Array<{ key: string; value?: unknown }> }>('GET', `/flags/${FLAG}`);
    expect(saved).toMatchObject({ name: 'New checkout flow', tags: ['checkout', 'canary'] });
    expect(saved.variants[1]).toEqual({ key: 'green', value: { color: '#0f0' }, weight: 1 });
    // Someone else changes the description while this page edits the name: 412, then re-apply.
    await admin.getByLabel('Flag name').fill('Checkout, new');
    await call('PATCH', `/flags/${FLAG}`, { description: 'changed by someone else' });
    await admin.getByRole('button', { name: 'Save definition' }).click();
    const conflict = admin.getByRole('alert').filter({ hasText: "Someone else changed this flag's definition" });
    await conflict.getByText('changed by someone else').waitFor();
    await expectAccessible(admin, 'flag editor (definition 412)');
    await conflict.getByRole('button', { name: 'Re-apply my change' }).click();
    await admin.getByText('Definition saved.').waitFor();
    // Only the name was mine: the other person's description stays.
    expect(await call('GET', `/flags/${FLAG}`)).toMatchObject({ name: 'Checkout, new', description: 'changed by someone else' });
  });

  it('sets a prerequisite and the salt in one environment', async () => {
    await call('POST', '/flags', { key: 'payments-v2' });
    await admin.reload();
    await admin.getByRole('heading', { name: FLAG }).waitFor();
    await admin.getByRole('button', { name: 'Add prerequisite' }).click();
    const pre = admin.getByRole('group', { name: 'Prerequisite 1' });
    await pre.getByLabel('Prerequisite flag').fill('payments-v2');
    await admin.getByLabel('Salt', { exact: true }).fill('checkout-2026');
    await admin.getByRole('button', { name: 'Save salt and prerequisites' }).click();
    await admin.getByText(/^Salt and prerequisites saved/).waitFor();
    const config = await call<{ salt: string; prerequisites: unknown }>('GET', `/environments/development/flags/${FLAG}`);
    expect(config).toMatchObject({ salt: 'checkout-2026', prerequisites: [{ flag: 'payments-v2', enabled: true }] });
    // payments-v2 is off, so the rule that matched before now fails its prerequisite.
    expect(await call('POST', '/environments/development/evaluate', { flag: FLAG, context: { key: 'user-1', country: 'NL' } })).toMatchObject({ reason: 'PREREQUISITE_FAILED' });
    await expectAccessible(admin, 'flag editor');
    await shot(admin, 'flag-editor');
  });

  it('renames a cohort; deleting one that a rule uses is refused with a sentence, an unused one goes', async () => {
    await admin.goto(`${base}/cohorts/${COHORT}?env=development`);
    await admin.getByRole('heading', { name: `Cohort ${COHORT}` }).waitFor();
    await admin.getByLabel('Cohort description').fill('people who asked for early features');
    await admin.getByRole('button', { name: 'Save name and description' }).click();
    await admin.getByText('Name and description saved.').waitFor();
    expect(await call('GET', `/cohorts/${COHORT}`)).toMatchObject({ description: 'people who asked for early features' });
    await admin.getByRole('button', { name: 'Delete cohort' }).click();
    const dialog = admin.getByRole('dialog', { name: `Delete cohort ${COHORT}` });
    await dialog.getByLabel('Reason').fill('cleanup');
    await expectAccessible(admin, 'delete cohort');
    await dialog.getByRole('button', { name: 'Delete', exact: true }).click();
    await dialog.getByRole('alert').getByText(`is used by ${FLAG} (development)`, { exact: false }).waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await call('POST', '/cohorts', { key: 'short-lived' });
    await admin.goto(`${base}/cohorts/short-lived?env=development`);
    await admin.getByRole('button', { name: 'Delete cohort' }).click();
    await admin.getByRole('dialog', { name: 'Delete cohort short-lived' }).getByRole('button', { name: 'Delete', exact: true }).click();
    await admin.getByRole('heading', { name: 'Cohorts', level: 1 }).waitFor();
    await admin.locator(`tr[data-cohort="${COHORT}"]`).waitFor();
    expect(await admin.locator('tr[data-cohort="short-lived"]').count()).toBe(0);
  });
});
