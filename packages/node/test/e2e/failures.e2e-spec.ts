import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthenticationError, ConnectionError, createClient, type AviaryClient, type AviaryError, type KillEvent, type Ruleset } from '../../src/index.js';
import { Admin, startServer, createDatabase, memoryLogger, now, recordingFetch, sleep, waitFor, type StreamConnection, type TestDatabase, type ServerProcess } from './support/harness.js';

// One server (no Redis: the in-process bus), stopped and started again for the "down at start" case.
let db: TestDatabase;
let server: ServerProcess;
let admin: Admin;
let sdkKey: string;
const open: AviaryClient[] = [];

beforeAll(async () => {
  db = await createDatabase();
  server = await startServer({ name: 'S', databaseUrl: db.url });
  admin = new Admin(server.url);
  sdkKey = await admin.createKey('server');
  // On the server the flag exists and is off (new flags start disabled).
  await admin.createFlag('new-checkout');
}, 60_000);

afterAll(async () => {
  await Promise.all(open.map((c) => c.close()));
  await server?.kill();
  await db?.drop();
});

function client(options: Partial<Parameters<typeof createClient>[0]> & { sdkKey: string }) {
  const errors: AviaryError[] = [];
  const log = memoryLogger();
  const wire: StreamConnection[] = [];
  const polls: number[] = [];
  const c = createClient({ url: server.url, logger: log, sendMetrics: false, fetch: recordingFetch(wire, polls), ...options });
  c.on('error', (e) => errors.push(e));
  open.push(c);
  return { client: c, errors, log, wire, polls };
}

describe('a bad key', () => {
  it('an unknown key: one clear 401 error (event and log), ready() settles at once, no retries', async () => {
    const started = now();
    const { client: c, errors, log, wire, polls } = client({ sdkKey: 'avs_this_key_does_not_exist_0000000000' });
    await c.ready();
    expect(now() - started).toBeLessThan(2_000);
    await sleep(1_000);

    expect(errors).toHaveLength(1);
    const error = errors[0]!;
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error).toMatchObject({ code: 'AUTHENTICATION', status: 401, fatal: true });
    expect(error.message).toContain('rejected as unknown or missing (401 Unauthorized)');
    expect(error.message).toContain(`GET ${server.url}/sdk/v1/stream`);
    expect(error.message).toContain('Server said: "Unknown or revoked API key"');
    expect(log.lines.filter((l) => l.startsWith('error:'))).toEqual([`error: ${error.message}`]);
    expect(c.initialized).toBe(false);
    expect(c.status).toBe('offline');
    expect(c.isEnabled('new-checkout', { key: 'u1' }, true)).toBe(true); // the caller's fallback
    expect(wire).toHaveLength(1);
    expect(polls).toEqual([]);
  });

  it('a key of the wrong kind (an admin key): a 403 that says which key is needed', async () => {
    const { client: c, errors } = client({ sdkKey: await admin.createKey('admin') });
    await c.ready();
    await waitFor('the error', () => errors.length > 0, 2_000);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'AUTHENTICATION', status: 403, fatal: true });
    expect(errors[0]!.message).toContain('wrong kind for this endpoint (403 Forbidden)');
    expect(errors[0]!.message).toMatch(/Server said: ".*needs a server or client key"/);
  });
});

describe('the server down at start', () => {
  it('answers from the bootstrap ruleset, then is ready with the server\'s ruleset when it comes up', async () => {
    const serverRevision = await admin.revision();
    await server.kill();
    const bootstrap: Ruleset = {
      environment: 'production',
      revision: 1,
      flags: { 'new-checkout': { key: 'new-checkout', version: 1, enabled: true, salt: 'new-checkout', variants: [], rules: [], prerequisites: [] } },
      cohorts: {},
    };
    const { client: c, errors, log } = client({ sdkKey, bootstrap, readyTimeoutMs: 500, initialReconnectDelayMs: 100, maxReconnectDelayMs: 500 });
    const ready: number[] = [];
    const kills: KillEvent[] = [];
    c.on('ready', (e) => ready.push(e.revision));
    c.on('kill', (e) => kills.push(e));

    const started = now();
    await c.ready(); // settles at readyTimeoutMs with the bootstrap
    expect(now() - started).toBeLessThan(2_000);
    expect(c.initialized).toBe(false);
    expect(c.status).toBe('offline');
    expect(c.revision).toBe(1);
    expect(c.evaluate('new-checkout', { key: 'u1' })).toMatchObject({ enabled: true, reason: 'DEFAULT' });
    await waitFor('connection errors', () => errors.length >= 2, 3_000);
    expect(errors.every((e) => e instanceof ConnectionError && !e.fatal)).toBe(true);
    expect(errors[0]!.message).toContain(`GET ${server.url}/sdk/v1/stream?protocol=2 failed`);
    expect(log.lines.some((l) => /not ready after 500 ms; serving the bootstrap ruleset \(revision 1\)/.test(l))).toBe(true);
    expect(ready).toEqual([]);

    await server.start();
    await waitFor('the ready event', () => ready.length > 0, 5_000);
    expect(ready).toEqual([serverRevision]);
    expect(c.initialized).toBe(true);
    expect(c.revision).toBe(serverRevision);
    await waitFor('streaming', () => c.status === 'streaming', 3_000);
    // The server's ruleset replaces the bootstrap; the difference is told as a kill.
    expect(c.evaluate('new-checkout', { key: 'u1' })).toMatchObject({ enabled: false, reason: 'DISABLED' });
    expect(kills).toEqual([{ revision: serverRevision, flags: ['new-checkout'] }]);

    // And it streams: a change through the server arrives.
    const revision = await admin.configure('new-checkout', { enabled: true });
    await waitFor('the change', () => c.revision === revision, 2_000);
    expect(c.isEnabled('new-checkout', { key: 'u1' })).toBe(true);
  }, 30_000);
});
