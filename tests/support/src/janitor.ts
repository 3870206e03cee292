/**
 * Vitest global setup: tags the run, and when it ends removes what its tests left behind, even when
 * a test failed halfway through its setup: processes that carry the tag in their environment,
 * databases and temp folders named with it (see resources.ts). What it had to remove is printed,
 * so a test that leaks is noticed, not silently cleaned up after forever.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { POSTGRES_URL, templateDatabaseName } from './databases.js';
import { RUN_TAG_VARIABLE } from './resources.js';

export interface Leftovers {
  /** `pid command` of each process killed. */
  processes: string[];
  databases: string[];
  folders: string[];
}

export default function setup(): () => Promise<void> {
  const tag = process.env[RUN_TAG_VARIABLE] ?? randomBytes(4).toString('hex');
  process.env[RUN_TAG_VARIABLE] = tag;
  return async () => {
    // The run's template database is no leftover: every run makes one (see databases.ts).
    await dropTemplate(tag);
    const left = await sweep(tag);
    const found = [
      ...left.processes.map((process) => `process ${process}`),
      ...left.databases.map((name) => `database ${name}`),
      ...left.folders.map((path) => `folder ${path}`),
    ];
    if (found.length > 0) console.warn(`[janitor] tests of run ${tag} left behind, now removed: ${found.join(', ')}`);
  };
}

/** Removes everything tagged `tag`; returns what it removed. */
export async function sweep(tag: string): Promise<Leftovers> {
  const processes = killTagged(tag);
  const [databases, folders] = await Promise.all([dropTaggedDatabases(tag), removeTaggedFolders(tag)]);
  return { processes, databases, folders };
}

function killTagged(tag: string): string[] {
  const marker = `${RUN_TAG_VARIABLE}=${tag}\0`;
  const killed: string[] = [];
  // Processes are found through /proc (Linux); elsewhere only databases and folders are swept.
  if (!existsSync('/proc/self/environ')) return killed;
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      if (!readFileSync(`/proc/${pid}/environ`, 'latin1').includes(marker)) continue;
      // Vitest's own workers carry the tag too; they end with the run.
      const command = readFileSync(`/proc/${pid}/cmdline`, 'latin1').replaceAll('\0', ' ').trim();
      if (command.includes('vitest')) continue;
      process.kill(pid, 'SIGKILL');
      killed.push(`${pid} (${command.slice(0, 120)})`);
    } catch {
      // Gone already, or not ours to read.
    }
  }
  return killed;
}

async function dropTemplate(tag: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
  } catch {
    return; // No Postgres here: no template either.
  }
  try {
    await client.query(`DROP DATABASE IF EXISTS "${templateDatabaseName(tag)}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

async function dropTaggedDatabases(tag: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
  } catch {
    return []; // No Postgres here: no database can have been left in it.
  }
  try {
    const { rows } = await client.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE strpos(datname, $1) > 0`, [`_${tag}_`]);
    for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    return rows.map((row) => row.datname);
  } finally {
    await client.end();
  }
}

async function removeTaggedFolders(tag: string): Promise<string[]> {
  const base = tmpdir();
  const folders = readdirSync(base)
    .filter((name) => name.startsWith(`aviary-${tag}-`))
    .map((name) => join(base, name));
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
  return folders;
}
