import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../src/common/actor.js';
import { ChangeLogService } from '../src/changes/change-log.service.js';
import { sql } from '../src/database/sql.js';
import { createTestDatabase, startApp, type TestApp, withClient } from './helpers.js';

/** `WriteTransaction.afterCommit` through the real ChangeLogService and Postgres: the work runs
 *  once the write is visible to other connections, never for a write that rolled back. */

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let t: TestApp;
let changes: ChangeLogService;
const actor: Actor = { keyId: null, name: 'after-commit-test' };

/** The production environment's description, read on a connection of its own. */
const description = () =>
  withClient(db.url, async (c) => (await c.query<{ description: string }>("SELECT description FROM environments WHERE key = 'production'")).rows[0]!.description);

beforeAll(async () => {
  db = await createTestDatabase();
  t = await startApp({ DATABASE_URL: db.url });
  changes = t.app.get(ChangeLogService);
});

afterAll(async () => {
  await t?.close();
  await db?.drop();
});

describe('WriteTransaction.afterCommit', () => {
  it('runs the work in order once the write has committed', async () => {
    const ran: string[] = [];
    let seen: Promise<string> | undefined;
    const result = await changes.write(actor, async (tx) => {
      await sql(tx.manager, "UPDATE environments SET description = 'committed' WHERE key = 'production'");
      tx.afterCommit(() => {
        ran.push('first');
        seen = description();
      });
      tx.afterCommit(() => ran.push('second'));
      expect(ran).toEqual([]);
      return 42;
    });
    expect(result).toBe(42);
    expect(ran).toEqual(['first', 'second']);
    expect(await seen).toBe('committed');
  });

  it('never runs the work of a write that rolls back', async () => {
    const ran: string[] = [];
    const write = changes.write(actor, async (tx) => {
      await sql(tx.manager, "UPDATE environments SET description = 'rolled back' WHERE key = 'production'");
      tx.afterCommit(() => ran.push('never'));
      throw new Error('refused');
    });
    await expect(write).rejects.toThrow('refused');
    expect(ran).toEqual([]);
    expect(await description()).toBe('committed');
  });

  it('a failing callback neither fails the committed write nor stops the others', async () => {
    const ran: string[] = [];
    const result = await changes.write(actor, async (tx) => {
      tx.afterCommit(() => {
        throw new Error('log sink down');
      });
      tx.afterCommit(() => ran.push('after the failure'));
      return 'done';
    });
    expect(result).toBe('done');
    expect(ran).toEqual(['after the failure']);
  });
});
