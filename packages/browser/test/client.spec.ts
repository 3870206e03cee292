import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createClient, type AviaryClient, type AviaryEvents, type ClientOptions } from '../src/index.js';
import { FakeEventSource, fakeFetch, flag, json, memoryStorage, ruleset } from './fakes.js';

const URL_ = 'https://flags.example.com/';
const SLOT = (key: string) => `aviary:https://flags.example.com/sdk/v1/:avc_test:${key}`;

let clients: AviaryClient[] = [];
let fetchMock: ReturnType<typeof fakeFetch>;
let storage: ReturnType<typeof memoryStorage>;

function client(options: Partial<ClientOptions> = {}): AviaryClient {
  const c = createClient({ url: URL_, clientKey: 'avc_test', context: { key: 'user-1', country: 'NL' }, storage, logger: { warn: () => {} }, ...options });
  clients.push(c);
  return c;
}

beforeEach(() => {
  vi.useFakeTimers({ now: 1_764_172_800_000 });
  FakeEventSource.opened = [];
  vi.stubGlobal('EventSource', FakeEventSource);
  fetchMock = fakeFetch(() => new Response(null, { status: 202 }));
  vi.stubGlobal('fetch', fetchMock);
  storage = memoryStorage();
});

afterEach(() => {
  for (const c of clients) c.close();
  clients = [];
  vi.unstubAllGlobals();
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('startup and ready()', () => {
  it('answers the fallback until the first ruleset, then evaluates locally', async () => {
    const c = client();
    const ready = vi.fn();
    c.on('ready', ready);
    expect(c.isEnabled('new-checkout', true)).toBe(true);
    expect(c.evaluate('new-checkout').reason).toBe('FLAG_NOT_FOUND');

    const stream = FakeEventSource.last;
    expect(stream.url.startsWith('https://flags.example.com/sdk/v1/stream?')).toBe(true);
    expect(stream.params.get('clientKey')).toBe('avc_test');
    expect(stream.params.get('key')).toBe('user-1');
    expect(stream.params.has('lastEventId')).toBe(false);

    stream.open();
    stream.send('ruleset', 5, ruleset(5, { 'new-checkout': flag('new-checkout') }));
    await c.ready();
    await vi.advanceTimersByTimeAsync(0);
    expect(ready).toHaveBeenCalledTimes(1);
    expect(ready).toHaveBeenCalledWith({ revision: 5 });
    expect(c.isEnabled('new-checkout')).toBe(true);
    expect(c.status).toBe('streaming');
  });

  it('never hangs: ready() resolves after readyTimeoutMs with nothing loaded', async () => {
    const c = client({ readyTimeoutMs: 1_000 });
    let done = false;
    void c.ready().then(() => (done = true));
    await vi.advanceTimersByTimeAsync(999);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(done).toBe(true);
    expect(c.isEnabled('anything', true)).toBe(true);
  });

  it('emits ready once, when the first ruleset is in place, also after ready() settled by timeout', async () => {
    const c = client({ readyTimeoutMs: 1_000 });
    const ready: unknown[] = [];
    c.on('ready', (event) => ready.push(event));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(ready).toEqual([]);
    FakeEventSource.last.send('ruleset', 8, ruleset(8, {}));
    FakeEventSource.last.send('change', 9, { revision: 9, flags: { a: flag('a') } });
    await vi.advanceTimersByTimeAsync(0);
    expect(ready).toEqual([{ revision: 8 }]);
  });

  it('announces a bootstrap as ready to listeners attached right after createClient', async () => {
    const c = client({ bootstrap: ruleset(3, {}) });
    const ready = vi.fn();
    c.on('ready', ready);
    await c.ready();
    expect(ready).toHaveBeenCalledWith({ revision: 3 });
    expect(c.revision).toBe(3);
  });

  it('starts instantly from the stored ruleset of this user and resumes from its revision', async () => {
    storage.items.set(SLOT('user-1'), JSON.stringify(ruleset(7, { a: flag('a') })));
    const c = client();
    await c.ready();
    expect(c.isEnabled('a')).toBe(true);
    expect(FakeEventSource.last.params.get('lastEventId')).toBe('7');
  });

  it('serves a bootstrap ruleset at once (SSR) and revalidates it', async () => {
    const c = client({ bootstrap: ruleset(3, { a: flag('a', { enabled: false }) }) });
    await c.ready();
    expect(c.isEnabled('a', true)).toBe(false);
    expect(FakeEventSource.last.params.get('lastEventId')).toBe('3');
    FakeEventSource.last.send('change', 4, { revision: 4, flags: { a: flag('a') } });
    expect(c.isEnabled('a')).toBe(true);
  });

  it('keeps working when storage throws', async () => {
    storage = memoryStorage({ throws: true });
    const c = client();
    FakeEventSource.last.send('ruleset', 1, ruleset(1, { a: flag('a') }));
    await c.ready();
    expect(c.isEnabled('a')).toBe(true);
    expect(storage.setItem).toHaveBeenCalled();
  });

  it('persists every applied update under url + clientKey + context key', () => {
    client();
    FakeEventSource.last.send('ruleset', 1, ruleset(1, { a: flag('a') }));
    FakeEventSource.last.send('kill', 2, { revision: 2, flags: { a: flag('a', { enabled: false }) } });
    const stored = JSON.parse(storage.items.get(SLOT('user-1'))!);
    expect(stored.revision).toBe(2);
    expect(stored.flags.a.enabled).toBe(false);
  });
});

describe('stream events (docs/protocol.md)', () => {
  let c: AviaryClient;
  let stream: FakeEventSource;
  beforeEach(() => {
    c = client();
    stream = FakeEventSource.last;
    stream.open();
    stream.send('ruleset', 10, ruleset(10, { a: flag('a'), b: flag('b') }, { beta: { key: 'beta', included: ['user-1'] } }));
  });

  it('applies a change patch: upserts, removes with null, emits change with the revision and the flags touched', () => {
    const changes: AviaryEvents['change'][] = [];
    c.on('change', (change) => changes.push(change));
    stream.send('change', 11, { revision: 11, flags: { a: flag('a', { enabled: false }), b: null, c: flag('c') } });
    expect(c.isEnabled('a', true)).toBe(false);
    expect(c.evaluate('b').reason).toBe('FLAG_NOT_FOUND');
    expect(c.isEnabled('c')).toBe(true);
    expect(c.revision).toBe(11);
    expect(changes).toEqual([{ revision: 11, flags: ['a', 'b', 'c'], cohorts: [] }]);
  });

  it('names the cohorts a patch touches', () => {
    const changes: AviaryEvents['change'][] = [];
    c.on('change', (change) => changes.push(change));
    stream.send('change', 11, { revision: 11, cohorts: { beta: null } });
    expect(changes).toEqual([{ revision: 11, flags: [], cohorts: ['beta'] }]);
  });

  it('ignores events whose revision is not above its own', () => {
    const change = vi.fn();
    c.on('change', change);
    stream.send('change', 10, { revision: 10, flags: { a: null } });
    stream.send('ruleset', 9, ruleset(9, {}));
    expect(c.isEnabled('a')).toBe(true);
    expect(change).not.toHaveBeenCalled();
  });

  it('takes a lower ruleset marked as a reset (the server lost its history), stores it unmarked, and goes on from it', () => {
    const changes: unknown[] = [];
    c.on('change', (flags) => changes.push(flags));
    stream.send('ruleset', 4, { ...ruleset(4, { b: flag('b', { enabled: false }) }), reset: true });
    expect(c.evaluate('a').reason).toBe('FLAG_NOT_FOUND');
    expect(c.isEnabled('b', true)).toBe(false);
    expect(changes).toHaveLength(1);
    const stored = JSON.parse(storage.items.get(SLOT('user-1'))!);
    expect(stored.revision).toBe(4);
    expect('reset' in stored).toBe(false);
    stream.send('change', 5, { revision: 5, flags: { b: flag('b') } });
    expect(c.isEnabled('b')).toBe(true);
    // A reset needs a revision; one without is unreadable, not a reason to move back.
    stream.send('ruleset', Number.NaN, { reset: true, flags: {} });
    expect(c.isEnabled('b')).toBe(true);
  });

  it('reloads on a gap: reconnects without lastEventId and does not apply the change', () => {
    stream.send('change', 12, { revision: 12, flags: { a: null } });
    expect(c.isEnabled('a')).toBe(true);
    expect(stream.closed).toBe(true);
    const reload = FakeEventSource.last;
    expect(reload).not.toBe(stream);
    expect(reload.params.has('lastEventId')).toBe(false);
    reload.send('ruleset', 12, ruleset(12, { b: flag('b') }));
    expect(c.evaluate('a').reason).toBe('FLAG_NOT_FOUND');
  });

  it('applies a kill at revision + 1 and emits kill before change', () => {
    const order: string[] = [];
    c.on('kill', (kill) => order.push(`kill ${kill.revision} ${kill.flags.join()}`));
    c.on('change', (change) => order.push(`change ${change.revision} ${change.flags.join()}`));
    stream.send('kill', 11, { revision: 11, flags: { a: flag('a', { enabled: false }) } });
    expect(c.evaluate('a').reason).toBe('DISABLED');
    expect(order).toEqual(['kill 11 a', 'change 11 a']);
  });

  it('treats a kill across a gap like any missed revision: not applied, the reload brings it', () => {
    const kills: AviaryEvents['kill'][] = [];
    c.on('kill', (kill) => kills.push(kill));
    stream.send('kill', 14, { revision: 14, flags: { a: flag('a', { enabled: false }) } });
    expect(c.isEnabled('a')).toBe(true);
    expect(kills).toEqual([]);
    const reload = FakeEventSource.last;
    expect(reload).not.toBe(stream);
    expect(reload.params.has('lastEventId')).toBe(false);
    reload.send('ruleset', 14, ruleset(14, { a: flag('a', { enabled: false }), b: flag('b') }));
    expect(c.isEnabled('a', true)).toBe(false);
    expect(kills).toEqual([{ revision: 14, flags: ['a'] }]);
  });

  it('on() returns the unsubscribe function, and off() unsubscribes too', () => {
    const seen: number[] = [];
    const first = (change: AviaryEvents['change']) => seen.push(change.revision);
    const second = (change: AviaryEvents['change']) => seen.push(-change.revision);
    const unsubscribe = c.on('change', first);
    c.on('change', second);
    stream.send('change', 11, { revision: 11, flags: { c: flag('c') } });
    unsubscribe();
    c.off('change', second);
    stream.send('change', 12, { revision: 12, flags: { c: null } });
    expect(seen).toEqual([11, -11]);
  });

  it('reports unreadable data as a PROTOCOL error and keeps the ruleset', () => {
    const errors: string[] = [];
    c.on('error', (e) => errors.push(e.code));
    stream.send('ruleset', 20, { nope: true });
    expect(errors).toEqual(['PROTOCOL']);
    expect(c.isEnabled('a')).toBe(true);
  });
});

describe('reconnect, backoff and polling fallback', () => {
  it('closes the failed EventSource and reopens it after a full-jitter exponential delay, resuming', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.999);
    const c = client();
    const errors: string[] = [];
    c.on('error', (e) => errors.push(e.code));
    FakeEventSource.last.open();
    FakeEventSource.last.send('ruleset', 4, ruleset(4, {}));
    const delays: number[] = [];
    for (let i = 0; i < 2; i++) {
      const failed = FakeEventSource.last;
      failed.fail();
      expect(failed.closed).toBe(true);
      const count = FakeEventSource.opened.length;
      let waited = 0;
      while (FakeEventSource.opened.length === count) {
        await vi.advanceTimersByTimeAsync(100);
        waited += 100;
      }
      delays.push(waited);
    }
    expect(delays).toEqual([1_000, 2_000]);
    expect(FakeEventSource.last.params.get('lastEventId')).toBe('4');
    expect(errors).toEqual(['CONNECTION', 'CONNECTION']);
    expect(c.status).toBe('offline');
  });

  it('reopens a stream that went silent past the heartbeat timeout, resuming from its revision', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const c = client({ heartbeatTimeoutMs: 45_000 });
    const first = FakeEventSource.last;
    first.open();
    first.send('ruleset', 5, ruleset(5, { a: flag('a') }));
    // Pings keep it open well past the timeout.
    for (let i = 0; i < 4; i++) {
      await vi.advanceTimersByTimeAsync(15_000);
      first.ping();
    }
    expect(FakeEventSource.opened).toHaveLength(1);
    expect(first.closed).toBe(false);
    // Then silence: a dead connection that never errored.
    const errors: string[] = [];
    c.on('error', (e) => errors.push(e.code));
    await vi.advanceTimersByTimeAsync(45_000);
    expect(first.closed).toBe(true);
    expect(errors).toEqual(['HEARTBEAT_TIMEOUT']);
    expect(c.status).toBe('offline');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(FakeEventSource.opened).toHaveLength(2);
    expect(FakeEventSource.last.params.get('lastEventId')).toBe('5');
  });

  it('falls back to polling with If-None-Match after 3 failures, and back to streaming once it opens', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    fetchMock.mockImplementation(async (input) => {
      const url = String(input);
      if (url.includes('/ruleset')) return json(ruleset(8, { a: flag('a') }), 200, { etag: '"8"' });
      return new Response(null, { status: 202 });
    });
    const c = client({ pollIntervalMs: 5_000 });
    const statuses: string[] = [];
    c.on('status', ({ status, previous }) => statuses.push(`${previous}->${status}`));
    for (let i = 0; i < 3; i++) {
      FakeEventSource.last.fail();
      await vi.advanceTimersByTimeAsync(0);
    }
    const polls = () => fetchMock.mock.calls.filter(([u]) => String(u).includes('/sdk/v1/ruleset'));
    expect(polls()).toHaveLength(1);
    const pollUrl = new URL(String(polls()[0]![0]));
    expect(pollUrl.searchParams.get('clientKey')).toBe('avc_test');
    expect(pollUrl.searchParams.get('key')).toBe('user-1');
    expect(c.status).toBe('polling');
    expect(c.isEnabled('a')).toBe(true);

    fetchMock.mockImplementation(async () => new Response(null, { status: 304 }));
    await vi.advanceTimersByTimeAsync(5_000);
    expect(polls()).toHaveLength(2);
    expect(new Headers(polls()[1]![1]?.headers).get('if-none-match')).toBe('"8"');
    expect(c.isEnabled('a')).toBe(true);

    FakeEventSource.last.open();
    expect(c.status).toBe('streaming');
    await vi.advanceTimersByTimeAsync(20_000);
    expect(polls()).toHaveLength(2);
    c.close();
    expect(statuses).toEqual(['offline->polling', 'polling->streaming', 'streaming->offline']);
  });

  it('polls only when streaming is off, and reports a refused key as AUTHENTICATION', async () => {
    fetchMock.mockImplementation(async () => json({ statusCode: 401 }, 401));
    const c = client({ streaming: false, pollIntervalMs: 1_000 });
    const errors: string[] = [];
    c.on('error', (e) => errors.push(e.code));
    await vi.advanceTimersByTimeAsync(0);
    expect(FakeEventSource.opened).toHaveLength(0);
    expect(errors).toEqual(['AUTHENTICATION']);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(errors).toEqual(['AUTHENTICATION', 'AUTHENTICATION']);
    expect(c.status).toBe('offline');
  });

  it('close() stops every timer and connection', async () => {
    const c = client();
    FakeEventSource.last.fail();
    c.close();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(FakeEventSource.opened).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('setContext', () => {
  it('re-fetches when the key changes, from the new user stored ruleset if any', async () => {
    storage.items.set(SLOT('user-2'), JSON.stringify(ruleset(30, { a: flag('a', { enabled: false }) })));
    const c = client();
    FakeEventSource.last.send('ruleset', 31, ruleset(31, { a: flag('a') }));
    const first = FakeEventSource.last;
    await c.setContext({ key: 'user-2' });
    expect(first.closed).toBe(true);
    expect(FakeEventSource.last.params.get('key')).toBe('user-2');
    expect(FakeEventSource.last.params.get('lastEventId')).toBe('30');
    expect(c.isEnabled('a', true)).toBe(false);
  });

  it('resolves when the new user ruleset arrives, even at a revision not above the old one', async () => {
    const c = client();
    FakeEventSource.last.send('ruleset', 9, ruleset(9, { a: flag('a', { enabled: false }) }));
    let done = false;
    const switched = c.setContext({ key: 'user-3' }).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(done).toBe(false);
    expect(FakeEventSource.last.params.has('lastEventId')).toBe(false);
    FakeEventSource.last.send('ruleset', 9, ruleset(9, { a: flag('a') }));
    await switched;
    expect(c.isEnabled('a')).toBe(true);
  });

  it('keeps the connection when only attributes change', async () => {
    const c = client({
      bootstrap: ruleset(1, { nl: flag('nl', { rules: [{ id: 'r', conditions: [{ attribute: 'country', operator: 'in', values: ['NL'] }] }] }) }),
    });
    expect(c.isEnabled('nl')).toBe(true);
    await c.setContext({ key: 'user-1', country: 'DE' });
    expect(FakeEventSource.opened).toHaveLength(1);
    expect(c.isEnabled('nl')).toBe(false);
    expect(c.evaluate('nl', { key: 'user-1', country: 'NL' }).enabled).toBe(true);
  });
});

describe('evaluation answers', () => {
  const c = () =>
    client({
      bootstrap: ruleset(1, {
        split: flag('split', {
          variants: [
            { key: 'blue', value: { color: '#00f' }, weight: 1 },
            { key: 'green', weight: 0 },
          ],
        }),
        off: flag('off', { enabled: false, variants: [{ key: 'blue', weight: 1 }] }),
        broken: { key: 'broken', enabled: true, rules: [{ id: 'r', rollout: { percentage: 150 } }] },
      }),
    });

  it.each([
    ['split', false, true, 'blue'],
    ['off', true, false, 'fallback'],
    ['broken', true, true, 'fallback'],
    ['missing', true, true, 'fallback'],
  ])('%s: isEnabled(fallback %s) = %s, variant = %s', (key, fallback, enabled, variant) => {
    const client = c();
    expect(client.isEnabled(key, fallback)).toBe(enabled);
    expect(client.variant(key, 'fallback')).toBe(variant);
  });

  it('returns the full result from evaluate', () => {
    expect(c().evaluate('split')).toEqual({ enabled: true, reason: 'DEFAULT', variant: 'blue', value: { color: '#00f' } });
    expect(c().evaluate('broken')).toMatchObject({ enabled: false, reason: 'ERROR', errorCode: 'INVALID_FLAG' });
  });
});

describe('metrics', () => {
  const posted = () =>
    fetchMock.mock.calls
      .filter(([u]) => String(u).includes('/sdk/v1/metrics'))
      .map(([u, init]) => ({ url: String(u), init: init!, body: JSON.parse(String(init!.body)) }));

  it('batches exposures and tracked events and POSTs them with keepalive every 10 s', async () => {
    const c = client({
      bootstrap: ruleset(1, { a: flag('a', { variants: [{ key: 'blue', weight: 1 }] }), b: flag('b', { enabled: false }) }),
    });
    c.isEnabled('a');
    c.variant('a');
    c.isEnabled('b');
    c.isEnabled('missing');
    c.track('error');
    c.track('purchase', { value: 20 });
    c.track('purchase', { value: 5 });
    await vi.advanceTimersByTimeAsync(10_000);
    const [report, ...more] = posted();
    expect(more).toHaveLength(0);
    expect(report!.url).toBe('https://flags.example.com/sdk/v1/metrics?clientKey=avc_test');
    expect(report!.init).toMatchObject({ method: 'POST', keepalive: true });
    expect(report!.body).toEqual({
      start: 1_764_172_800_000,
      end: 1_764_172_810_000,
      exposures: [
        { flag: 'a', enabled: true, variant: 'blue', count: 2 },
        { flag: 'b', enabled: false, variant: null, count: 1 },
      ],
      events: [
        { event: 'error', flag: 'a', enabled: true, variant: 'blue', count: 1, sum: 0, sumSquares: 0 },
        { event: 'error', flag: 'b', enabled: false, variant: null, count: 1, sum: 0, sumSquares: 0 },
        { event: 'purchase', flag: 'a', enabled: true, variant: 'blue', count: 2, sum: 25, sumSquares: 425 },
        { event: 'purchase', flag: 'b', enabled: false, variant: null, count: 2, sum: 25, sumSquares: 425 },
      ],
    });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(posted()).toHaveLength(1);
  });

  it('reports on pagehide and on close', async () => {
    const handlers = new Map<string, () => void>();
    vi.stubGlobal('addEventListener', (type: string, handler: () => void) => handlers.set(type, handler));
    vi.stubGlobal('removeEventListener', (type: string) => handlers.delete(type));
    const c = client({ bootstrap: ruleset(1, { a: flag('a') }) });
    c.isEnabled('a');
    handlers.get('pagehide')!();
    expect(posted()).toHaveLength(1);
    c.isEnabled('a');
    c.close();
    expect(posted()).toHaveLength(2);
    expect(handlers.has('pagehide')).toBe(false);
  });

  it('reports the previous user exposures when the user changes', async () => {
    const c = client({ bootstrap: ruleset(1, { a: flag('a') }) });
    c.isEnabled('a');
    void c.setContext({ key: 'user-2' });
    expect(posted()).toHaveLength(1);
  });
});
