import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, createTestDatabase, startApp, type TestApp } from './helpers.js';

/** The scheduler's own transitions are webhook events, through audit entries by the system. A plan
 *  created with `start: true` is started by its creation: that entry is the `rollout.started`. */

interface Delivery {
  type: string;
  actor: { type: string; name: string };
  resource: { type: string; key: string };
  action: string;
  reason: string | null;
  after: { id: string; state: string; stepIndex: number | null; verdict: { status: string; exposed: object; control: object } | null } | null;
}

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let t: TestApp;
let server: Server;
let secret: string;
let serverKey: string;
const received: Delivery[] = [];
const api = () => request(t.url);
const flagPath = (flag: string) => `/api/v1/environments/production/flags/${flag}`;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push(new Webhook(secret).verify(Buffer.concat(chunks).toString('utf8'), req.headers as Record<string, string>) as Delivery);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  db = await createTestDatabase();
  t = await startApp({ DATABASE_URL: db.url, AVIARY_SCHEDULER_INTERVAL_MS: '50', AVIARY_WEBHOOK_ALLOW_PRIVATE: 'true', AVIARY_WEBHOOK_POLL_MS: '100' });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  const events = ['rollout.started', 'rollout.step', 'rollout.paused', 'rollout.awaiting-approval', 'rollout.rolled-back', 'rollout.completed'];
  secret = (await api().post('/api/v1/webhooks').set(auth()).send({ url, events }).expect(201)).body.secret;
  serverKey = (await api().post('/api/v1/api-keys').set(auth()).send({ name: 'svc', kind: 'server', environment: 'production' }).expect(201)).body.secret;
});

afterAll(async () => {
  await t?.close();
  await db?.drop();
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
});

async function canary(flag: string, plan: object): Promise<string> {
  await api().post('/api/v1/flags').set(auth()).send({ key: flag }).expect(201);
  await api().put(flagPath(flag)).set(auth()).send({ enabled: true, rules: [{ id: 'r1', rollout: { percentage: 0 } }] }).expect(200);
  const res = await api().post(`${flagPath(flag)}/rollout-plans`).set(auth()).send({ ruleId: 'r1', start: true, ...plan });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id;
}

async function report(flag: string, exposed: [number, number], control: [number, number]): Promise<void> {
  const events = [
    { event: 'error', flag, enabled: true, count: exposed[0] },
    { event: 'request', flag, enabled: true, count: exposed[1] },
    { event: 'error', flag, enabled: false, count: control[0] },
    { event: 'request', flag, enabled: false, count: control[1] },
  ];
  await api().post('/sdk/v1/metrics').set(auth(serverKey)).send({ start: Date.now() - 1000, end: Date.now(), events }).expect(202);
}

async function deliveries(flag: string, last: string, timeoutMs = 30_000): Promise<Delivery[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const mine = received.filter((d) => d.resource.key === flag);
    if (mine.some((d) => d.type === last)) return mine;
    if (Date.now() > deadline) throw new Error(`no ${last} for ${flag}: ${JSON.stringify(mine.map((d) => d.type))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const GUARD = { numerator: 'error', denominator: 'request', maxRelativeIncrease: 0.5, minSamples: 100 };

describe('the scheduler\'s transitions as webhook events', () => {
  it('a guard\'s rollback is rollout.rolled-back by the system, with the guard\'s numbers', async () => {
    const id = await canary('hooked-bad', { steps: [{ percentage: 50, holdSeconds: 30 }, { percentage: 100, holdSeconds: 0 }], guard: GUARD });
    await report('hooked-bad', [200, 1000], [10, 1000]);
    const events = await deliveries('hooked-bad', 'rollout.rolled-back');
    expect(events.map((d) => d.type)).toEqual(['rollout.started', 'rollout.rolled-back']);
    expect(events[0]).toMatchObject({ action: 'rollout-plan.create', actor: { type: 'key' }, after: { state: 'running' } });
    const rolledBack = events[1]!;
    expect(rolledBack).toMatchObject({
      action: 'rollout-plan.rollback',
      actor: { type: 'system', name: `rollout-plan:${id}` },
      resource: { type: 'rollout-plan', key: 'hooked-bad' },
      after: { state: 'rolled-back', verdict: { status: 'breach', exposed: { numerator: 200, denominator: 1000 }, control: { numerator: 10, denominator: 1000 } } },
    });
    expect(rolledBack.reason).toMatch(/^guard error\/request: exposed 0\.2000 \(200\/1000\) vs control 0\.0100 \(10\/1000\)/);
  });

  it('steps, the wait for approval and completion; a step without evidence pauses (rollout.paused)', async () => {
    await canary('hooked-good', { steps: [{ percentage: 10, holdSeconds: 0.1 }, { percentage: 20, holdSeconds: 0.1 }, { percentage: 30, holdSeconds: 0 }] });
    const good = await deliveries('hooked-good', 'rollout.completed');
    expect(good.map((d) => d.type)).toEqual(['rollout.started', 'rollout.step', 'rollout.step', 'rollout.completed']);
    expect(good[0]!.actor.type).toBe('key');
    expect(good.slice(1).every((d) => d.actor.type === 'system')).toBe(true);
    expect(good.filter((d) => d.type === 'rollout.step').map((d) => d.after!.stepIndex)).toEqual([1, 2]);

    await canary('hooked-gated', { steps: [{ percentage: 10, holdSeconds: 0.1 }, { percentage: 20, holdSeconds: 0 }], requireApproval: true });
    const gated = await deliveries('hooked-gated', 'rollout.awaiting-approval');
    expect(gated.at(-1)).toMatchObject({ action: 'rollout-plan.await-approval', actor: { type: 'system' }, after: { state: 'awaiting-approval' } });
    // Approving writes the next step: a rollout.step by the person's key.
    await api().post(`/api/v1/rollout-plans/${gated.at(-1)!.after!.id}/approve`).set(auth()).send({}).expect(200);
    const approved = await deliveries('hooked-gated', 'rollout.step');
    expect(approved.find((d) => d.type === 'rollout.step')).toMatchObject({ type: 'rollout.step', action: 'rollout-plan.approve', actor: { type: 'key' }, after: { stepIndex: 1 } });

    await canary('hooked-blind', { steps: [{ percentage: 1, holdSeconds: 0.1, maxHoldSeconds: 0.3 }, { percentage: 100, holdSeconds: 0 }], guard: GUARD });
    const blind = await deliveries('hooked-blind', 'rollout.paused');
    expect(blind.map((d) => d.type)).toEqual(['rollout.started', 'rollout.paused']);
    expect(blind[1]).toMatchObject({ action: 'rollout-plan.pause', actor: { type: 'system' }, after: { state: 'paused', stepIndex: 0 } });
    expect(blind[1]!.reason).toMatch(/^insufficient-data: /);
  });
});
