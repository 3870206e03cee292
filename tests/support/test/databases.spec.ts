import { readdirSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { cloneDatabase, createTestDatabase, databaseUrl, templateDatabaseName, type TestDatabase, withPostgres } from '../src/databases.js';
import { runTag } from '../src/resources.js';

const MIGRATIONS = readdirSync(new URL('../../../migrations', import.meta.url)).filter((name) => name.endsWith('.ts'));
const created: TestDatabase[] = [];

afterAll(async () => {
  await Promise.all(created.map((db) => db.drop()));
});

const tables = (db: TestDatabase) =>
  withPostgres(async (c) => (await c.query<{ name: string }>(`SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)).rows.map((r) => r.name), db.url);

describe('test databases', () => {
  it('clones parallel requests from one template migrated by the server\'s migrations', async () => {
    const dbs = await Promise.all([createTestDatabase('aviary_support'), createTestDatabase('aviary_support'), createTestDatabase('aviary_support')]);
    created.push(...dbs);
    expect(new Set(dbs.map((db) => db.name)).size).toBe(3);
    for (const db of dbs) {
      expect(db.name).toContain(`_${runTag()}_`);
      const applied = await withPostgres((c) => c.query<{ name: string }>('SELECT name FROM migrations ORDER BY id'), db.url);
      expect(applied.rows).toHaveLength(MIGRATIONS.length);
      expect(await tables(db)).toContain('flags');
    }
    const templates = await withPostgres((c) => c.query('SELECT datname FROM pg_database WHERE datname = $1', [templateDatabaseName()]));
    expect(templates.rowCount).toBe(1);
  });

  it('makes an empty database on request, and copies a database with its rows', async () => {
    const empty = await createTestDatabase('aviary_support', { from: 'empty' });
    created.push(empty);
    expect(await tables(empty)).toEqual([]);
    await withPostgres((c) => c.query(`CREATE TABLE kept (id int); INSERT INTO kept VALUES (7)`), empty.url);
    const copy = `${empty.name}_copy`;
    await cloneDatabase(empty.name, copy);
    created.push({ name: copy, url: databaseUrl(copy), drop: () => withPostgres((c) => c.query(`DROP DATABASE IF EXISTS ${copy} WITH (FORCE)`)).then(() => undefined) });
    expect((await withPostgres((c) => c.query('SELECT id FROM kept'), databaseUrl(copy))).rows).toEqual([{ id: 7 }]);
  });
});
