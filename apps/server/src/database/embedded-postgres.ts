import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { DataDirInUseError } from './data-dir-in-use.error.js';

/** How `pg` reaches the embedded database. */
export interface EmbeddedConnection {
  host: string;
  port: number;
  username: string;
  database: string;
}

// Locks this process holds, so a second start in the same process is refused too.
const heldLocks = new Set<string>();

/** A real Postgres (PGlite) served on a socket inside the data folder, so TypeORM and `pg`
 *  connect to it unchanged. It has one backend: callers must use a pool of one connection. */
export class EmbeddedPostgres {
  private constructor(
    readonly dataDir: string,
    readonly connection: EmbeddedConnection,
    private readonly db: PGlite,
    private readonly server: PGLiteSocketServer,
    private readonly lockFile: string,
  ) {}

  /** Throws `DataDirInUseError` when another live server holds `dataDir`, without taking it: a
   *  check before anything else starts, so the refusal is all a second server prints. */
  static assertFree(dataDir: string): void {
    const lockFile = lockFileOf(dataDir);
    const owner = heldLocks.has(lockFile) ? process.pid : liveOwner(lockFile);
    if (owner !== undefined) throw new DataDirInUseError(resolve(dataDir), owner);
  }

  static async start(dataDir: string): Promise<EmbeddedPostgres> {
    const dir = resolve(dataDir);
    mkdirSync(dir, { recursive: true });
    const lockFile = lockFileOf(dir);
    acquireLock(lockFile);
    try {
      // Unix socket paths are limited to ~107 bytes; fall back to a loopback port beyond that.
      const socketPath = resolve(dir, '.s.PGSQL.5432');
      const useSocket = Buffer.byteLength(socketPath) <= 100;
      // We hold the lock, so a socket file left here is from a process that died (kill -9).
      if (existsSync(socketPath)) rmSync(socketPath, { force: true });
      const db = await PGlite.create(resolve(dir, 'pgdata'));
      const server = new PGLiteSocketServer(
        useSocket ? { db, path: socketPath, maxConnections: 1 } : { db, host: '127.0.0.1', port: 0, maxConnections: 1 },
      );
      await server.start();
      const connection: EmbeddedConnection = useSocket
        ? { host: dir, port: 5432, username: 'postgres', database: 'postgres' }
        : { host: '127.0.0.1', port: Number(server.getServerConn().split(':').pop()), username: 'postgres', database: 'postgres' };
      return new EmbeddedPostgres(dir, connection, db, server, lockFile);
    } catch (err) {
      releaseLock(lockFile);
      throw err;
    }
  }

  async stop(): Promise<void> {
    try {
      await this.server.stop();
      await this.db.close();
    } finally {
      releaseLock(this.lockFile);
    }
  }
}

const lockFileOf = (dataDir: string) => resolve(dataDir, 'aviary.lock');

function acquireLock(lockFile: string): void {
  if (heldLocks.has(lockFile)) throw new DataDirInUseError(resolve(lockFile, '..'), process.pid);
  try {
    const fd = openSync(lockFile, 'wx');
    writeFileSync(fd, String(process.pid));
    closeSync(fd);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const owner = liveOwner(lockFile);
    if (owner !== undefined) throw new DataDirInUseError(resolve(lockFile, '..'), owner);
    // The owner is gone: the lock is stale.
    writeFileSync(lockFile, String(process.pid));
  }
  heldLocks.add(lockFile);
}

/** The pid in a lock file when it is another process that is still running. */
function liveOwner(lockFile: string): number | undefined {
  let owner: number;
  try {
    owner = Number(readFileSync(lockFile, 'utf8').trim());
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner) ? owner : undefined;
}

function releaseLock(lockFile: string): void {
  heldLocks.delete(lockFile);
  rmSync(lockFile, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
