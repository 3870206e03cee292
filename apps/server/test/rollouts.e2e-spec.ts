import { rmSync } from 'node:fs';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, auth, createTestDatabase, startApp, type TestApp } from './helpers.js';
import { SseReader } from './real-processes.js';
import { testTempDir } from '@aviary/test-support';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let t: TestApp;
let serverKey: string;

const api = () => request(t.url);
const flagPath = (flag: string) => `/api/v1/environments/production/flags/${flag}`;

interface Plan {
  id: string;
  state: string;
  stepIndex: number | null;
  verdict: { status: string; looks: number; exposed: object; control: object; guards?: Array<{ guard: string; status: string }> } | null;
  warnings: Array<{ code: string; stepIndex: number | null; message: string }>;
  outcome: string | null;
  reason: string | null;
  nextStepAt: string | null;
  guard: object | null;
  guards: object[];
  history?: Array<{ type: string; actor: string; stepIndex: number | null; percentage: number | null; revision: number | null; reason: string | null; verdict: object | null }>;
}

beforeAll(async () => {
  db = await createTestDatabase();
  t = await startApp({ DATABASE_URL: db.url, AVIARY_SCHEDULER_INTERVAL_MS: '50' });
  serverKey = (await api().post('/api/v1/api-keys').set(auth()).send({ name: 'svc', kind: 'server', environment: 'production' }).expect(201)).body.secret;
});

afterAll(async () => {
  await t?.close();
  await db?.drop();
});

/** A flag that is on in production with one rule `r1` at 0 %. */
async function canaryFlag(key: string, enabled = true): Promise<void> {
  await api().post('/api/v1/flags').set(auth()).send({ key }).expect(201);
  await api().put(flagPath(key)).set(auth()).send({ enabled, rules: [{ id: 'r1', rollout: { percentage: 0 } }] }).expect(200);
}

