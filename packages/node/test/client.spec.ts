import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AviaryClient, AviaryEvents } from '../src/client.js';
import { AuthenticationError } from '../src/errors/authentication-error.js';
import type { AviaryOptions } from '../src/options.js';
import { baseRuleset, clientFactory } from './support/fixtures.js';
import { format, sleep, startAviary, waitFor, type FakeAviary } from './support/aviary-server.js';

const user = { key: 'user-42', country: 'NL' };

let server: FakeAviary | undefined;
const clients = clientFactory();

afterEach(async () => {
  vi.unstubAllGlobals();
  await clients.closeAll();
  await server?.close();
  server = undefined;
});

function collect<K extends keyof AviaryEvents>(client: AviaryClient, event: K): AviaryEvents[K][] {
  const seen: AviaryEvents[K][] = [];
  client.on(event, (payload) => seen.push(payload));
  return seen;
}

/** Creates clients (closed after each test) with `extra` options under each test's own. */
function withOptions(extra: Partial<AviaryOptions>) {
  return { create: (options: Partial<AviaryOptions> & { url: string }) => clients.create({ ...extra, ...options }) };
}

// The stream goes over node:http by default and through `fetch` when the caller passes one: the
// client's behaviour must not depend on which.
const transports = [
  { transport: 'node:http' as const, options: {} },
  { transport: 'fetch' as const, options: { fetch: (input: string, init?: RequestInit) => fetch(input, init) } },
];

