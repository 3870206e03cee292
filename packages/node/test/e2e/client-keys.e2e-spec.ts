import { evaluate, type Ruleset } from '@aviary/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin, startServer, createDatabase, openStream, waitFor, type TestDatabase, type ServerProcess } from './support/harness.js';

// Browser-safe rulesets over the real server: a client key sees only client-visible flags, and in
// cohort lists only the requesting user's own key. The key goes in the Authorization header.
let db: TestDatabase;
let server: ServerProcess;
let admin: Admin;
let clientKey: string;
let serverKey: string;

const OTHERS = ['bob', 'carol', 'mallory', 'dave'];
const nl = { attribute: 'country', operator: 'in', values: ['NL'] };

beforeAll(async () => {
  db = await createDatabase();
  server = await startServer({ name: 'S', databaseUrl: db.url });
  admin = new Admin(server.url);
  clientKey = await admin.createKey('client');
  serverKey = await admin.createKey('server');
  await admin.request('POST', '/cohorts', { key: 'beta', conditions: [nl] });
  await admin.request('POST', '/cohorts/beta/members', { add: ['alice', 'bob', 'carol'], exclude: ['mallory'] });
  await admin.createFlag('web-banner', { clientVisible: true });
  await admin.configure('web-banner', { enabled: true, rules: [{ id: 'beta', conditions: [], cohorts: ['beta'] }] });
  await admin.createFlag('server-only');
  await admin.configure('server-only', { enabled: true });
}, 60_000);

afterAll(async () => {
  await server?.kill();
  await db?.drop();
});

async function getRuleset(key: string, query = ''): Promise<{ status: number; etag: string | null; text: string; body: Ruleset }> {
  const res = await fetch(`${server.url}/sdk/v1/ruleset${query}`, { headers: { authorization: `Bearer ${key}` } });
  const text = await res.text();
  return { status: res.status, etag: res.headers.get('etag'), text, body: JSON.parse(text) as Ruleset };
}

describe('GET /sdk/v1/ruleset with a client key', () => {
  it('carries only client-visible flags and only the user\'s own key in cohort lists', async () => {
    const revision = await admin.revision();
    const { status, etag, text, body } = await getRuleset(clientKey, '?key=alice');
    expect(status).toBe(200);
    expect(etag).toBe(`"${revision}"`);
    expect(body.revision).toBe(revision);
    expect(Object.keys(body.flags)).toEqual(['web-banner']);
    expect(body.cohorts).toEqual({ beta: { key: 'beta', included: ['alice'], excluded: [], conditions: [nl] } });
    for (const other of [...OTHERS, 'server-only']) expect(text).not.toContain(other);
    // The cut ruleset still answers correctly for its own user.
    expect(evaluate(body, 'web-banner', { key: 'alice', country: 'DE' })).toMatchObject({ enabled: true, reason: 'RULE_MATCH' });
    expect(evaluate(body, 'server-only', { key: 'alice' })).toMatchObject({ enabled: false, reason: 'FLAG_NOT_FOUND' });
  });

  it('an excluded user sees only itself in `excluded`; an unlisted user and no key see empty lists', async () => {
    const mallory = await getRuleset(clientKey, '?key=mallory');
    expect(mallory.body.cohorts.beta).toMatchObject({ included: [], excluded: ['mallory'] });
    expect(evaluate(mallory.body, 'web-banner', { key: 'mallory', country: 'NL' }).enabled).toBe(false);
    const stranger = await getRuleset(clientKey, '?key=erin');
    expect(stranger.body.cohorts.beta).toMatchObject({ included: [], excluded: [] });
    expect(evaluate(stranger.body, 'web-banner', { key: 'erin', country: 'NL' }).enabled).toBe(true); // by the cohort's condition
    const none = await getRuleset(clientKey);
    expect(none.body.cohorts.beta).toMatchObject({ included: [], excluded: [] });
    for (const r of [mallory, stranger, none]) for (const other of ['alice', 'bob', 'carol']) expect(r.text).not.toContain(other);
  });

  it('a server key, for contrast, sees every flag and every member', async () => {
    const { body } = await getRuleset(serverKey);
    expect(Object.keys(body.flags).sort()).toEqual(['server-only', 'web-banner']);
    expect(body.cohorts.beta).toMatchObject({ included: ['alice', 'bob', 'carol'], excluded: ['mallory'] });
  });
});

