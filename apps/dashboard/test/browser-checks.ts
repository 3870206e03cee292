import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';

/** What every Chromium test of the dashboard checks on its screens: axe-core, and the screenshots docs/ shows. */

const IMAGES = fileURLToPath(new URL('../../../docs/images/', import.meta.url));
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[] }>;
}

/** axe-core inside the page (evaluated through the DevTools protocol, which the page's CSP does not govern). */
export async function expectAccessible(page: Page, screen: string): Promise<void> {
  const violations = await page.evaluate(async (source) => {
    const w = window as unknown as { axe?: { run: (ctx: Document, opts: object) => Promise<{ violations: AxeViolation[] }> } };
    if (!w.axe) new Function(source)();
    const result = await w.axe!.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) }));
  }, AXE);
  const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(serious, `${screen}: ${JSON.stringify(serious, null, 2)}`).toEqual([]);
}

/** Writes docs/images/dashboard-<name>.png. */
export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(IMAGES, { recursive: true });
  await page.screenshot({ path: `${IMAGES}dashboard-${name}.png`, fullPage: true });
}