describe.each(transports)('streaming client (stream over $transport)', ({ transport, options: transportOptions }) => {
  // Every client in here streams over `transport`.
  const clients = withOptions(transportOptions);

  it('is ready with the ruleset from the stream and evaluates locally', async () => {
    server = await startAviary(baseRuleset);
    const client = clients.create({ url: server.url });
    const ready = collect(client, 'ready');
    expect(client.status).toBe('offline');

    await client.ready();

    expect(client.initialized).toBe(true);
    expect(client.revision).toBe(10);
    expect(client.status).toBe('streaming');
    expect(ready).toEqual([{ revision: 10 }]);
    expect(server.streamRequests[0]).toMatchObject({ authorization: 'Bearer avs_test', lastEventId: undefined, answer: 'ruleset', transport });
    expect(client.isEnabled('beta', user)).toBe(true);
    expect(client.isEnabled('beta', { key: 'user-1', country: 'DE' })).toBe(false);
    expect(client.evaluate('beta', user)).toMatchObject({ enabled: true, reason: 'RULE_MATCH', ruleId: 'nl' });
    expect(['blue', 'green']).toContain(client.variant('new-checkout', user));
    expect(client.evaluate('dormant', user)).toMatchObject({ enabled: false, reason: 'DISABLED' });
    expect(Object.keys(client.allFlags(user))).toEqual(Object.keys(baseRuleset.flags).sort());
  });

  it('returns the caller fallback for missing and broken flags', async () => {
    server = await startAviary(baseRuleset);
    const client = clients.create({ url: server.url });
    await client.ready();

    expect(client.isEnabled('missing', user)).toBe(false);
    expect(client.isEnabled('missing', user, true)).toBe(true);
    expect(client.evaluate('missing', user).reason).toBe('FLAG_NOT_FOUND');
    expect(client.evaluate('broken', user)).toMatchObject({ enabled: false, reason: 'ERROR' });
    expect(client.isEnabled('broken', user, true)).toBe(true);
    expect(client.variant('missing', user)).toBeUndefined();
    expect(client.variant('missing', user, 'control')).toBe('control');
    expect(client.variant('dormant', user, 'control')).toBe('control');
    expect(client.variant('beta', user, 'control')).toBe('control');
    expect(() => client.isEnabled('beta', 'not a context' as never)).not.toThrow();
  });

  it('applies change events and tells listeners which flags changed', async () => {
    server = await startAviary(baseRuleset);
    const client = clients.create({ url: server.url });
    await client.ready();
    const changes = collect(client, 'change');

    const revision = server.change({
      flags: { beta: { key: 'beta', enabled: true }, dormant: null, fresh: { key: 'fresh', enabled: true } },
    });

    await waitFor(() => client.revision === revision, 2_000, 'the change');
    expect(changes).toEqual([{ revision: 11, flags: ['beta', 'dormant', 'fresh'], cohorts: [] }]);
    expect(client.isEnabled('beta', { key: 'user-1', country: 'DE' })).toBe(true);
    expect(client.evaluate('dormant', user).reason).toBe('FLAG_NOT_FOUND');
    expect(client.isEnabled('fresh', user)).toBe(true);
  });

  it('applies a kill and emits kill before change', async () => {
    server = await startAviary(baseRuleset);
    const client = clients.create({ url: server.url });
    await client.ready();
    const order: string[] = [];
    client.on('kill', (event) => order.push(`kill:${event.flags.join()}`));
    client.on('change', (event) => order.push(`change:${event.flags.join()}`));
    client.on('kill', () => order.push(`served:${client.isEnabled('beta', user)}`));

    server.kill('beta');

    await waitFor(() => order.length === 3, 2_000, 'the kill');
    expect(order).toEqual(['kill:beta', 'served:false', 'change:beta']);
    expect(client.evaluate('beta', user)).toMatchObject({ enabled: false, reason: 'DISABLED' });
  });

  it('applies every event of one chunk before any listener runs (a kill is never behind a listener)', async () => {
    server = await startAviary(baseRuleset);
    const client = clients.create({ url: server.url });
    await client.ready();
    const seenInChange: boolean[] = [];
    const order: string[] = [];
    client.on('kill', (event) => order.push(`kill ${event.revision}`));
    client.on('change', (event) => order.push(`change ${event.revision}`));
    client.on('change', (event) => event.revision === 11 && seenInChange.push(client.isEnabled('beta', user)));

    const killed = { ...baseRuleset.flags['beta']!, enabled: false };
    server.sendRaw(
      format('change', 11, JSON.stringify({ flags: { fresh: { key: 'fresh', enabled: true } } })) +
        format('kill', 12, JSON.stringify({ flags: { beta: killed } })),
    );

    await waitFor(() => client.revision === 12, 2_000, 'both events');
    expect(seenInChange).toEqual([false]);
    expect(order).toEqual(['kill 12', 'change 11', 'change 12']);
  });

  it('resumes with Last-Event-ID and gets only the missed changes', async () => {
    server = await startAviary(baseRuleset);
    const client = clients.create({ url: server.url, initialReconnectDelayMs: 200, maxReconnectDelayMs: 200 });
    await client.ready();
    server.change({ flags: { fresh: { key: 'fresh', enabled: true } } });
    await waitFor(() => client.revision === 11);

    server.dropStreams();
    server.change({ flags: { fresh: { key: 'fresh', enabled: false } } });
    server.change({ flags: { other: { key: 'other', enabled: true } } });

    await waitFor(() => client.revision === 13, 3_000, 'the replay');
    expect(server.streamRequests).toHaveLength(2);
    expect(server.streamRequests[1]).toMatchObject({ lastEventId: '11', answer: 'replay' });
    expect(client.isEnabled('fresh', user)).toBe(false);
    expect(client.isEnabled('other', user)).toBe(true);
    await waitFor(() => client.status === 'streaming');
  });

  it('reloads the whole ruleset, without Last-Event-ID, when a revision is skipped', async () => {
    server = await startAviary(baseRuleset);
    const client = clients.create({ url: server.url });
    await client.ready();

    // The server moves to 12 but the client only hears about 12 (missing 11).
    server.ruleset = {
      ...server.ruleset,
      revision: 12,
      flags: { ...server.ruleset.flags, fresh: { key: 'fresh', enabled: true }, gapped: { key: 'gapped', enabled: true } },
    };
    server.sendRaw(format('change', 12, JSON.stringify({ flags: { gapped: { key: 'gapped', enabled: true } } })));

    await waitFor(() => client.revision === 12, 2_000, 'the reload');
    expect(server.streamRequests).toHaveLength(2);
    expect(server.streamRequests[1]).toMatchObject({ lastEventId: undefined, answer: 'ruleset' });
    expect(client.isEnabled('fresh', user)).toBe(true);
    expect(client.isEnabled('gapped', user)).toBe(true);
  });

  it('never lets the revision go backwards', async () => {
    server = await startAviary(baseRuleset);
    const client = clients.create({ url: server.url });
    await client.ready();
    const changes = collect(client, 'change');

    const older = { ...baseRuleset, revision: 9, flags: { beta: { key: 'beta', enabled: false } } };
    server.sendRaw(format('ruleset', 9, JSON.stringify(older)));
    server.sendRaw(format('change', 10, JSON.stringify({ flags: { beta: { key: 'beta', enabled: false } } })));
    server.sendRaw(format('kill', 8, JSON.stringify({ flags: { beta: { key: 'beta', enabled: false } } })));
    server.change({ flags: { fresh: { key: 'fresh', enabled: true } } });

    await waitFor(() => client.revision === 11, 2_000, 'revision 11');
    expect(changes.map((change) => change.revision)).toEqual([11]);
    expect(client.isEnabled('beta', user)).toBe(true);
    expect(server.streamRequests).toHaveLength(1);
  });

  it('treats a silent stream as dead after the heartbeat timeout and reconnects', async () => {
    server = await startAviary(baseRuleset);
    server.streamMode = 'silent';
    const client = clients.create({ url: server.url, heartbeatTimeoutMs: 150 });
    const errors = collect(client, 'error');
    await client.ready();

    await waitFor(() => server!.streamRequests.length >= 2, 2_000, 'a reconnect');
    expect(errors.some((error) => error.code === 'HEARTBEAT_TIMEOUT')).toBe(true);
    expect(server.streamRequests[1]!.lastEventId).toBe('10');
  });

  it('keeps a stream with pings open past the heartbeat timeout', async () => {
    server = await startAviary(baseRuleset);
    server.pingMs = 20;
    const client = clients.create({ url: server.url, heartbeatTimeoutMs: 400 });
    await client.ready();
    await sleep(1_000);
    expect(server.streamRequests).toHaveLength(1);
    expect(client.status).toBe('streaming');
  });

  it('falls back to ETag polling after repeated stream failures and returns to streaming', async () => {
    server = await startAviary(baseRuleset);
    server.streamMode = 'fail';
    const client = clients.create({ url: server.url, streamFailuresBeforePolling: 3, pollIntervalMs: 50 });
    const statuses = collect(client, 'status');
    await client.ready();

    expect(client.revision).toBe(10);
    await waitFor(() => client.status === 'polling');
    expect(server.streamRequests.length).toBeGreaterThanOrEqual(3);
    await waitFor(() => server!.rulesetRequests.some((request) => request.status === 304), 2_000, 'a 304');
    expect(server.rulesetRequests[0]).toMatchObject({ ifNoneMatch: undefined, status: 200 });
    expect(server.rulesetRequests.at(-1)).toMatchObject({ ifNoneMatch: '"10"', status: 304 });

    server.change({ flags: { fresh: { key: 'fresh', enabled: true } } });
    await waitFor(() => client.revision === 11, 2_000, 'the change by polling');
    expect(client.isEnabled('fresh', user)).toBe(true);

    server.pingMs = 20;
    server.streamMode = 'ok';
    await waitFor(() => client.status === 'streaming', 3_000, 'streaming again');
    expect(server.streamRequests.at(-1)).toMatchObject({ lastEventId: '11', answer: 'nothing' });
    const polls = server.rulesetRequests.length;
    await sleep(200);
    expect(server.rulesetRequests.length).toBe(polls);
    expect(statuses.map((s) => s.status)).toEqual(['polling', 'streaming']);

    server.change({ flags: { fresh: { key: 'fresh', enabled: false } } });
    await waitFor(() => client.revision === 12, 2_000, 'the change by streaming');
  });

  it('keeps polling when the stream answers 200 but nothing ever arrives (a buffering proxy)', async () => {
    server = await startAviary(baseRuleset);
    server.streamMode = 'mute';
    const client = clients.create({ url: server.url, heartbeatTimeoutMs: 80, streamFailuresBeforePolling: 2 });
    const errors = collect(client, 'error');
    await client.ready();
    expect(client.status).toBe('polling');
    await waitFor(() => server!.streamRequests.length >= 4, 3_000, 'more stream attempts');
    expect(client.status).toBe('polling');
    expect(errors.every((error) => error.code === 'HEARTBEAT_TIMEOUT')).toBe(true);

    server.change({ flags: { fresh: { key: 'fresh', enabled: true } } });
    await waitFor(() => client.revision === 11, 2_000, 'the change by polling');
  });

  it('polls only when streaming is off', async () => {
    server = await startAviary(baseRuleset);
    const client = clients.create({ url: server.url, streaming: false });
    await client.ready();
    expect(client.status).toBe('polling');
    await waitFor(() => server!.rulesetRequests.length >= 3);
    expect(server.streamRequests).toHaveLength(0);
    expect(server.rulesetRequests.slice(1).every((request) => request.status === 304)).toBe(true);
  });

  it('ignores a polled ruleset older than the one it has', async () => {
    server = await startAviary(baseRuleset);
    const client = clients.create({ url: server.url, streaming: false });
    await client.ready();
    server.ruleset = { ...server.ruleset, revision: 5, flags: {} };
    await waitFor(() => server!.rulesetRequests.some((request) => request.status === 200 && request.ifNoneMatch === '"10"'));
    expect(client.revision).toBe(10);
    expect(client.isEnabled('beta', user)).toBe(true);
  });

  it('serves the bootstrap while the server is down, then becomes ready and changes when it comes up', async () => {
    server = await startAviary({ ...baseRuleset, revision: 20, flags: { beta: { key: 'beta', enabled: false } } }, { listen: false });
    const bootstrap = { ...baseRuleset, revision: 3 };
    const client = clients.create({ url: server.url, bootstrap, readyTimeoutMs: 150, pollIntervalMs: 100 });
    const ready = collect(client, 'ready');
    const changes = collect(client, 'change');
    const kills = collect(client, 'kill');

    expect(client.isEnabled('beta', user)).toBe(true);
    expect(client.revision).toBe(3);
    const started = Date.now();
    await client.ready();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(client.initialized).toBe(false);
    expect(client.status).toBe('offline');
    expect(client.isEnabled('beta', user)).toBe(true);
    expect(client.logger.lines.some((line) => line.level === 'warn' && /not ready after 150 ms; serving the bootstrap/.test(line.message))).toBe(true);

    await server.listen();
    await waitFor(() => ready.length === 1, 3_000, 'ready');
    expect(ready).toEqual([{ revision: 20 }]);
    expect(client.isEnabled('beta', user)).toBe(false);
    expect(kills).toEqual([{ revision: 20, flags: ['beta'] }]);
    expect(changes[0]?.revision).toBe(20);
    expect(client.initialized).toBe(true);
  });

  it('answers with fallbacks, and settles ready() at the timeout, when the server never answers', async () => {
    server = await startAviary(baseRuleset);
    server.streamMode = 'hang';
    // Before the client exists: its ready timer starts when it is created.
    const started = Date.now();
    const client = clients.create({ url: server.url, readyTimeoutMs: 100, heartbeatTimeoutMs: 5_000 });
    await client.ready();
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(90);
    expect(waited).toBeLessThan(1_000);
    expect(client.revision).toBeUndefined();
    expect(client.isEnabled('beta', user)).toBe(false);
    expect(client.isEnabled('beta', user, true)).toBe(true);
    expect(client.variant('new-checkout', user, 'control')).toBe('control');
    expect(client.evaluate('beta', user).reason).toBe('FLAG_NOT_FOUND');
    expect(client.allFlags(user)).toEqual({});
  });

  it('settles ready() when the port is closed too', async () => {
    server = await startAviary(baseRuleset, { listen: false });
    const client = clients.create({ url: server.url, readyTimeoutMs: 100 });
    await client.ready();
    expect(client.status).toBe('offline');
  });

  it.each([
    [401, 'avs_wrong', /unknown or missing \(401 Unauthorized\); check the `sdkKey` option.*unknown key/],
    [403, 'avc_client', /wrong kind.*\(403 Forbidden\).*server key \(avs_…\)/],
  ])('reports a refused key (%i) once, clearly, and stops connecting', async (status, sdkKey, message) => {
    server = await startAviary(baseRuleset);
    const client = clients.create({ url: server.url, sdkKey, readyTimeoutMs: 5_000 });
    const errors = collect(client, 'error');
    const started = Date.now();
    await client.ready();
    expect(Date.now() - started).toBeLessThan(1_000);

    await sleep(300);
    expect(errors).toHaveLength(1);
    const error = errors[0]!;
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error).toMatchObject({ code: 'AUTHENTICATION', status, fatal: true });
    expect(error.message).toMatch(message);
    expect(server.streamRequests).toHaveLength(1);
    expect(server.rulesetRequests).toHaveLength(0);
    expect(client.status).toBe('offline');
    expect(client.logger.lines.filter((line) => line.level === 'error')).toHaveLength(1);
    expect(client.isEnabled('beta', user, true)).toBe(true);
  });

  it('stops polling too on a refused key', async () => {
    server = await startAviary(baseRuleset);
    const client = clients.create({ url: server.url, sdkKey: 'avs_wrong', streaming: false });
    const errors = collect(client, 'error');
    await client.ready();
    await sleep(200);
    expect(errors.map((error) => error.code)).toEqual(['AUTHENTICATION']);
    expect(server.rulesetRequests).toHaveLength(1);
  });

  it('keeps serving the last good ruleset while the server is gone', async () => {
    server = await startAviary(baseRuleset);
    const client = clients.create({ url: server.url, streamFailuresBeforePolling: 2 });
    await client.ready();
    await server.close();
    await waitFor(() => client.status === 'offline');
    await sleep(200);
    expect(client.revision).toBe(10);
    expect(client.isEnabled('beta', user)).toBe(true);
  });

  it('stops everything on close() and still answers', async () => {
    server = await startAviary(baseRuleset);
    const client = clients.create({ url: server.url });
    await client.ready();
    await client.close();
    await client.close();
    expect(client.status).toBe('offline');
    await waitFor(() => server!.openStreams() === 0);
    server.change({ flags: { beta: { key: 'beta', enabled: false } } });
    await sleep(100);
    expect(client.revision).toBe(10);
    expect(client.isEnabled('beta', user)).toBe(true);
  });
});

