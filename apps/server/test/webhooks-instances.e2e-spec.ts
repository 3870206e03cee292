import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { adminRequest, ServerProcess } from '@aviary/test-support';
import { ADMIN_TOKEN, createTestDatabase } from './helpers.js';
import { serverBuild, waitFor } from './real-processes.js';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
const servers: ServerProcess[] = [];
const received: string[] = [];
const hung: ServerResponse[] = [];
let hang = true;
let secret = '';

const receiver = createServer((req: IncomingMessage, res: ServerResponse) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    // While hanging, a delivery is taken and never answered: its sender is mid-delivery.
    if (hang) {
      hung.push(res);
      return;
    }
    new Webhook(secret).verify(Buffer.concat(chunks).toString('utf8'), req.headers as Record<string, string>);
    received.push(String(req.headers['webhook-id']));
    res.writeHead(204).end();
  });
});

let entry = '';
const start = (name: string) =>
  ServerProcess.start({
    name,
    entry,
    env: {
      DATABASE_URL: db.url,
      AVIARY_ADMIN_TOKEN: ADMIN_TOKEN,
      AVIARY_WEBHOOK_ALLOW_PRIVATE: 'true',
      AVIARY_WEBHOOK_POLL_MS: '100',
      AVIARY_WEBHOOK_RETRY_BASE_MS: '50',
    },
  });

beforeAll(async () => {
  entry = join(serverBuild(), 'apps/server/src/main.js');
  db = await createTestDatabase();
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  for (const server of servers) await server.kill();
  receiver.closeAllConnections();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
  await db?.drop();
});

it('an instance killed (SIGKILL) mid-delivery: another delivers every event once the receiver is back', async () => {
  const a = await start('a');
  servers.push(a);
  const admin = (method: string, path: string, body?: unknown) => adminRequest(a.url, ADMIN_TOKEN, method, path, body);
  const port = (receiver.address() as AddressInfo).port;
  const created = await admin('POST', '/webhooks', { url: `http://127.0.0.1:${port}/hook`, events: ['flag.config.updated'] });
  secret = (created as { secret: string }).secret;
  await admin('POST', '/flags', { key: 'survivor' });
  const writes = 20;
  for (let i = 0; i < writes; i++) await admin('PUT', '/environments/production/flags/survivor/rollout', { percentage: i });
  await waitFor('a delivery in flight', () => hung.length > 0 || undefined);
  await a.kill();
  for (const res of hung) res.destroy();
  hang = false;
  const b = await start('b');
  servers.push(b);
  // The dead instance's lease runs out, then b sends that delivery again and the rest in order.
  await waitFor('every event', () => new Set(received).size >= writes || undefined, 60_000).catch((err: Error) => {
    throw new Error(`${err.message}: ${new Set(received).size} of ${writes}\n${b.output.slice(-20).join('\n')}`);
  });
  expect(new Set(received).size).toBe(writes);
  // The delivery a died in was never answered, so each event was received exactly once.
  expect(received.length).toBe(writes);
}, 120_000);
