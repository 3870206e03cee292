/**
 * Names for what tests create outside their own process (Postgres databases, temp folders), tagged
 * with the test run so the janitor can find and remove whatever a failed test left behind.
 * Child processes carry the tag in their environment (they inherit AVIARY_TEST_RUN).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const RUN_TAG_VARIABLE = 'AVIARY_TEST_RUN';

/** The current run's tag: set by the janitor's global setup; `adhoc` when a test runs without it. */
export function runTag(): string {
  return process.env[RUN_TAG_VARIABLE] ?? 'adhoc';
}

/** A database name unique to this call, e.g. `aviary_browser_1a2b3c4d_9f8e7d6c5b4a`. */
export function testDatabaseName(prefix: string): string {
  return `${prefix}_${runTag()}_${randomBytes(6).toString('hex')}`.toLowerCase();
}

/** A new empty folder in the OS temp folder, e.g. `/tmp/aviary-1a2b3c4d-pg-XXXXXX`. */
export function testTempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `aviary-${runTag()}-${prefix}-`));
}

/** The tag as an environment entry, for child processes started with an environment of their own. */
export function runTagEnv(): Record<string, string> {
  return { [RUN_TAG_VARIABLE]: runTag() };
}
