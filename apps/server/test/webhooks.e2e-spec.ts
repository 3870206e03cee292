import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChangeLogService } from '../src/changes/change-log.service.js';
import { auth, createTestDatabase, startApp, type TestApp, withClient } from './helpers.js';

/** A receiver on 127.0.0.1 that verifies every delivery with the `standardwebhooks` library. */
class Receiver {
  readonly received: Array<{ id: string; body: Record<string, unknown> }> = [];
  readonly unverified: string[] = [];
  secret?: string;
  /** The next this many requests are answered 500. */
  failNext = 0;
  private server?: Server;
  port = 0;

  async start(port = 0): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (this.failNext > 0) {
          this.failNext--;
          res.writeHead(500).end('not now');
          return;
        }
        try {
          const verified = new Webhook(this.secret!).verify(body, req.headers as Record<string, string>) as Record<string, unknown>;
          this.received.push({ id: String(req.headers['webhook-id']), body: verified });
          res.writeHead(204).end();
        } catch (err) {
          this.unverified.push((err as Error).message);
          res.writeHead(400).end('bad signature');
        }
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server!.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }
}

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let t: TestApp;
const api = () => request(t.url);

async function until<T>(what: string, read: () => Promise<T> | T, done: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value).slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  db = await createTestDatabase();
  t = await startApp({ DATABASE_URL: db.url, AVIARY_PUBLIC_URL: 'https://flags.example.com', AVIARY_WEBHOOK_ALLOW_PRIVATE: 'true', AVIARY_WEBHOOK_RETRY_BASE_MS: '50', AVIARY_WEBHOOK_POLL_MS: '100' });
});

afterAll(async () => {
  await t?.close();
  await db?.drop();
});

describe('webhook subscriptions', () => {
  it('answers the secret once, never again, and refuses bad fields by name', async () => {
    const created = await api().post('/api/v1/webhooks').set(auth()).send({ url: 'http://127.0.0.1:9/x', events: ['flag.killed'] }).expect(201);
    expect(created.body.secret).toMatch(/^whsec_[A-Za-z0-9+/=]{40,}$/);
    expect(created.body).toMatchObject({ format: 'standard', enabled: true, environments: null });
    const listed = await api().get('/api/v1/webhooks').set(auth()).expect(200);
    expect(JSON.stringify(listed.body)).not.toContain(created.body.secret);
    expect(JSON.stringify(listed.body)).not.toContain('"secret"');
    const stored = await withClient(db.url, (c) => c.query('SELECT secret FROM webhooks WHERE id = $1', [created.body.id]));
    expect(Buffer.from(stored.rows[0].secret).toString('latin1')).not.toContain(created.body.secret.slice(6, 20));

    const bad = async (body: object, field: string) => {
      const res = await api().post('/api/v1/webhooks').set(auth()).send(body).expect(400);
      expect(JSON.stringify(res.body)).toContain(field);
    };
    await bad({ url: 'ftp://example.com/x', events: ['*'] }, 'url');
    await bad({ url: 'http://127.0.0.1:9/x', events: ['flag.exploded'] }, 'events');
    await bad({ url: 'http://127.0.0.1:9/x', events: [] }, 'events');
    await bad({ url: 'http://127.0.0.1:9/x', events: ['*'], environments: ['nowhere'] }, 'environments');
    await bad({ url: 'http://127.0.0.1:9/x', events: ['*'], format: 'teams' }, 'format');
    await api().get('/api/v1/webhooks/00000000-0000-0000-0000-000000000000').set(auth()).expect(404);
    await api().delete(`/api/v1/webhooks/${created.body.id}`).set(auth()).expect(204);
  });

  it('refuses loopback, private, link-local and metadata targets unless allowed', async () => {
    const strict = await startApp({ DATABASE_URL: db.url });
    try {
      for (const url of ['http://127.0.0.1:8080/x', 'http://localhost/x', 'http://10.1.2.3/x', 'http://192.168.0.1/x', 'http://169.254.169.254/latest/meta-data', 'http://[::1]/x', 'http://0.0.0.0/x']) {
        const res = await request(strict.url).post('/api/v1/webhooks').set(auth()).send({ url, events: ['*'] }).expect(400);
        expect(JSON.stringify(res.body)).toMatch(/url: .*non-public address/);
      }
    } finally {
      await strict.close();
    }
  });
});

