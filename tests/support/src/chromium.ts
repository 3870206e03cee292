/**
 * A Chromium for the browser tests that never needs a download: the one named by AVIARY_CHROMIUM,
 * else the system's (Debian's `chromium`), else the one that the registry package
 * `@sparticuz/chromium` ships inside itself (brotli-compressed, unpacked once into the temp folder).
 */
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type LaunchOptions } from 'playwright-core';

/** The flags this machine needs: no sandbox as root, and no background traffic to a closed network. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

const SYSTEM_CANDIDATES = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome-stable',
  '/usr/bin/google-chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
];

/** Set to `0` to ignore the system's Chromium (proves the packaged fallback). */
export const SYSTEM_CHROMIUM_SWITCH = 'AVIARY_TEST_SYSTEM_CHROMIUM';
export const CHROMIUM_PATH_VARIABLE = 'AVIARY_CHROMIUM';

export class ChromiumNotFoundError extends Error {
  constructor(detail: string) {
    super(
      `No Chromium for the browser tests (${detail}): run \`apt-get install -y chromium\`, or \`npm install\` (it brings @sparticuz/chromium), or set ${CHROMIUM_PATH_VARIABLE} to a Chromium binary`,
    );
    this.name = 'ChromiumNotFoundError';
  }
}

export type ChromiumSource = 'variable' | 'system' | 'package';

export interface FoundChromium {
  path: string;
  source: ChromiumSource;
}

let found: Promise<FoundChromium> | undefined;

/** Where the Chromium comes from (once per process for `process.env`). Throws a ChromiumNotFoundError with one line to act on. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): Promise<FoundChromium> {
  if (env !== process.env) return locate(env);
  found ??= locate(env);
  return found;
}

async function locate(env: NodeJS.ProcessEnv): Promise<FoundChromium> {
  const named = env[CHROMIUM_PATH_VARIABLE];
  if (named) {
    if (!isExecutable(named)) throw new ChromiumNotFoundError(`${CHROMIUM_PATH_VARIABLE}=${named} is not an executable file`);
    return { path: named, source: 'variable' };
  }
  if (env[SYSTEM_CHROMIUM_SWITCH] !== '0') {
    const system = SYSTEM_CANDIDATES.find(isExecutable);
    if (system) return { path: system, source: 'system' };
  }
  return { path: await unpackPackagedChromium(), source: 'package' };
}

function isExecutable(path: string): boolean {
  try {
    const stat = statSync(path);
    return stat.isFile() && (stat.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

/** @sparticuz/chromium unpacks to one fixed path; a lock keeps parallel test runs from unpacking over each other. */
async function unpackPackagedChromium(): Promise<string> {
  let packaged: { executablePath(): Promise<string> };
  try {
    packaged = (await import('@sparticuz/chromium')).default;
  } catch (error) {
    throw new ChromiumNotFoundError(`no system Chromium, and @sparticuz/chromium does not load: ${(error as Error).message.split('\n')[0]}`);
  }
  const lock = join(tmpdir(), 'aviary-chromium-unpack.lock');
  await acquire(lock);
  try {
    return await packaged.executablePath();
  } catch (error) {
    throw new ChromiumNotFoundError(`no system Chromium, and @sparticuz/chromium could not unpack: ${(error as Error).message.split('\n')[0]}`);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

async function acquire(lock: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      return;
    } catch {
      // A lock older than two minutes belongs to a run that died while unpacking.
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 120_000) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new ChromiumNotFoundError(`timed out waiting for ${lock}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

/** A headless Chromium with this machine's flags. */
export async function launchChromium(options: LaunchOptions = {}): Promise<Browser> {
  const { path } = await findChromium();
  return chromium.launch({ ...options, executablePath: path, args: [...CHROMIUM_ARGS, ...(options.args ?? [])] });
}
