import { join } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServerProcess } from '@aviary/test-support';
import { ADMIN_TOKEN, auth, createTestDatabase, withClient } from './helpers.js';
import { serverBuild } from './real-processes.js';

/**
 * Rollout plans across real server processes sharing one Postgres: each runs the built server
 * (what `npm start` runs) with its own scheduler and pool.
 */

let entry: string;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
const running: ServerProcess[] = [];

/** Steps an instance wrote, from its debug log. */
function stepsWritten(instance: ServerProcess): string[] {
  return instance.output.flatMap((line) => {
    const step = /Rollout plan (\S+) wrote step (\d+)/.exec(line);
    return step ? [`${step[1]}#${step[2]}`] : [];
  });
}

async function startInstance(name: string): Promise<ServerProcess> {
  const instance = await ServerProcess.start({
    name,
    entry,
    env: { DATABASE_URL: db.url, AVIARY_ADMIN_TOKEN: ADMIN_TOKEN, AVIARY_SCHEDULER_INTERVAL_MS: '20', LOG_LEVEL: 'debug' },
  });
  running.push(instance);
  return instance;
}

async function kill(instance: ServerProcess): Promise<void> {
  await instance.kill();
  running.splice(running.indexOf(instance), 1);
}

beforeAll(async () => {
  entry = join(serverBuild(), 'apps/server/src/main.js');
  db = await createTestDatabase();
}, 120_000);

afterAll(async () => {
  for (const instance of [...running]) await kill(instance);
  await db?.drop();
});

interface Plan {
  id: string;
  state: string;
  stepIndex: number | null;
  history: Array<{ type: string; stepIndex: number | null; percentage: number | null; revision: number | null; at: string }>;
}

async function waitForPlans(url: string, ids: string[], state: string, timeoutMs = 15_000): Promise<Plan[]> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const plans = await Promise.all(ids.map(async (id) => (await request(url).get(`/api/v1/rollout-plans/${id}`).set(auth()).expect(200)).body as Plan));
    if (plans.every((p) => p.state === state)) return plans;
    if (Date.now() > until) throw new Error(`plans not ${state}: ${JSON.stringify(plans.map((p) => [p.id, p.state, p.stepIndex]))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Rollout writes of one flag in production, oldest first, straight from the audit table. */
async function rolloutWrites(flag: string): Promise<Array<{ actor: string; percentage: number; revision: number; at: Date }>> {
  return withClient(db.url, async (c) => {
    const { rows } = await c.query(
      `SELECT actor_name AS actor, (after->'rules'->0->'rollout'->>'percentage')::float8 AS percentage, revision::int AS revision, created_at AS at
         FROM audit_events WHERE action = 'flag-config.rollout' AND resource_key = $1 AND environment = 'production' ORDER BY id`,
      [flag],
    );
    return rows;
  });
}

async function canaryFlag(url: string, key: string): Promise<void> {
  await request(url).post('/api/v1/flags').set(auth()).send({ key }).expect(201);
  await request(url).put(`/api/v1/environments/production/flags/${key}`).set(auth()).send({ enabled: true, rules: [{ id: 'r1', rollout: { percentage: 0 } }] }).expect(200);
}

const PERCENTAGES = [1, 5, 25, 50, 100];

describe('rollout plans across server processes', () => {
  it('two instances: every step of every plan is written exactly once', async () => {
    const a = await startInstance('a');
    const b = await startInstance('b');
    const flags = ['multi-0', 'multi-1', 'multi-2', 'multi-3', 'multi-4', 'multi-5'];
    const ids: string[] = [];
    for (const [i, flag] of flags.entries()) {
      const via = i % 2 === 0 ? a : b;
      await canaryFlag(via.url, flag);
      const steps = PERCENTAGES.map((percentage, j) => ({ percentage, holdSeconds: j === PERCENTAGES.length - 1 ? 0 : (100 + 50 * (i % 3)) / 1000 }));
      const res = await request(via.url).post(`/api/v1/environments/production/flags/${flag}/rollout-plans`).set(auth()).send({ ruleId: 'r1', steps, start: true });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      ids.push(res.body.id);
    }
    const plans = await waitForPlans(b.url, ids, 'completed');

    for (const [i, flag] of flags.entries()) {
      const writes = await rolloutWrites(flag);
      expect(writes.map((w) => w.percentage)).toEqual(PERCENTAGES);
      expect(new Set(writes.map((w) => w.actor))).toEqual(new Set([`rollout-plan:${ids[i]}`]));
      const revisions = writes.map((w) => w.revision);
      expect(new Set(revisions).size).toBe(revisions.length);
      const history = plans[i].history;
      expect(history.filter((h) => h.type === 'step').map((h) => [h.stepIndex, h.percentage, h.revision])).toEqual(
        writes.map((w, j) => [j, w.percentage, w.revision]),
      );
      expect(history.filter((h) => h.type === 'completed')).toHaveLength(1);
    }
    // The scheduled steps (all but each plan's first) were fired by the two schedulers together,
    // each exactly once.
    const fired = [...stepsWritten(a), ...stepsWritten(b)];
    expect(fired).toHaveLength(flags.length * (PERCENTAGES.length - 1));
    expect(new Set(fired).size).toBe(fired.length);
    console.log(`scheduled steps fired: ${stepsWritten(a).length} by instance a, ${stepsWritten(b).length} by instance b`);
  });

  it('a restart resumes mid-plan from the stored timestamps', async () => {
    const [a, ...others] = running;
    for (const instance of others) await kill(instance);
    await canaryFlag(a.url, 'restart');
    const steps = [{ percentage: 10, holdSeconds: 1.5 }, { percentage: 20, holdSeconds: 0.6 }, { percentage: 30, holdSeconds: 0 }];
    const res = await request(a.url).post('/api/v1/environments/production/flags/restart/rollout-plans').set(auth()).send({ ruleId: 'r1', steps, start: true }).expect(201);
    const id = res.body.id as string;
    // The last server dies during the first hold; the step falls due while none is up.
    await kill(a);
    await new Promise((r) => setTimeout(r, 1800));
    const stored = await withClient(db.url, (c) => c.query('SELECT state, step_index, next_step_at < now() AS overdue FROM rollout_plans WHERE id = $1', [id]));
    expect(stored.rows[0]).toEqual({ state: 'running', step_index: 0, overdue: true });

    const restartedAt = Date.now();
    const c = await startInstance('c');
    const [done] = await waitForPlans(c.url, [id], 'completed');
    const writes = await rolloutWrites('restart');
    expect(writes.map((w) => w.percentage)).toEqual([10, 20, 30]);
    expect(stepsWritten(c).filter((s) => s.startsWith(id))).toEqual([`${id}#2`, `${id}#3`]);
    const stepTimes = done.history.filter((h) => h.type === 'step').map((h) => Date.parse(h.at));
    expect(stepTimes[1]).toBeGreaterThanOrEqual(restartedAt - 50);
    // The step written after the restart still held for its full time.
    expect(stepTimes[2] - stepTimes[1]).toBeGreaterThanOrEqual(600);
  });
});
