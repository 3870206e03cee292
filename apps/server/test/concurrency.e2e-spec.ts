import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RulesetChange } from '../src/changes/change.js';
import { LiveRulesets } from '../src/stream/live-rulesets.js';
import { auth, createTestDatabase, startApp, type TestApp, withClient } from './helpers.js';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let t: TestApp;
const published: RulesetChange[] = [];
const api = () => request(t.url);
const revision = async (env: string) => (await api().get(`/api/v1/environments/${env}`).set(auth()).expect(200)).body.revision as number;

beforeAll(async () => {
  db = await createTestDatabase();
  // 1,000 writes queue for 20 connections; on a loaded machine the last one waits longer than the
  // default 5 s for its turn, which is the pool doing its job, not the database being unreachable.
  t = await startApp({ DATABASE_URL: db.url, AVIARY_DB_POOL_SIZE: '20', AVIARY_DB_CONNECT_TIMEOUT_MS: '120000' });
  // Records what reaches the live rulesets after commit, then lets it through.
  const live = t.app.get(LiveRulesets);
  const committed = live.committed.bind(live);
  live.committed = (change) => {
    published.push(change);
    return committed(change);
  };
});

afterAll(async () => {
  await t?.close();
  await db?.drop();
});

describe('concurrent writes', () => {
  it('20 clients with the same If-Match: one wins, 19 get 412, one audit event, revision +1', async () => {
    await api().post('/api/v1/flags').set(auth()).send({ key: 'contended' }).expect(201);
    const before = await revision('production');
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        api().put('/api/v1/environments/production/flags/contended').set(auth()).set('If-Match', '"1"').send({ enabled: i % 2 === 0, reason: `client ${i}` }),
      ),
    );
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 412)).toHaveLength(19);
    expect(await revision('production')).toBe(before + 1);
    const audit = await api().get('/api/v1/audit?resourceType=flag-config&resource=contended').set(auth()).expect(200);
    expect(audit.body.items).toHaveLength(1);
  });

  it('1,000 parallel writes across flags: revisions dense, no gap, no repeat', async () => {
    const flags = Array.from({ length: 20 }, (_, i) => `par-${i}`);
    for (const key of flags) await api().post('/api/v1/flags').set(auth()).send({ key }).expect(201);
    const start = await revision('production');
    published.length = 0;
    const responses = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => {
        const key = flags[i % flags.length];
        const base = `/api/v1/environments/production/flags/${key}`;
        if (i % 3 === 0) return api().post(`${base}/kill`).set(auth()).send({});
        if (i % 3 === 1) return api().put(`${base}/rollout`).set(auth()).send({ percentage: i % 101 });
        return api().put(base).set(auth()).send({ enabled: true });
      }),
    );
    expect(responses.filter((r) => r.status !== 200).map((r) => r.body)).toEqual([]);
    expect(await revision('production')).toBe(start + 1000);
    const rows = await withClient(db.url, (c) =>
      c.query(
        `SELECT c.revision::int AS revision, kind FROM changes c JOIN environments e ON e.id = c.environment_id
          WHERE e.key = 'production' AND c.revision > $1 ORDER BY c.revision`,
        [start],
      ),
    );
    expect(rows.rows.map((r) => r.revision)).toEqual(Array.from({ length: 1000 }, (_, i) => start + 1 + i));
    const audited = await withClient(db.url, (c) => c.query("SELECT count(*)::int AS n FROM audit_events WHERE environment = 'production' AND revision > $1", [start]));
    expect(audited.rows[0].n).toBe(1000);
    // Published after commit: every revision exactly once.
    expect(published.map((e) => e.revision).sort((a, b) => a - b)).toEqual(rows.rows.map((r) => r.revision));
    // Each flag's config versions are dense too: 1 + its 50 writes.
    const versions = await withClient(db.url, (c) => c.query("SELECT min(version)::int AS lo, max(version)::int AS hi FROM flag_configs c JOIN flags f ON f.id = c.flag_id WHERE f.key LIKE 'par-%'"));
    expect(versions.rows[0]).toEqual({ lo: 51, hi: 51 });
  });
});

describe('the change log', () => {
  it('logs patches in the Ruleset shape: change, kill, null on archive and cohort delete', async () => {
    published.length = 0;
    const changesSince = async (rev: number) =>
      (
        await withClient(db.url, (c) =>
          c.query(
            `SELECT c.revision::int AS revision, kind, patch FROM changes c JOIN environments e ON e.id = c.environment_id
              WHERE e.key = 'production' AND c.revision > $1 ORDER BY c.revision`,
            [rev],
          ),
        )
      ).rows;
    const start = await revision('production');
    await api().post('/api/v1/flags').set(auth()).send({ key: 'shape', variants: [{ key: 'on', value: 1 }] }).expect(201);
    await api().put('/api/v1/environments/production/flags/shape').set(auth()).send({ enabled: true, rules: [{ id: 'r', rollout: { percentage: 5 } }] }).expect(200);
    await api().post('/api/v1/environments/production/flags/shape/kill').set(auth()).send({ reason: 'x' }).expect(200);
    await api().post('/api/v1/cohorts').set(auth()).send({ key: 'c' }).expect(201);
    await api().post('/api/v1/cohorts/c/members').set(auth()).send({ add: ['u1'], exclude: ['u2'] }).expect(200);
    await api().delete('/api/v1/cohorts/c').set(auth()).expect(204);
    await api().delete('/api/v1/flags/shape').set(auth()).expect(204);
    const rows = await changesSince(start);
    expect(rows.map((r) => r.kind)).toEqual(['change', 'change', 'kill', 'change', 'change', 'change', 'change']);
    expect(rows[0].patch).toMatchObject({
      revision: start + 1,
      flags: { shape: { key: 'shape', version: 1, enabled: false, salt: 'shape', variants: [{ key: 'on', value: 1 }], prerequisites: [], rules: [] } },
    });
    expect(rows[1].patch.flags.shape).toMatchObject({ version: 2, enabled: true, rules: [{ id: 'r', rollout: { percentage: 5 } }] });
    expect(rows[2].patch.flags.shape).toMatchObject({ version: 3, enabled: false });
    expect(rows[4].patch).toMatchObject({ revision: start + 5, cohorts: { c: { key: 'c', included: ['u1'], excluded: ['u2'], conditions: [] } } });
    expect(rows[5].patch).toMatchObject({ revision: start + 6, cohorts: { c: null } });
    expect(rows[6].patch).toMatchObject({ revision: start + 7, flags: { shape: null } });
    const production = published.filter((e) => e.environment === 'production');
    expect(production.map((e) => ({ revision: e.revision, kind: e.kind, patch: e.patch }))).toEqual(rows);
    // Cohort and flag definition writes move every environment.
    expect(published.filter((e) => e.environment === 'development')).toHaveLength(5);
  });
});