async function createPlan(flag: string, body: object): Promise<Plan> {
  const res = await api().post(`${flagPath(flag)}/rollout-plans`).set(auth()).send({ ruleId: 'r1', ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

const getPlan = async (id: string): Promise<Plan> => (await api().get(`/api/v1/rollout-plans/${id}`).set(auth()).expect(200)).body;
const act = (id: string, action: string, reason?: string) => api().post(`/api/v1/rollout-plans/${id}/${action}`).set(auth()).send(reason ? { reason } : {});
const config = async (flag: string) => (await api().get(flagPath(flag)).set(auth()).expect(200)).body;
const percentage = async (flag: string) => (await config(flag)).rules[0].rollout.percentage as number;

async function waitFor(id: string, done: (plan: Plan) => boolean, timeoutMs = 8000): Promise<Plan> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const plan = await getPlan(id);
    if (done(plan)) return plan;
    if (Date.now() > until) throw new Error(`plan ${id} did not get there: ${JSON.stringify(plan)}`);
    await new Promise((r) => setTimeout(r, 40));
  }
}

/** The flag's config writes, oldest first. */
async function configWrites(flag: string): Promise<Array<{ action: string; actor: { name: string }; reason: string; revision: number; after: { enabled: boolean; rules: Array<{ rollout: { percentage: number } }> } }>> {
  const res = await api().get(`/api/v1/audit?resourceType=flag-config&resource=${flag}&environment=production`).set(auth()).expect(200);
  return res.body.items.reverse();
}

async function report(flag: string, arms: { exposed: [number, number]; control: [number, number]; exposures?: [number, number] }, key = serverKey): Promise<void> {
  const [exposedExposures, controlExposures] = arms.exposures ?? [arms.exposed[1], arms.control[1]];
  await api()
    .post('/sdk/v1/metrics')
    .set(auth(key))
    .send({
      start: Date.now() - 1000,
      end: Date.now(),
      exposures: [
        { flag, enabled: true, variant: null, count: exposedExposures },
        { flag, enabled: false, variant: null, count: controlExposures },
      ],
      events: [
        { event: 'error', flag, enabled: true, count: arms.exposed[0] },
        { event: 'request', flag, enabled: true, count: arms.exposed[1] },
        { event: 'error', flag, enabled: false, count: arms.control[0] },
        { event: 'request', flag, enabled: false, count: arms.control[1] },
      ],
    })
    .expect(202);
}

const GUARD = { numerator: 'error', denominator: 'request', maxRelativeIncrease: 0.5, minSamples: 100 };

describe('plan lifecycle', () => {
  it('pending → running → completed, each step one audited write by rollout-plan:<id>', async () => {
    await canaryFlag('life');
    const plan = await createPlan('life', { steps: [{ percentage: 1, holdSeconds: 0.3 }, { percentage: 50, holdSeconds: 0.2 }, { percentage: 100, holdSeconds: 0 }], reason: 'ship it' });
    expect(plan).toMatchObject({ state: 'pending', actions: ['start', 'cancel', 'rollback'], stepIndex: null, outcome: null, guard: null, requireApproval: false, environment: 'production', flag: 'life', ruleId: 'r1' });
    expect(await percentage('life')).toBe(0);

    const started = (await act(plan.id, 'start').expect(200)).body;
    expect(started).toMatchObject({ state: 'running', actions: ['pause', 'cancel', 'rollback'], stepIndex: 0 });
    expect(await percentage('life')).toBeGreaterThanOrEqual(1);
    const done = await waitFor(plan.id, (p) => p.state === 'completed');
    expect(done).toMatchObject({ outcome: 'completed', actions: [], stepIndex: 2, nextStepAt: null });
    expect(await percentage('life')).toBe(100);
    const writes = (await configWrites('life')).filter((w) => w.action === 'flag-config.rollout');
    expect(writes.map((w) => w.after.rules[0].rollout.percentage)).toEqual([1, 50, 100]);
    expect(new Set(writes.map((w) => w.actor.name))).toEqual(new Set([`rollout-plan:${plan.id}`]));
    expect(writes[0].reason).toBe('rollout plan step 1/3: 1 %');
    expect(done.history!.map((h) => h.type)).toEqual(['created', 'started', 'step', 'warning', 'step', 'warning', 'step', 'completed']);
    const steps = done.history!.filter((h) => h.type === 'step');
    expect(steps.map((h) => [h.stepIndex, h.percentage, h.revision])).toEqual(writes.map((w, i) => [i, w.after.rules[0].rollout.percentage, w.revision]));
    // Steps that held without traffic say so.
    expect(done.warnings.map((w) => [w.code, w.stepIndex])).toEqual([['no-traffic', 0], ['no-traffic', 1]]);
    // Prometheus counts what the plans did.
    const metrics = (await api().get('/metrics').expect(200)).text;
    expect(metrics).toMatch(/aviary_rollout_steps_total\{environment="production",action="advanced"\} [3-9]/);
    expect(metrics).toMatch(/aviary_rollout_steps_total\{environment="production",action="completed"\} [1-9]/);
    // A finished plan frees the flag for the next one; finished plans take no actions.
    expect((await act(plan.id, 'resume').expect(409)).body.message).toMatch(/completed plan cannot resume/);
    await createPlan('life', { steps: [{ percentage: 100, holdSeconds: 0 }] });
  });

  it('pause stops the hold clock and resume continues with what was left of it', async () => {
    await canaryFlag('pausing');
    const plan = await createPlan('pausing', { steps: [{ percentage: 1, holdSeconds: 60 }, { percentage: 100, holdSeconds: 0 }], start: true });
    const dueIn = (p: Plan) => Date.parse(p.nextStepAt!) - Date.now();
    const paused = (await act(plan.id, 'pause', 'looking at dashboards').expect(200)).body;
    expect(paused).toMatchObject({ state: 'paused', nextStepAt: null, reason: 'looking at dashboards', stepIndex: 0 });
    await act(plan.id, 'pause').expect(409);
    await new Promise((r) => setTimeout(r, 1200));
    const resumed = (await act(plan.id, 'resume').expect(200)).body;
    expect(resumed).toMatchObject({ state: 'running', stepIndex: 0, reason: null });
    // The 1.2 s spent paused did not count: about 60 s are still left.
    expect(dueIn(resumed)).toBeGreaterThan(58_500);
    expect((await getPlan(plan.id)).history!.map((h) => h.type)).toEqual(['created', 'started', 'step', 'paused', 'resumed']);
    await act(plan.id, 'cancel').expect(200);
  });

  it('one active plan per flag and environment: 409; the list is newest first', async () => {
    await canaryFlag('busy');
    const first = await createPlan('busy', { steps: [{ percentage: 5, holdSeconds: 60 }], start: true });
    expect(first.state).toBe('running');
    const second = await api().post(`${flagPath('busy')}/rollout-plans`).set(auth()).send({ ruleId: 'r1', steps: [{ percentage: 1, holdSeconds: 1 }] });
    expect(second.status).toBe(409);
    expect(second.body.message).toContain(first.id);
    // Another environment is another plan.
    await api().put('/api/v1/environments/development/flags/busy').set(auth()).send({ rules: [{ id: 'r1' }] }).expect(200);
    await api().post('/api/v1/environments/development/flags/busy/rollout-plans').set(auth()).send({ ruleId: 'r1', steps: [{ percentage: 1, holdSeconds: 1 }] }).expect(201);
    await act(first.id, 'cancel', 'wrong build').expect(200);
    expect(await percentage('busy')).toBe(5); // cancel keeps the current percentage
    const third = await createPlan('busy', { steps: [{ percentage: 10, holdSeconds: 60 }] });
    const list = (await api().get(`${flagPath('busy')}/rollout-plans`).set(auth()).expect(200)).body;
    expect(list.items.map((p: Plan) => [p.id, p.state])).toEqual([[third.id, 'pending'], [first.id, 'cancelled']]);
    expect(list.items[1]).toMatchObject({ outcome: 'cancelled', reason: 'wrong build' });
    await act(third.id, 'cancel').expect(200);
  });

  it('approval gate: waits in awaiting-approval until approved, then writes the next step at once', async () => {
    await canaryFlag('gated');
    const plan = await createPlan('gated', { steps: [{ percentage: 10, holdSeconds: 0.1 }, { percentage: 20, holdSeconds: 0.1 }, { percentage: 30, holdSeconds: 0 }], requireApproval: true, start: true });
    await waitFor(plan.id, (p) => p.state === 'awaiting-approval');
    await act(plan.id, 'pause').expect(409);
    await new Promise((r) => setTimeout(r, 300));
    expect(await getPlan(plan.id)).toMatchObject({ state: 'awaiting-approval', stepIndex: 0 });
    expect(await percentage('gated')).toBe(10);

    const approved = (await act(plan.id, 'approve', 'metrics look fine').expect(200)).body;
    expect(approved).toMatchObject({ state: 'running', stepIndex: 1 });
    expect(await percentage('gated')).toBe(20);
    await waitFor(plan.id, (p) => p.state === 'awaiting-approval' && p.stepIndex === 1);
    await act(plan.id, 'approve').expect(200);
    const done = await waitFor(plan.id, (p) => p.state === 'completed');
    expect(done.history!.filter((h) => h.type === 'approved').map((h) => h.actor)).toEqual(['first admin key', 'first admin key']);
    const writes = (await configWrites('gated')).filter((w) => w.action === 'flag-config.rollout');
    expect(writes.map((w) => w.reason)).toEqual([
      'rollout plan step 1/3: 10 %',
      'rollout plan step 2/3: 20 % (approved by first admin key: metrics look fine)',
      'rollout plan step 3/3: 30 % (approved by first admin key)',
    ]);
  });

  it("an environment's plans of every flag, newest first, paged; 404 for an unknown environment", async () => {
    await api().post('/api/v1/environments').set(auth()).send({ key: 'listing' }).expect(201);
    const ids: string[] = [];
    for (const key of ['list-a', 'list-b']) {
      await api().post('/api/v1/flags').set(auth()).send({ key }).expect(201);
      await api().put(`/api/v1/environments/listing/flags/${key}`).set(auth()).send({ enabled: true, rules: [{ id: 'r1', rollout: { percentage: 0 } }] }).expect(200);
      const res = await api().post(`/api/v1/environments/listing/flags/${key}/rollout-plans`).set(auth()).send({ ruleId: 'r1', steps: [{ percentage: 100, holdSeconds: 0 }] }).expect(201);
      ids.push(res.body.id);
    }
    const all = (await api().get('/api/v1/environments/listing/rollout-plans').set(auth()).expect(200)).body;
    expect(all.items.map((p: Plan & { flag: string }) => [p.id, p.flag])).toEqual([[ids[1], 'list-b'], [ids[0], 'list-a']]);
    expect(all.nextCursor).toBeNull();
    const first = (await api().get('/api/v1/environments/listing/rollout-plans?limit=1').set(auth()).expect(200)).body;
    expect(first.items.map((p: Plan) => p.id)).toEqual([ids[1]]);
    const second = (await api().get(`/api/v1/environments/listing/rollout-plans?limit=1&cursor=${first.nextCursor}`).set(auth()).expect(200)).body;
    expect(second.items.map((p: Plan) => p.id)).toEqual([ids[0]]);
    // The one flag's list is still only its own.
    const one = (await api().get('/api/v1/environments/listing/flags/list-a/rollout-plans').set(auth()).expect(200)).body;
    expect(one.items.map((p: Plan) => p.id)).toEqual([ids[0]]);
    await api().get('/api/v1/environments/nowhere/rollout-plans').set(auth()).expect(404);
  });

  it('rollback by hand kills the flag; a killed flag pauses the plan instead of widening; a step the config refuses pauses it', async () => {
    await canaryFlag('manual');
    const plan = await createPlan('manual', { steps: [{ percentage: 5, holdSeconds: 60 }, { percentage: 100, holdSeconds: 0 }], start: true });
    const rolled = (await act(plan.id, 'rollback', 'pager went off').expect(200)).body;
    expect(rolled).toMatchObject({ state: 'rolled-back', outcome: 'rolled-back', reason: 'rolled back by first admin key: pager went off' });
    expect((await config('manual')).enabled).toBe(false);
    const kill = (await configWrites('manual')).at(-1)!;
    expect(kill).toMatchObject({ action: 'flag-config.kill', actor: { name: `rollout-plan:${plan.id}` }, reason: 'rolled back by first admin key: pager went off' });
    // What the person did is in the audit log under their own key.
    const actions = (await api().get('/api/v1/audit?resourceType=rollout-plan&resource=manual').set(auth()).expect(200)).body.items;
    expect(actions.map((a: { action: string; actor: { name: string } }) => `${a.action} by ${a.actor.name}`)).toEqual([
      'rollout-plan.rollback by first admin key',
      'rollout-plan.create by first admin key',
    ]);
    expect(actions[0]).toMatchObject({ reason: 'pager went off', before: { state: 'running' }, after: { state: 'rolled-back' } });

    // The flag is off now: a new plan starts but warns that no one is exposed, and it never
    // widens a killed flag: at its next step it pauses instead.
    const next = await createPlan('manual', { steps: [{ percentage: 10, holdSeconds: 0.2 }, { percentage: 20, holdSeconds: 0 }], start: true });
    expect(next.warnings.map((w) => w.code)).toEqual(['flag-disabled']);
    const held = await waitFor(next.id, (p) => p.state === 'paused');
    expect(held.reason).toMatch(/is off in "production": revive it, then resume the plan/);
    expect((await config('manual')).rules[0].rollout.percentage).toBe(10);
    // Revived, but someone removed the plan's rule: resuming cannot write the next step, so the plan pauses again.
    await api().post(`${flagPath('manual')}/revive`).set(auth()).send({}).expect(200);
    await api().put(flagPath('manual')).set(auth()).send({ rules: [] }).expect(200);
    await act(next.id, 'resume').expect(200);
    const stuck = await waitFor(next.id, (p) => p.state === 'paused' && /ruleId/.test(p.reason ?? ''));
    expect(stuck.warnings.map((w) => w.code)).toEqual(['flag-disabled', 'flag-disabled', 'step-failed']);
    expect(stuck.reason).toMatch(/ruleId: names no rule/);
    await act(next.id, 'cancel').expect(200);
  });
});

describe('the dashboard hears plan changes', () => {
  it('each committed plan change is one `event: plan` (no id) on the environment\'s live stream; SDK streams never get one', async () => {
    await canaryFlag('heard');
    const live = await SseReader.open(t.url, ADMIN_TOKEN, undefined, undefined, '/api/v1/environments/production/events');
    const sdk = await SseReader.open(t.url, serverKey);
    try {
      const plan = await createPlan('heard', { steps: [{ percentage: 1, holdSeconds: 600 }, { percentage: 100, holdSeconds: 0 }] });
      await act(plan.id, 'start').expect(200);
      await act(plan.id, 'pause', 'a look at the logs').expect(200);
      await act(plan.id, 'resume').expect(200);
      await act(plan.id, 'cancel').expect(200);
      const planEvents = () => live.events.filter((e) => e.event === 'plan');
      for (const until = Date.now() + 5000; planEvents().length < 5 && Date.now() < until; ) await new Promise((r) => setTimeout(r, 20));
      expect(planEvents().map((e) => JSON.parse(e.data))).toEqual(
        ['pending', 'running', 'paused', 'running', 'cancelled'].map((state) => ({ environment: 'production', plan: plan.id, flag: 'heard', state })),
      );
      expect(planEvents().every((e) => e.id === undefined)).toBe(true);
      // The step the start wrote is an ordinary revision, on both streams.
      expect(live.events.some((e) => e.event === 'change' && (JSON.parse(e.data) as { flags: string[] }).flags.includes('heard'))).toBe(true);
      expect(sdk.events.some((e) => e.event === 'change')).toBe(true);
      expect(sdk.events.filter((e) => e.event === 'plan')).toEqual([]);
    } finally {
      live.close();
      sdk.close();
    }
  });
});

describe('guard end to end with synthetic metrics', () => {
  it('a bad canary: rolled back, flag killed, the reason names the guard and the numbers', async () => {
    await canaryFlag('bad');
    const plan = await createPlan('bad', { steps: [{ percentage: 50, holdSeconds: 5 }, { percentage: 100, holdSeconds: 0 }], guard: GUARD, start: true });
    expect(plan.guard).toEqual({ ...GUARD, falseAlarmRate: 0.01, sources: ['server', 'client'] });
    await report('bad', { exposed: [200, 1000], control: [10, 1000] });
    const done = await waitFor(plan.id, (p) => p.state !== 'running');
    expect(done.state).toBe('rolled-back');
    const expected = /^guard error\/request: exposed 0\.2000 \(200\/1000\) vs control 0\.0100 \(10\/1000\), z = \d+\.\d\d, always-valid p = \d\.\de-\d+ ≤ 0\.01 \(mSPRT\)$/;
    expect(done.reason).toMatch(expected);
    expect(done.verdict).toMatchObject({ status: 'breach', breached: true, looks: 1, exposed: { numerator: 200, denominator: 1000 }, control: { numerator: 10, denominator: 1000 } });
    const flag = await config('bad');
    expect(flag.enabled).toBe(false);
    expect(flag.rules[0].rollout.percentage).toBe(50); // never widened
    const kill = (await configWrites('bad')).at(-1)!;
    expect(kill).toMatchObject({ action: 'flag-config.kill', actor: { name: `rollout-plan:${plan.id}` } });
    expect(kill.reason).toMatch(expected);
    expect(done.history!.at(-1)).toMatchObject({ type: 'rolled-back', revision: kill.revision, verdict: { status: 'breach' } });

    // A retry right away is not judged on the previous canary's traffic, still in the same 10 s bucket.
    await api().post(`${flagPath('bad')}/revive`).set(auth()).send({}).expect(200);
    const retry = await createPlan('bad', { steps: [{ percentage: 50, holdSeconds: 60 }, { percentage: 100, holdSeconds: 0 }], guard: GUARD, start: true });
    const looked = await waitFor(retry.id, (p) => p.verdict !== null);
    expect(looked).toMatchObject({ state: 'running', verdict: { status: 'insufficient-data', exposed: { denominator: 0 }, control: { denominator: 0 } } });
    await act(retry.id, 'cancel').expect(200);
  });

  it('a healthy canary completes; verdicts are recorded at each step; the series API shows both arms', async () => {
    await canaryFlag('good');
    const plan = await createPlan('good', { steps: [{ percentage: 50, holdSeconds: 2 }, { percentage: 100, holdSeconds: 0 }], guard: GUARD, start: true });
    await report('good', { exposed: [12, 1000], control: [10, 1000] });
    const done = await waitFor(plan.id, (p) => p.state === 'completed');
    expect(done.verdict).toMatchObject({ status: 'ok', breached: false, exposed: { numerator: 12, denominator: 1000 } });
    expect(done.history!.filter((h) => h.type === 'step' || h.type === 'completed').map((h) => h.verdict && (h.verdict as { status: string }).status)).toEqual([
      null, // the first step is written at start, before any look
      'ok',
      'ok',
    ]);
    expect(done.warnings).toEqual([]); // traffic, and 1000/1000 exposures at 50 %
    expect((await config('good')).enabled).toBe(true);
    const series = (await api().get(`${flagPath('good')}/metrics`).set(auth()).expect(200)).body;
    expect(series.arms.map((a: { enabled: boolean; totals: { events: { error: { count: number } } } }) => [a.enabled, a.totals.events.error.count])).toEqual([[true, 12], [false, 10]]);
  });

  it('too few samples never trips; with onInsufficientData continue it widens anyway; a split far from the step percentage warns of sample-ratio mismatch', async () => {
    await canaryFlag('thin');
    const plan = await createPlan('thin', { steps: [{ percentage: 50, holdSeconds: 2 }, { percentage: 100, holdSeconds: 0 }], guard: GUARD, onInsufficientData: 'continue', start: true });
    expect(plan).toMatchObject({ onInsufficientData: 'continue', maxHoldSeconds: null });
    await report('thin', { exposed: [50, 99], control: [0, 5000], exposures: [900, 100] });
    const done = await waitFor(plan.id, (p) => p.state === 'completed');
    expect(done.verdict).toMatchObject({ status: 'insufficient-data', looks: 0 });
    expect(done.warnings.map((w) => [w.code, w.stepIndex])).toEqual([['sample-ratio-mismatch', 0]]);
    expect(done.warnings[0].message).toMatch(/900 exposed vs 100 control exposures where 50 % exposed was expected/);
  });
});

describe('evidence before widening', () => {
  it('a guarded step never widens without the guard\'s verdict; past maxHoldSeconds the plan pauses with insufficient-data, audited as a system pause', async () => {
    await canaryFlag('blind');
    const plan = await createPlan('blind', { steps: [{ percentage: 1, holdSeconds: 0.2, maxHoldSeconds: 0.8 }, { percentage: 100, holdSeconds: 0 }], guard: GUARD, start: true });
    expect(plan).toMatchObject({ onInsufficientData: 'pause', steps: [{ percentage: 1, holdSeconds: 0.2, maxHoldSeconds: 0.8 }, { percentage: 100, holdSeconds: 0 }] });
    // The exposed arm has too few requests: the control alone is no evidence.
    await report('blind', { exposed: [0, 20], control: [10, 5000] });
    const held = await waitFor(plan.id, (p) => p.state !== 'running');
    expect(held).toMatchObject({ state: 'paused', stepIndex: 0, verdict: { status: 'insufficient-data' } });
    expect(held.reason).toMatch(/^insufficient-data: step 1 \(1 %\) held \d+ s without the guard's verdict \(exposed 20 of 100 "request" events needed, control 5000 of 100\); paused instead of widening$/);
    expect(held.warnings.map((w) => [w.code, w.stepIndex])).toEqual([['insufficient-data', 0], ['insufficient-data', 0]]);
    expect(held.warnings[0].message).toBe('step 1 (1 %) held 0.2 s without the guard\'s verdict: it waits for evidence up to 0.8 s before widening');
    // Never widened: the only rollout write is the first step's.
    expect((await configWrites('blind')).filter((w) => w.action === 'flag-config.rollout').map((w) => w.after.rules[0].rollout.percentage)).toEqual([1]);
    expect(await percentage('blind')).toBe(1);
    // The pause is in the audit log, by the plan itself (a rollout.paused webhook event).
    const actions = (await api().get('/api/v1/audit?resourceType=rollout-plan&resource=blind').set(auth()).expect(200)).body.items;
    expect(actions[0]).toMatchObject({ action: 'rollout-plan.pause', actor: { name: `rollout-plan:${plan.id}`, via: 'system' }, reason: held.reason, before: { state: 'running' }, after: { state: 'paused' } });

    // Evidence arrives; resuming gives the step its wait again, and the judged step widens.
    await report('blind', { exposed: [1, 200], control: [0, 15000] }); // 220 of 20,220 exposures exposed: about 1 %
    await act(plan.id, 'resume').expect(200);
    const done = await waitFor(plan.id, (p) => p.state !== 'running');
    expect(done).toMatchObject({ state: 'completed', verdict: { status: 'ok' } });
    expect((await configWrites('blind')).filter((w) => w.action === 'flag-config.rollout').map((w) => w.after.rules[0].rollout.percentage)).toEqual([1, 100]);
    expect(done.history!.map((h) => h.type)).toEqual(['created', 'started', 'step', 'warning', 'warning', 'paused', 'resumed', 'step', 'completed']);
  });

  it('no traffic at all on a guarded step is the same case: no widening, a pause; the plan\'s maxHoldSeconds applies to every step', async () => {
    await canaryFlag('silent');
    const plan = await createPlan('silent', { steps: [{ percentage: 5, holdSeconds: 0.1 }, { percentage: 50, holdSeconds: 0.1 }, { percentage: 100, holdSeconds: 0 }], maxHoldSeconds: 0.3, guard: GUARD, start: true });
    const held = await waitFor(plan.id, (p) => p.state !== 'running');
    expect(held).toMatchObject({ state: 'paused', stepIndex: 0, maxHoldSeconds: 0.3 });
    expect(held.reason).toMatch(/^insufficient-data: .*exposed 0 of 100 "request" events needed, control 0 of 100/);
    expect(held.warnings.map((w) => w.code)).toEqual(['insufficient-data', 'insufficient-data']); // not no-traffic beside a widening
    expect(await percentage('silent')).toBe(5);
    await act(plan.id, 'cancel').expect(200);
  });
});

/** Latency values per arm as the SDKs report them: count, sum and sum of squares. */
async function reportLatency(flag: string, arms: { exposed: number[]; control: number[] }): Promise<void> {
  const row = (enabled: boolean, values: number[]) => ({
    event: 'latency', flag, enabled, count: values.length, sum: values.reduce((a, b) => a + b, 0), sumSquares: values.reduce((a, b) => a + b * b, 0),
  });
  await api().post('/sdk/v1/metrics').set(auth(serverKey)).send({ start: Date.now() - 1000, end: Date.now(), events: [row(true, arms.exposed), row(false, arms.control)] }).expect(202);
}

/** n values spread evenly 20 either side of mean (whole cycles of 41 when n is a multiple of 41: exactly that mean). */
const around = (mean: number, n: number) => Array.from({ length: n }, (_, i) => mean - 20 + (i % 41));
const LATENCY = { metric: 'latency', maxRelativeIncrease: 0.2, minSamples: 100 };

describe('several guards, and mean guards', () => {
  it('any breach rolls back: a latency guard catches a slow canary whose errors look fine', async () => {
    await canaryFlag('slow');
    const plan = await createPlan('slow', { steps: [{ percentage: 50, holdSeconds: 30 }, { percentage: 100, holdSeconds: 0 }], guards: [GUARD, LATENCY], start: true });
    expect(plan.guards).toEqual([{ ...GUARD, falseAlarmRate: 0.01, sources: ['server', 'client'] }, { ...LATENCY, falseAlarmRate: 0.01, sources: ['server', 'client'] }]);
    expect(plan.guard).toEqual(plan.guards[0]);
    await report('slow', { exposed: [10, 1000], control: [10, 1000] });
    await reportLatency('slow', { exposed: around(300, 410), control: around(180, 410) });
    const done = await waitFor(plan.id, (p) => p.state !== 'running');
    expect(done).toMatchObject({ state: 'rolled-back', verdict: { status: 'breach', guard: 'mean latency', exposed: { count: 410 }, control: { count: 410 } } });
    expect(done.verdict!.guards!.map((g) => [g.guard, g.status])).toEqual([['error/request', 'ok'], ['mean latency', 'breach']]);
    expect(done.reason).toMatch(/^guard mean latency: exposed 300\.00 \(n = 410\) vs control 180\.00 \(n = 410\), z = \d+\.\d\d, always-valid p = .* ≤ 0\.01 \(mSPRT\)$/);
    expect((await config('slow')).enabled).toBe(false);
  });

  it('a step widens only once every guard judged it; a latency rise within the allowance completes', async () => {
    await canaryFlag('two-guards');
    const plan = await createPlan('two-guards', { steps: [{ percentage: 50, holdSeconds: 0.2, maxHoldSeconds: 0.6 }, { percentage: 100, holdSeconds: 0 }], guards: [GUARD, LATENCY], start: true });
    // Errors have their evidence; latency has none: no widening, a pause naming what is missing.
    await report('two-guards', { exposed: [10, 1000], control: [10, 1000] });
    const held = await waitFor(plan.id, (p) => p.state !== 'running');
    expect(held).toMatchObject({ state: 'paused', stepIndex: 0, verdict: { status: 'insufficient-data', guard: 'mean latency' } });
    expect(held.reason).toMatch(/exposed 0 of 100 "latency" events needed, control 0 of 100/);
    expect(await percentage('two-guards')).toBe(50);
    // Latency 10 % up, within the 20 % allowed: judged ok, the plan widens and completes.
    await reportLatency('two-guards', { exposed: around(198, 400), control: around(180, 400) });
    await act(plan.id, 'resume').expect(200);
    const done = await waitFor(plan.id, (p) => p.state !== 'running');
    expect(done).toMatchObject({ state: 'completed', verdict: { status: 'ok' } });
    expect(done.verdict!.guards!.map((g) => g.status)).toEqual(['ok', 'ok']);
    expect(await percentage('two-guards')).toBe(100);
  });

  it('400 naming the field for mean guards that also count, both guard and guards, and an empty list', async () => {
    await canaryFlag('strict-guards');
    const post = (body: object) => api().post(`${flagPath('strict-guards')}/rollout-plans`).set(auth()).send({ ruleId: 'r1', steps: [{ percentage: 5, holdSeconds: 1 }], ...body });
    const paths = async (body: object) => {
      const res = await post(body);
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      return [...new Set(res.body.errors.map((e: { path: string }) => e.path))].sort();
    };
    expect(await paths({ guards: [GUARD, { ...LATENCY, numerator: 'error' }] })).toEqual(['guards[1].numerator']);
    expect(await paths({ guard: GUARD, guards: [GUARD] })).toEqual(['guards']);
    expect(await paths({ guards: [] })).toEqual(['guards']);
    expect(await paths({ guards: [{ ...LATENCY, metric: '' }, { maxRelativeIncrease: 1, minSamples: 1 }] })).toEqual(['guards[0].metric', 'guards[1].denominator', 'guards[1].numerator']);
  });
});

describe('guard sources: client keys are public', () => {
  it('a guard counting only server reports is not moved by client-key reports; one counting both is', async () => {
    const clientKey = (await api().post('/api/v1/api-keys').set(auth()).send({ name: 'web', kind: 'client', environment: 'production' }).expect(201)).body.secret;
    const steps = [{ percentage: 50, holdSeconds: 2 }, { percentage: 100, holdSeconds: 0 }];
    for (const flag of ['backend-guarded', 'both-guarded']) {
      await canaryFlag(flag);
      await api().patch(`/api/v1/flags/${flag}`).set(auth()).send({ clientVisible: true }).expect(200);
    }
    const backend = await createPlan('backend-guarded', { steps, guard: { ...GUARD, sources: ['server'] }, start: true });
    const both = await createPlan('both-guarded', { steps, guard: GUARD, start: true });
    expect(backend.guard).toEqual({ ...GUARD, falseAlarmRate: 0.01, sources: ['server'] });
    // The backends see a healthy canary; then anyone with the page's client key reports a disaster
    // in the exposed arm (in this order, so a guard look between two reports can only see the
    // healthy half: the breach is judged on both).
    for (const flag of ['backend-guarded', 'both-guarded']) await report(flag, { exposed: [12, 1000], control: [10, 1000] });
    for (const flag of ['backend-guarded', 'both-guarded']) await report(flag, { exposed: [900, 1000], control: [0, 1000] }, clientKey);
    const [kept, judged] = await Promise.all([
      waitFor(backend.id, (p) => p.state !== 'running'),
      waitFor(both.id, (p) => p.state !== 'running'),
    ]);
    expect(kept).toMatchObject({ state: 'completed', verdict: { status: 'ok', exposed: { numerator: 12, denominator: 1000 } } });
    expect(judged).toMatchObject({ state: 'rolled-back', verdict: { status: 'breach', exposed: { numerator: 912, denominator: 2000 } } });
    // The series API shows every report, or those of one source.
    const errors = async (query: string) =>
      (await api().get(`${flagPath('backend-guarded')}/metrics${query}`).set(auth()).expect(200)).body.arms.find((a: { enabled: boolean }) => a.enabled).totals.events.error.count;
    expect([await errors(''), await errors('?source=server'), await errors('?source=client')]).toEqual([912, 12, 900]);
    await api().get(`${flagPath('backend-guarded')}/metrics?source=browser`).set(auth()).expect(400);
  });

  it('bad sources: 400 naming the field', async () => {
    await canaryFlag('bad-sources');
    for (const sources of [[], ['browser'], ['server', 'server'], 'server']) {
      const res = await api().post(`${flagPath('bad-sources')}/rollout-plans`).set(auth()).send({ ruleId: 'r1', steps: [{ percentage: 5, holdSeconds: 1 }], guard: { ...GUARD, sources } });
      expect(res.status, JSON.stringify(sources)).toBe(400);
      expect(res.body.message).toMatch(/^guard\.sources/);
    }
  });
});

describe('embedded PGlite (one backend for every connection)', () => {
  it('steps, guard looks and the kill all run inside their own transaction without deadlocking', async () => {
    const dataDir = testTempDir('rollouts');
    const main = { t, serverKey };
    t = await startApp({ DATABASE_URL: undefined, AVIARY_DATA_DIR: dataDir, AVIARY_SCHEDULER_INTERVAL_MS: '50' });
    try {
      serverKey = (await api().post('/api/v1/api-keys').set(auth()).send({ name: 'svc', kind: 'server', environment: 'production' }).expect(201)).body.secret;
      await canaryFlag('embedded');
      const plan = await createPlan('embedded', { steps: [{ percentage: 10, holdSeconds: 0.2 }, { percentage: 50, holdSeconds: 5 }, { percentage: 100, holdSeconds: 0 }], guard: GUARD, start: true });
      await report('embedded', { exposed: [1, 1000], control: [10, 1000] }); // evidence for the first step
      await waitFor(plan.id, (p) => p.stepIndex === 1);
      await report('embedded', { exposed: [300, 1000], control: [10, 1000] });
      const done = await waitFor(plan.id, (p) => p.state !== 'running');
      expect(done).toMatchObject({ state: 'rolled-back', stepIndex: 1 });
      expect((await config('embedded')).enabled).toBe(false);
    } finally {
      await t.close();
      ({ t, serverKey } = main);
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('validation', () => {
  it('400 with field paths on bad bodies, 404 for unknown targets', async () => {
    await canaryFlag('strict');
    const paths = async (body: object, flag = 'strict') => {
      const res = await api().post(`${flagPath(flag)}/rollout-plans`).set(auth()).send(body);
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request', requestId: expect.any(String) });
      return [...new Set(res.body.errors.map((e: { path: string }) => e.path))].sort();
    };
    expect(await paths({ steps: [] })).toEqual(['ruleId', 'steps']);
    expect(
      await paths({
        ruleId: 'r1',
        steps: [{ percentage: 1.0001, holdSeconds: -1 }, { percentage: 101, holdSeconds: 'x' }],
        guard: { numerator: '', denominator: 'request', maxRelativeIncrease: -1, minSamples: 0, falseAlarmRate: 1, extra: true },
        requireApproval: 'yes',
        extra: 1,
      }),
    ).toEqual([
      'extra', 'guard.extra', 'guard.falseAlarmRate', 'guard.maxRelativeIncrease', 'guard.minSamples', 'guard.numerator', 'requireApproval',
      'steps[0].holdSeconds', 'steps[0].percentage', 'steps[1].holdSeconds', 'steps[1].percentage',
    ]);
    expect(await paths({ ruleId: 'r1', steps: [{ percentage: 10, holdSeconds: 1 }, { percentage: 5, holdSeconds: 1 }] })).toEqual(['steps[1].percentage']);
    expect(await paths({ ruleId: 'r1', steps: [{ percentage: 10, holdSeconds: 1 }], guard: { ...GUARD, denominator: 'error' } })).toEqual(['guard.denominator']);
    expect(await paths({ ruleId: 'nope', steps: [{ percentage: 10, holdSeconds: 1 }] })).toEqual(['ruleId']);
    expect(await paths({ ruleId: 'r1', steps: [{ percentage: 10, holdSeconds: 10, maxHoldSeconds: 5 }] })).toEqual(['steps[0].maxHoldSeconds']);
    expect(await paths({ ruleId: 'r1', steps: [{ percentage: 10, holdSeconds: 10, maxHoldSeconds: 'x' }, { percentage: 20, holdSeconds: 1, maxHoldSeconds: 1e9 }] })).toEqual(['steps[0].maxHoldSeconds', 'steps[1].maxHoldSeconds']);
    expect(await paths({ ruleId: 'r1', steps: [{ percentage: 10, holdSeconds: 10 }], maxHoldSeconds: 5 })).toEqual(['maxHoldSeconds']);
    expect(await paths({ ruleId: 'r1', steps: [{ percentage: 10, holdSeconds: 10 }], maxHoldSeconds: -1, onInsufficientData: 'widen' })).toEqual(['maxHoldSeconds', 'onInsufficientData']);
    await api().post(`${flagPath('missing')}/rollout-plans`).set(auth()).send({ ruleId: 'r1', steps: [{ percentage: 1, holdSeconds: 1 }] }).expect(404);
    await api().post('/api/v1/environments/nope/flags/strict/rollout-plans').set(auth()).send({ ruleId: 'r1', steps: [{ percentage: 1, holdSeconds: 1 }] }).expect(404);
    await api().get('/api/v1/rollout-plans/00000000-0000-4000-8000-000000000000').set(auth()).expect(404);
    await api().post('/api/v1/rollout-plans/00000000-0000-4000-8000-000000000000/start').set(auth()).send({}).expect(404);
    await api().get('/api/v1/rollout-plans/not-a-uuid').set(auth()).expect(400);
    await api().post('/api/v1/rollout-plans/not-a-uuid/pause').set(auth()).send({}).expect(400);
    await api().get(`${flagPath('strict')}/rollout-plans?cursor=x`).set(auth()).expect(400);
    // SDK keys have no business here.
    await api().get(`${flagPath('strict')}/rollout-plans`).set(auth(serverKey)).expect(403);
  });
});