describe('delivery', () => {
  const receiver = new Receiver();
  let hookId: string;

  beforeAll(async () => {
    await receiver.start();
    const created = await api().post('/api/v1/webhooks').set(auth()).send({ url: receiver.url, events: ['flag.config.updated', 'flag.killed'], environments: ['production'] }).expect(201);
    receiver.secret = created.body.secret;
    hookId = created.body.id;
    await api().post('/api/v1/flags').set(auth()).send({ key: 'hooked' }).expect(201);
  });

  afterAll(() => receiver.stop());

  it('500 writes with the receiver failing and then down: every event arrives, signed, in revision order, duplicates only as retries', async () => {
    receiver.failNext = 5;
    const writes = 500;
    // Ten at a time: they serialise on the environment's lock, so revisions still follow commits.
    for (let i = 0; i < writes; i += 10) {
      if (i === 200) await receiver.stop();
      await Promise.all(
        Array.from({ length: 10 }, (_, j) => api().put('/api/v1/environments/production/flags/hooked/rollout').set(auth()).send({ percentage: (i + j) % 101 }).expect(200)),
      );
    }
    // Down for a while, then back on the same port.
    await new Promise((r) => setTimeout(r, 500));
    await receiver.start(receiver.port);
    const unique = () => new Set(receiver.received.map((r) => r.id)).size;
    await until('every event', () => unique(), (n) => n >= writes, 60_000);
    expect(receiver.unverified).toEqual([]);
    expect(unique()).toBe(writes);
    // First arrivals in revision order; a repeated id is the same event again.
    const first = new Map<string, number>();
    for (const { id, body } of receiver.received) {
      const revision = body.revision as number;
      if (first.has(id)) expect(first.get(id)).toBe(revision);
      else first.set(id, revision);
    }
    const revisions = [...first.values()];
    expect(revisions).toEqual([...revisions].sort((a, b) => a - b));
    expect(new Set(revisions).size).toBe(writes);
    // The receiver has every event once its requests arrived; each delivery is marked delivered
    // after the receiver's answer reaches the server, a moment later.
    const deliveries = await until(
      'the last 100 deliveries marked delivered',
      async () => (await api().get(`/api/v1/webhooks/${hookId}/deliveries`).set(auth()).expect(200)).body as Array<{ state: string }>,
      (list) => list.every((d) => d.state === 'delivered'),
    );
    expect(deliveries.length).toBe(100);
  });

  it('a kill arrives with its actor, environment, revision and reason; only the environments subscribed to', async () => {
    receiver.received.length = 0;
    await api().post('/api/v1/environments/development/flags/hooked/kill').set(auth()).send({ reason: 'not here' }).expect(200);
    const kill = await api().post('/api/v1/environments/production/flags/hooked/kill').set(auth()).send({ reason: 'errors up' }).expect(200);
    const [event] = await until('the kill', () => receiver.received.filter((r) => r.body.type === 'flag.killed'), (list) => list.length >= 1);
    expect(event!.body).toMatchObject({
      type: 'flag.killed',
      environment: 'production',
      revision: kill.body.revision,
      reason: 'errors up',
      resource: { type: 'flag-config', key: 'hooked' },
      actor: { type: 'key' },
      link: 'https://flags.example.com/flags/hooked?env=production',
    });
    expect(receiver.received.some((r) => r.body.environment === 'development')).toBe(false);
  });

  it('a write that rolls back sends nothing', async () => {
    const before = await withClient(db.url, (c) => c.query('SELECT count(*)::int AS n FROM webhook_events'));
    const failing = t.app.get(ChangeLogService).write({ keyId: null, name: 'test' }, async (tx) => {
      await tx.record({ action: 'flag-config.kill', resourceType: 'flag-config', resourceKey: 'hooked', environment: 'production', reason: 'rolled back' });
      throw new Error('the write fails after its audit entry');
    });
    await expect(failing).rejects.toThrow('fails after');
    const after = await withClient(db.url, (c) => c.query('SELECT count(*)::int AS n FROM webhook_events'));
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  it('redelivers a delivery with the same id, and sends a test event to one subscription', async () => {
    const [latest] = (await api().get(`/api/v1/webhooks/${hookId}/deliveries`).set(auth()).expect(200)).body as Array<{ id: string; eventId: string }>;
    receiver.received.length = 0;
    await api().post(`/api/v1/webhooks/${hookId}/deliveries/${latest!.id}/redeliver`).set(auth()).expect(202);
    await until('the redelivery', () => receiver.received.map((r) => r.id), (ids) => ids.includes(latest!.eventId));
    const { body } = await api().post(`/api/v1/webhooks/${hookId}/test`).set(auth()).expect(202);
    await until('the test event', () => receiver.received.map((r) => r.id), (ids) => ids.includes(body.eventId));
  });
});

describe('secret rotation', () => {
  it('signs with the new and the previous secret for 24 h, then with the new one only', async () => {
    const raw: Array<{ body: string; headers: Record<string, string> }> = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        raw.push({ body: Buffer.concat(chunks).toString('utf8'), headers: req.headers as Record<string, string> });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
      const created = await api().post('/api/v1/webhooks').set(auth()).send({ url, events: ['flag.killed'] }).expect(201);
      const id = created.body.id as string;
      const verifies = (secret: string, delivery: { body: string; headers: Record<string, string> }) => {
        try {
          new Webhook(secret).verify(delivery.body, delivery.headers);
          return true;
        } catch {
          return false;
        }
      };
      const testDelivery = async () => {
        const { body } = await api().post(`/api/v1/webhooks/${id}/test`).set(auth()).expect(202);
        return (await until('the test event', () => raw.filter((r) => r.headers['webhook-id'] === body.eventId), (list) => list.length >= 1))[0]!;
      };

      const rotated = await api().post(`/api/v1/webhooks/${id}/rotate-secret`).set(auth()).send({ reason: 'yearly rotation' }).expect(200);
      expect(rotated.body.secret).toMatch(/^whsec_/);
      expect(rotated.body.secret).not.toBe(created.body.secret);
      expect(Date.parse(rotated.body.previousSecretValidUntil) - Date.now()).toBeGreaterThan(23.9 * 3600_000);
      expect((await api().get(`/api/v1/webhooks/${id}`).set(auth()).expect(200)).body).not.toHaveProperty('secret');
      const during = await testDelivery();
      expect(during.headers['webhook-signature']!.split(' ')).toHaveLength(2);
      expect(verifies(rotated.body.secret, during)).toBe(true);
      expect(verifies(created.body.secret, during)).toBe(true);

      // 24 h later (the clock moved in the database): only the new secret signs.
      await withClient(db.url, (c) => c.query("UPDATE webhooks SET previous_secret_until = now() - interval '1 second' WHERE id = $1", [id]));
      const after = await testDelivery();
      expect(after.headers['webhook-signature']!.split(' ')).toHaveLength(1);
      expect(verifies(rotated.body.secret, after)).toBe(true);
      expect(verifies(created.body.secret, after)).toBe(false);

      const audit = await api().get(`/api/v1/audit?resourceType=webhook&resource=${id}`).set(auth()).expect(200);
      expect(audit.body.items.map((e: { action: string }) => e.action)).toContain('webhook.rotate-secret');
      await api().post('/api/v1/webhooks/7d0c1f9e-5b7a-4f43-8e21-4c1d2a9b6e30/rotate-secret').set(auth()).send({}).expect(404);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('Slack format', () => {
  it('posts a Block Kit message that reads in one glance', async () => {
    const bodies: Array<{ text: string; blocks: unknown[] }> = [];
    const slack = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => slack.listen(0, '127.0.0.1', resolve));
    try {
      const port = (slack.address() as AddressInfo).port;
      await api().post('/api/v1/webhooks').set(auth()).send({ url: `http://127.0.0.1:${port}/services/T/B/x`, events: ['flag.killed'], format: 'slack' }).expect(201);
      await api().post('/api/v1/flags').set(auth()).send({ key: 'checkout-v2' }).expect(201);
      await api().post('/api/v1/environments/production/flags/checkout-v2/kill').set(auth()).send({ reason: 'errors 20.5 % vs 0.45 %' }).expect(200);
      const [message] = await until('the Slack message', () => bodies, (list) => list.length >= 1);
      expect(message!.text).toMatch(/^🛑 checkout-v2 killed in production by .+: errors 20\.5 % vs 0\.45 %$/);
      expect(message!.blocks[0]).toEqual({ type: 'section', text: { type: 'mrkdwn', text: message!.text } });
    } finally {
      slack.closeAllConnections();
      await new Promise<void>((resolve) => slack.close(() => resolve()));
    }
  });
});
