import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, ChromiumNotFoundError, findChromium } from '../src/chromium.js';

describe('findChromium', () => {
  it('with the system Chromium hidden, finds the one packaged in @sparticuz/chromium and it renders a page', async () => {
    const found = await findChromium({ AVIARY_TEST_SYSTEM_CHROMIUM: '0' });
    expect(found.source).toBe('package');
    const browser = await chromium.launch({ executablePath: found.path, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage();
      await page.setContent('<button onclick="document.title = String(6 * 7)">Answer</button>');
      await page.getByRole('button', { name: 'Answer' }).click();
      expect(await page.title()).toBe('42');
    } finally {
      await browser.close();
    }
  });
});

describe('a Chromium that cannot be had', () => {
  it('fails with one line that names the command to run', async () => {
    const failure = await findChromium({ AVIARY_CHROMIUM: '/nonexistent/chromium' }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ChromiumNotFoundError);
    const message = (failure as Error).message;
    expect(message).not.toContain('\n');
    expect(message).toContain('apt-get install -y chromium');
    expect(message).toContain('AVIARY_CHROMIUM=/nonexistent/chromium is not an executable file');
  });
});
