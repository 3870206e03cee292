import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RetentionService } from '../src/retention/retention.service.js';
import { auth, createTestDatabase, startApp, type TestApp, withClient } from './helpers.js';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let t: TestApp;

beforeAll(async () => {
  db = await createTestDatabase();
  t = await startApp({ DATABASE_URL: db.url, AVIARY_RETENTION_DAYS: '7' });
});

afterAll(async () => {
  await t?.close();
  await db?.drop();
});

describe('retention', () => {
  it('deletes metric buckets and change-log rows past the retention, keeping the revisions a stream may resume from', async () => {
    await request(t.url).post('/api/v1/flags').set(auth()).send({ key: 'kept' }).expect(201);
    const count = (query: string) => withClient(db.url, async (c) => Number((await c.query(query)).rows[0].n));
    await withClient(db.url, async (c) => {
      const { rows } = await c.query("SELECT e.id AS env, f.id AS flag FROM environments e, flags f WHERE e.key = 'production' AND f.key = 'kept'");
      const { env, flag } = rows[0];
      for (const [bucket, n] of [["now() - interval '30 days'", 3], ['now()', 5]] as const) {
        await c.query(`INSERT INTO metric_events (environment_id, flag_id, event, bucket, enabled, count) VALUES ($1, $2, 'request', ${bucket}, true, $3)`, [env, flag, n]);
        await c.query(`INSERT INTO metric_exposures (environment_id, flag_id, bucket, enabled, count) VALUES ($1, $2, ${bucket}, false, $3)`, [env, flag, n]);
      }
      // Every change is old now; production's are also far behind its revision, development's are its latest.
      await c.query("UPDATE changes SET created_at = now() - interval '30 days'");
      await c.query("UPDATE environments SET revision = revision + 2000 WHERE key = 'production'");
    });
    const changesBefore = await count("SELECT count(*) AS n FROM changes c JOIN environments e ON e.id = c.environment_id WHERE e.key = 'development'");

    const pruned = await t.app.get(RetentionService).prune();

    expect(pruned.metricBuckets).toBe(2);
    expect(await count('SELECT count(*) AS n FROM metric_events')).toBe(1);
    expect(await count('SELECT sum(count) AS n FROM metric_exposures')).toBe(5);
    expect(await count("SELECT count(*) AS n FROM changes c JOIN environments e ON e.id = c.environment_id WHERE e.key = 'production'")).toBe(0);
    expect(await count("SELECT count(*) AS n FROM changes c JOIN environments e ON e.id = c.environment_id WHERE e.key = 'development'")).toBe(changesBefore);
    expect(pruned.changes).toBeGreaterThan(0);
    // The audit log is the record of who did what: never pruned.
    expect(await count('SELECT count(*) AS n FROM audit_events')).toBeGreaterThan(0);
  });
});