describe('GET /sdk/v1/stream with a client key', () => {
  it('sends the client ruleset, then client patches: hidden flags dropped, cohorts cut to the user, visibility changes applied', async () => {
    const stream = await openStream(`${server.url}/sdk/v1/stream?key=alice`, { authorization: `Bearer ${clientKey}` });
    try {
      expect(stream.status).toBe(200);
      await waitFor('the first event', () => stream.events.length > 0, 3_000);
      const first = stream.events[0]!;
      expect(first.event).toBe('ruleset');
      const start = Number(first.id);
      expect(JSON.parse(first.data)).toEqual((await getRuleset(clientKey, '?key=alice')).body);

      // A hidden flag changes: the event comes (revisions stay dense) with nothing of the flag in it.
      const r1 = await admin.configure('server-only', { enabled: true, rules: [{ id: 'half', conditions: [], rollout: { percentage: 50 } }] });
      await admin.request('POST', '/cohorts/beta/members', { add: ['dave'] });
      const r2 = await admin.revision();
      const r3 = await admin.kill('web-banner');
      await admin.request('PATCH', '/flags/server-only', { clientVisible: true }); // becomes visible
      const r4 = await admin.revision();
      await admin.request('PATCH', '/flags/web-banner', { clientVisible: false }); // becomes hidden
      const r5 = await admin.revision();

      await waitFor(`events up to revision ${r5}`, () => stream.events.some((e) => Number(e.id) === r5), 3_000);
      const events = stream.events.slice(1);
      const byRevision = new Map(events.map((e) => [Number(e.id), { event: e.event, data: JSON.parse(e.data) as Record<string, unknown> }]));
      // Every revision arrives, in order, with no gap (some carry nothing this user may see).
      expect(events.map((e) => Number(e.id))).toEqual(Array.from({ length: r5 - start }, (_, i) => start + 1 + i));
      expect(events.every((e) => e.event === 'change' || e.event === 'kill')).toBe(true);

      // A hidden flag's change still advances the revision, but nothing of it, not even its key, is sent.
      expect(byRevision.get(r1)).toEqual({ event: 'change', data: { revision: r1, flags: {} } });
      expect(events.filter((e) => Number(e.id) < r4).some((e) => e.data.includes('server-only'))).toBe(false);
      expect(byRevision.get(r2)!.data).toEqual({ revision: r2, cohorts: { beta: { key: 'beta', included: ['alice'], excluded: [], conditions: [nl] } } });
      expect(byRevision.get(r3)).toMatchObject({ event: 'kill', data: { revision: r3, flags: { 'web-banner': { enabled: false } } } });
      expect(byRevision.get(r4)!.data).toMatchObject({ revision: r4, flags: { 'server-only': { key: 'server-only', enabled: true, rules: [{ id: 'half' }] } } });
      expect(byRevision.get(r5)!.data).toMatchObject({ revision: r5, flags: { 'web-banner': null } });
      for (const other of OTHERS) expect(stream.body()).not.toContain(other);
      expect(stream.body()).not.toContain('clientVisible');
    } finally {
      stream.close();
    }
  });

  it('a client key cannot read the admin API, and an unknown key gets a 401', async () => {
    const admin403 = await fetch(`${server.url}/api/v1/flags`, { headers: { authorization: `Bearer ${clientKey}` } });
    expect(admin403.status).toBe(403);
    const unknown = await openStream(`${server.url}/sdk/v1/stream?key=alice`, { authorization: 'Bearer avc_unknown_unknown_unknown' });
    expect(unknown.status).toBe(401);
    expect(JSON.parse(unknown.body())).toMatchObject({ statusCode: 401, message: expect.stringContaining('Unknown') });
  });
});
