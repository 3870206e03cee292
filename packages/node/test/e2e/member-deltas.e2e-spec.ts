import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type AviaryClient, type ChangeEvent } from '../../src/index.js';
import { Admin, createDatabase, memoryLogger, recordingFetch, startServer, waitFor, type ServerProcess, type StreamConnection, type TestDatabase } from './support/harness.js';

// Protocol 2 over the real server: a one-member change of a 200,000-member cohort reaches the SDK
// as a `members` delta of a few bytes, is evaluated, and a resume across deltas replays them.

const MEMBERS = 200_000;
const member = (i: number) => `customer-${String(i).padStart(7, '0')}@example.com`;
let db: TestDatabase;
let server: ServerProcess;
let admin: Admin;
let sdkKey: string;
const clients: AviaryClient[] = [];

beforeAll(async () => {
  db = await createDatabase();
  server = await startServer({ name: 'S', databaseUrl: db.url });
  admin = new Admin(server.url);
  sdkKey = await admin.createKey('server');
  await admin.request('POST', '/cohorts', { key: 'beta' });
  for (let i = 0; i < MEMBERS; i += 100_000) {
    await admin.request('POST', '/cohorts/beta/members', { add: Array.from({ length: 100_000 }, (_, j) => member(i + j)) });
  }
  await admin.createFlag('beta-feature');
  await admin.configure('beta-feature', { enabled: true, rules: [{ id: 'beta', cohorts: ['beta'] }] });
}, 120_000);

afterAll(async () => {
  for (const client of clients) client.close();
  await server?.kill();
  await db?.drop();
});

function connect(wire: StreamConnection[]): AviaryClient {
  const client = createClient({ url: server.url, sdkKey, logger: memoryLogger(), sendMetrics: false, fetch: recordingFetch(wire), initialReconnectDelayMs: 100, maxReconnectDelayMs: 400 });
  clients.push(client);
  return client;
}

describe('membership deltas on the stream (protocol 2)', () => {
  it('one member added, then removed: the SDK evaluates each, from a delta of under 2 KB', async () => {
    const wire: StreamConnection[] = [];
    const client = connect(wire);
    await client.ready();
    const changes: ChangeEvent[] = [];
    client.on('change', (e) => changes.push(e));
    expect(client.isEnabled('beta-feature', { key: member(7) })).toBe(true);
    expect(client.isEnabled('beta-feature', { key: 'newcomer@example.com' })).toBe(false);

    const added = await admin.request<{ counts: { included: number } }>('POST', '/cohorts/beta/members', { add: ['newcomer@example.com'] });
    expect(added.counts.included).toBe(MEMBERS + 1);
    await waitFor('the addition', () => client.isEnabled('beta-feature', { key: 'newcomer@example.com' }));
    await admin.request('POST', '/cohorts/beta/members', { remove: [member(7)] });
    await waitFor('the removal', () => !client.isEnabled('beta-feature', { key: member(7) }));
    expect(client.isEnabled('beta-feature', { key: member(8) })).toBe(true);

    const [first, ...rest] = wire[0]!.events;
    expect(first!.event).toBe('ruleset');
    expect(rest.map((e) => [e.event, JSON.parse(e.data).members])).toEqual([
      ['change', { beta: { include: ['newcomer@example.com'] } }],
      ['change', { beta: { remove: [member(7)] } }],
    ]);
    for (const e of rest) expect(e.data.length).toBeLessThan(2_000);
    expect(changes.map((e) => e.cohorts)).toEqual([['beta'], ['beta']]);
  });

  it('resumes with Last-Event-ID across deltas: exactly the missed ones, no whole ruleset', async () => {
    const wire: StreamConnection[] = [];
    const client = connect(wire);
    await client.ready();
    const held = client.revision!;
    // Stop the server while the SDK holds `held`, write two deltas through another instance of the
    // same database, then bring the first back: the SDK reconnects to it with Last-Event-ID.
    await server.kill();
    const other = await startServer({ name: 'S2', databaseUrl: db.url });
    try {
      const writer = new Admin(other.url);
      await writer.request('POST', '/cohorts/beta/members', { add: ['late-1@example.com'] });
      await writer.request('POST', '/cohorts/beta/members', { exclude: [member(9)] });
    } finally {
      await other.kill();
    }
    await server.start();
    await waitFor('both deltas', () => client.isEnabled('beta-feature', { key: 'late-1@example.com' }) && !client.isEnabled('beta-feature', { key: member(9) }), 20_000);
    const resumed = wire.find((c) => c.lastEventId === String(held) && c.status === 200)!;
    expect(resumed.events.map((e) => [e.event, Number(e.id)])).toEqual([
      ['change', held + 1],
      ['change', held + 2],
    ]);
    expect(client.isEnabled('beta-feature', { key: 'newcomer@example.com' })).toBe(true);
  }, 60_000);
});
