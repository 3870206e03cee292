import { request as httpRequest, Agent } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, createTestDatabase } from './helpers.js';
import { ServerProcess } from '@aviary/test-support';
import { adminCall, serverBuild, sleep, SseReader, waitFor } from './real-processes.js';

// The built server as a process (main.ts sets the HTTP timeouts), with short limits so the test
// sees them fire: 5 failed authentications per address per minute, headers within 1 s, a whole
// request within 2 s, kept-alive connections idle for up to 3 s.
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let server: ServerProcess;
let port: number;
let serverKey: string;

beforeAll(async () => {
  db = await createTestDatabase();
  server = await ServerProcess.start({ name: 'limits', entry: join(serverBuild(), 'apps/server/src/main.js'), env: {
    DATABASE_URL: db.url,
    AVIARY_ADMIN_TOKEN: ADMIN_TOKEN,
    AVIARY_AUTH_FAILURE_LIMIT: '5',
    AVIARY_HTTP_HEADERS_TIMEOUT_MS: '1000',
    AVIARY_HTTP_REQUEST_TIMEOUT_MS: '2000',
    AVIARY_HTTP_KEEP_ALIVE_TIMEOUT_MS: '3000',
  } });
  port = Number(new URL(server.url).port);
  const created = await adminCall(server.url, ADMIN_TOKEN, 'POST', '/api/v1/api-keys', { name: 'sdk', kind: 'server', environment: 'production' });
  serverKey = created.body.secret as string;
});

afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

interface Answer {
  status: number;
  retryAfter?: string;
  body: string;
}

/** One request from a chosen loopback address (127.0.0.0/8 all reach the server on 127.0.0.1). */
function from(address: string, path: string, token?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, path, localAddress: address, agent: false, headers: token === undefined ? {} : { Authorization: `Bearer ${token}` } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('failed authentication, per client address', () => {
  it('answers 401 up to the limit, then 429 with Retry-After, before looking any key up', async () => {
    const attacker = '127.0.0.2';
    // A good key this address used before the failures: it keeps working.
    expect((await from(attacker, '/sdk/v1/ruleset', serverKey)).status).toBe(200);
    const paths = ['/api/v1/flags', '/sdk/v1/ruleset', '/api/v1/flags', '/sdk/v1/ruleset'];
    for (const path of paths) expect((await from(attacker, path, `avs_wrong_${path.length}_0123456789abcdef`)).status).toBe(401);
    expect((await from(attacker, '/api/v1/flags')).status).toBe(401); // no key at all counts too
    const refused = await from(attacker, '/api/v1/flags', 'ava_guess_0123456789abcdef0123456789');
    expect(refused.status).toBe(429);
    expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    expect(Number(refused.retryAfter)).toBeLessThanOrEqual(60);
    expect(JSON.parse(refused.body).message).toMatch(/^Too many failed authentications from this address \(more than 5 in 60 s\); retry in \d+ s$/);
    expect((await from(attacker, '/sdk/v1/ruleset')).status).toBe(429);
    // Even the right admin key waits (admin keys are never cached, so it would need a lookup)...
    expect((await from(attacker, '/api/v1/flags', ADMIN_TOKEN)).status).toBe(429);
    // ...but an SDK key this instance verified moments ago still gets its rulesets.
    expect((await from(attacker, '/sdk/v1/ruleset', serverKey)).status).toBe(200);
    // Other addresses are not affected, and health checks need no key.
    expect((await from('127.0.0.3', '/api/v1/flags', 'ava_guess_0123456789abcdef0123456789')).status).toBe(401);
    expect((await from('127.0.0.3', '/api/v1/flags', ADMIN_TOKEN)).status).toBe(200);
    expect((await from(attacker, '/healthz')).status).toBe(200);
  });
});

/** Opens a raw connection and reports when (ms after opening) and how the server ended it. */
function rawConnection(): Promise<{ socket: Socket; closed: Promise<{ afterMs: number; received: string }> }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      const opened = Date.now();
      let received = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (received += chunk));
      const closed = new Promise<{ afterMs: number; received: string }>((done) => socket.once('close', () => done({ afterMs: Date.now() - opened, received })));
      resolve({ socket, closed });
    });
    socket.once('error', reject);
  });
}

describe('slow and idle clients', () => {
  it('closes a connection that sends nothing', async () => {
    const { closed } = await rawConnection();
    const { afterMs } = await closed;
    expect(afterMs).toBeGreaterThanOrEqual(900);
    expect(afterMs).toBeLessThan(5_000);
  });

  it('closes a slowloris connection that sends a header line every 200 ms, answering 408', async () => {
    const { socket, closed } = await rawConnection();
    socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    let line = 0;
    const drip = setInterval(() => socket.writable && socket.write(`X-Drip-${line++}: a\r\n`), 200);
    const { afterMs, received } = await closed;
    clearInterval(drip);
    expect(received).toMatch(/^HTTP\/1\.1 408/);
    expect(afterMs).toBeLessThan(5_000);
  });

  it('answers 408 and closes when a body never completes', async () => {
    const { socket, closed } = await rawConnection();
    socket.write(`POST /api/v1/flags HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"key":`);
    const { afterMs, received } = await closed;
    expect(received).toMatch(/^HTTP\/1\.1 408/);
    expect(afterMs).toBeGreaterThanOrEqual(1_900);
    expect(afterMs).toBeLessThan(6_000);
    expect((await adminCall(server.url, ADMIN_TOKEN, 'GET', '/api/v1/flags')).body.items).toEqual([]);
  });

  it('keeps a kept-alive connection for reuse past the headers timeout', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const sockets: Socket[] = [];
    const get = () =>
      new Promise<number>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port, path: '/healthz', agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('socket', (socket) => sockets.push(socket));
        req.on('error', reject);
        req.end();
      });
    try {
      expect(await get()).toBe(200);
      await sleep(1_500);
      expect(await get()).toBe(200);
      expect(sockets[1]).toBe(sockets[0]);
    } finally {
      agent.destroy();
    }
  });

  it('leaves streams open past every timeout, and they keep delivering', async () => {
    const reader = await SseReader.open(server.url, serverKey);
    try {
      await sleep(4_000);
      expect(reader.ended).toBe(false);
      await adminCall(server.url, ADMIN_TOKEN, 'POST', '/api/v1/flags', { key: 'after-the-timeouts' });
      await waitFor('the change on the stream', () => reader.events.some((e) => e.data.includes('after-the-timeouts')));
    } finally {
      reader.close();
    }
  });
});