describe('stream transport', () => {
  it('streams through the global fetch when it was replaced after the SDK loaded (a test double, an interceptor)', async () => {
    server = await startAviary(baseRuleset);
    const seen: string[] = [];
    const original = globalThis.fetch;
    vi.stubGlobal('fetch', (input: string, init?: RequestInit) => {
      seen.push(input);
      return original(input, init);
    });
    const client = clients.create({ url: server.url });
    await client.ready();
    expect(seen).toEqual([`${server.url}/sdk/v1/stream?protocol=2`]);
    expect(server.streamRequests[0]).toMatchObject({ transport: 'fetch' });
    server.kill('beta');
    await waitFor(() => client.revision === 11, 2_000, 'the kill');
  });
});

describe('options', () => {
  it('warns about bad options and uses the defaults', async () => {
    server = await startAviary(baseRuleset);
    const client = clients.create({
      url: server.url,
      pollIntervalMs: -5,
      readyTimeoutMs: 'soon' as never,
      streaming: 'yes' as never,
      heartbeatTimeoutMs: 1e100,
      bootstrap: { flags: 'none' } as never,
    });
    await client.ready();
    const warnings = client.logger.lines.filter((line) => line.level === 'warn').map((line) => line.message);
    expect(warnings).toEqual([
      'option "bootstrap" is not a ruleset ({ environment, revision, flags, cohorts }); ignoring it',
      'option "streaming" must be a boolean; got "yes", using true',
      'option "pollIntervalMs" must be a number from 1 to 2147483647; got -5, using 30000',
      'option "readyTimeoutMs" must be a number from 0 to 2147483647; got "soon", using 5000',
      'option "heartbeatTimeoutMs" must be a number from 1 to 2147483647; got 1e+100, using 45000',
    ]);
    expect(client.status).toBe('streaming');
  });

  it.each([
    [{ url: '' }, /option "url" is required/],
    [{ url: 'flags.example.com' }, /option "url" must be an absolute http\(s\) URL; got "flags.example.com"/],
    [{ url: 'http://127.0.0.1:1', sdkKey: '' }, /option "sdkKey" is required/],
  ])('reports unusable options %j as an error and serves offline', async (options, message) => {
    const client = clients.create(options);
    const errors = collect(client, 'error');
    await client.ready();
    await waitFor(() => errors.length === 1);
    expect(errors[0]).toMatchObject({ code: 'CONFIGURATION' });
    expect(errors[0]!.message).toMatch(message);
    expect(client.status).toBe('offline');
    expect(client.isEnabled('beta', user, true)).toBe(true);
  });

  it('serves the bootstrap without any connection when offline', async () => {
    const client = clients.create({ url: undefined as never, sdkKey: undefined as never, offline: true, bootstrap: baseRuleset });
    await client.ready();
    expect(client.isEnabled('beta', user)).toBe(true);
    expect(client.status).toBe('offline');
    expect(client.logger.lines.filter((line) => line.level !== 'debug')).toEqual([]);
  });

  it('keeps a throwing listener from breaking the client', async () => {
    server = await startAviary(baseRuleset);
    const client = clients.create({ url: server.url });
    client.on('ready', () => {
      throw new Error('listener bug');
    });
    await client.ready();
    expect(client.logger.lines.some((line) => line.level === 'error' && line.message.includes('"ready" listener threw'))).toBe(true);
    server.change({ flags: { fresh: { key: 'fresh', enabled: true } } });
    await waitFor(() => client.revision === 11);
  });
});
