/**
 * Vitest global setup for suites that drive Chromium: finds it before any test starts, so a
 * machine without one fails in the first seconds with one line that says what to run, and the
 * workers share the one path (no parallel unpacking).
 */
import { CHROMIUM_PATH_VARIABLE, findChromium } from './chromium.js';

export default async function setup(): Promise<void> {
  const { path, source } = await findChromium();
  process.env[CHROMIUM_PATH_VARIABLE] = path;
  if (source === 'package') console.info(`[browser tests] using the Chromium packaged in @sparticuz/chromium (${path})`);
}
