import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ServerProcess, adminRequest, createTestDatabase, freePort, launchChromium, type TestDatabase } from '@aviary/test-support';
import { beforeEach, expect, onTestFailed } from 'vitest';

export interface Person {
  email: string;
  name: string;
  password: string;
}

/**
 * What every Chromium suite of the dashboard runs against: the real built server on a fresh
 * database and a free port, with the admin token for API calls, and one Chromium whose pages
 * collect their errors (printed, with the server's last lines, when a test fails).
 */
export class DashboardFixture {
  private readonly contexts: BrowserContext[] = [];
  private readonly pageErrors: string[] = [];

  private constructor(
    private readonly db: TestDatabase,
    readonly server: ServerProcess,
    private readonly browser: Browser,
    readonly base: string,
    private readonly token: string,
  ) {}

  /** Starts the server (`env` on top of the database, token and public URL) and Chromium. */
  static async start(name: string, token: string, env: Record<string, string> = {}): Promise<DashboardFixture> {
    const db = await createTestDatabase(name);
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const server = await ServerProcess.start({
      name,
      port,
      env: { DATABASE_URL: db.url, AVIARY_ADMIN_TOKEN: token, AVIARY_PUBLIC_URL: base, AVIARY_STREAM_HEARTBEAT_MS: '1000', ...env },
    });
    return new DashboardFixture(db, server, await launchChromium(), base, token);
  }

  /** Call once in the suite's `describe`: a failed test prints the pages' errors and the server's last lines. */
  static reportFailures(fixture: () => DashboardFixture | undefined): void {
    beforeEach(() => onTestFailed(() => fixture()?.report()));
  }

  call<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> {
    return adminRequest<T>(this.server.url, this.token, method, path, body);
  }

  async newPage(viewport: { width?: number; height?: number } = {}): Promise<Page> {
    const context = await this.browser.newContext({ viewport: { width: viewport.width ?? 1280, height: viewport.height ?? 800 } });
    this.contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (error) => this.pageErrors.push(error.message));
    return page;
  }

  /** The one-time setup link the server printed at its first start. */
  setupUrl(): string {
    const line = this.server.output.find((l) => l.includes('/setup?token='));
    expect(line, this.server.output.join('\n')).toBeDefined();
    return line!.trim();
  }

  /** Fills the setup page `page` is on and lands on the flag list, signed in. */
  async createFirstAdmin(page: Page, who: Person): Promise<void> {
    await page.getByLabel('Email').fill(who.email);
    await page.getByLabel('Name').fill(who.name);
    await page.getByLabel('Password').fill(who.password);
    await page.getByRole('button', { name: 'Create admin' }).click();
    await page.getByRole('heading', { name: 'Flags' }).waitFor();
  }

  async signIn(page: Page, who: { email: string; password: string }): Promise<void> {
    await page.goto(`${this.base}/`);
    await page.getByLabel('Email').fill(who.email);
    await page.getByLabel('Password').fill(who.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Flags' }).waitFor();
  }

  async close(): Promise<void> {
    for (const context of this.contexts) await context.close().catch(() => undefined);
    await this.browser.close();
    await this.server.stop();
    await this.db.drop();
  }

  private report(): void {
    console.error(`page errors: ${this.pageErrors.join('\n') || 'none'}\nserver:\n${this.server.output.slice(-30).join('\n')}`);
  }
}
