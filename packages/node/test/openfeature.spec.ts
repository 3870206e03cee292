import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, OpenFeature, ProviderEvents, ProviderStatus, type EventDetails } from '@openfeature/server-sdk';
import { createProvider, toAviaryContext } from '../src/openfeature.js';
import { baseRuleset, fast, recordingLogger } from './support/fixtures.js';
import { startAviary, waitFor, type FakeAviary } from './support/aviary-server.js';

let server: FakeAviary | undefined;
let domain = 0;

afterEach(async () => {
  await OpenFeature.close();
  await server?.close();
  server = undefined;
});

async function connect(options: Record<string, unknown> = {}) {
  const name = `aviary-${(domain += 1)}`;
  const provider = createProvider({ ...fast, logger: recordingLogger(), url: server!.url, ...options });
  const events: { type: string; details?: EventDetails }[] = [];
  const client = OpenFeature.getClient(name);
  for (const type of [ProviderEvents.Ready, ProviderEvents.Error, ProviderEvents.ConfigurationChanged, ProviderEvents.Stale]) {
    client.addHandler(type, (details) => events.push({ type, details }));
  }
  return { provider, client, events, ready: OpenFeature.setProviderAndWait(name, provider) };
}

describe('OpenFeature provider', () => {
  it('resolves booleans, strings, numbers and objects with reasons, variants and error codes', async () => {
    server = await startAviary(baseRuleset);
    const { client, ready } = await connect();
    await ready;
    const nl = { targetingKey: 'u1', country: 'NL' };

    expect(await client.getBooleanDetails('beta', false, nl)).toMatchObject({
      value: true,
      reason: 'TARGETING_MATCH',
      flagMetadata: { aviaryReason: 'RULE_MATCH', ruleId: 'nl', revision: 10 },
    });
    expect(await client.getBooleanDetails('beta', true, { targetingKey: 'u1', country: 'DE' })).toMatchObject({ value: false, reason: 'DEFAULT' });
    expect(await client.getBooleanDetails('dormant', true, nl)).toMatchObject({ value: false, reason: 'DISABLED' });
    expect(await client.getStringDetails('color', 'none', nl)).toMatchObject({ value: '#f00', variant: 'red', reason: 'DEFAULT' });
    expect(await client.getStringDetails('plain', 'none', nl)).toMatchObject({ value: 'only', variant: 'only' });
    expect(await client.getStringDetails('dormant', 'none', nl)).toMatchObject({ value: 'none', reason: 'DISABLED' });
    expect(await client.getNumberDetails('limit', 0, nl)).toMatchObject({ value: 10, variant: 'ten' });
    const object = await client.getObjectDetails('new-checkout', {}, nl);
    expect([{ color: '#00f' }, { color: '#0f0' }]).toContainEqual(object.value);
    expect(['blue', 'green']).toContain(object.variant);

    expect(await client.getNumberDetails('color', 7, nl)).toMatchObject({ value: 7, errorCode: ErrorCode.TYPE_MISMATCH, reason: 'ERROR' });
    expect(await client.getBooleanDetails('missing', true, nl)).toMatchObject({ value: true, errorCode: ErrorCode.FLAG_NOT_FOUND, reason: 'ERROR' });
    expect(await client.getBooleanDetails('broken', true, nl)).toMatchObject({ value: true, errorCode: ErrorCode.PARSE_ERROR, reason: 'ERROR' });
  });

  it('maps the evaluation context', () => {
    const when = new Date('2025-01-02T03:04:05.000Z');
    expect(toAviaryContext({ targetingKey: 'u1', key: 'ignored', plan: 'pro', age: 3, beta: true, signup: when, nested: { a: 1 }, gone: null })).toEqual({
      key: 'u1',
      plan: 'pro',
      age: 3,
      beta: true,
      signup: '2025-01-02T03:04:05.000Z',
    });
    expect(toAviaryContext({ key: 'k1' })).toEqual({ key: 'k1' });
  });

  it('emits ConfigurationChanged on change and on kill', async () => {
    server = await startAviary(baseRuleset);
    const { client, events, ready } = await connect();
    await ready;

    server.change({ flags: { fresh: { key: 'fresh', enabled: true } } });
    server.kill('beta');

    const changed = () => events.filter((event) => event.type === ProviderEvents.ConfigurationChanged);
    await waitFor(() => changed().length === 2, 2_000, 'two configuration changes');
    expect(changed().map((event) => event.details?.flagsChanged)).toEqual([['fresh'], ['beta']]);
    expect(await client.getBooleanValue('beta', true, { targetingKey: 'u1', country: 'NL' })).toBe(false);
  });

  it('is fatal on a refused key', async () => {
    server = await startAviary(baseRuleset);
    const { client, ready } = await connect({ sdkKey: 'avs_wrong' });
    await expect(ready).rejects.toThrow(/401 Unauthorized/);
    expect(client.providerStatus).toBe(ProviderStatus.FATAL);
    expect(await client.getBooleanDetails('beta', true, {})).toMatchObject({ value: true, errorCode: ErrorCode.PROVIDER_FATAL });
  });

  it('is in error until the server comes up, then Ready', async () => {
    server = await startAviary(baseRuleset, { listen: false });
    const { client, events, ready } = await connect({ readyTimeoutMs: 100, pollIntervalMs: 50 });
    await expect(ready).rejects.toThrow(/no ruleset arrived/);
    expect(client.providerStatus).toBe(ProviderStatus.ERROR);
    expect(await client.getBooleanDetails('beta', true, { targetingKey: 'u1', country: 'NL' })).toMatchObject({
      value: true,
      errorCode: ErrorCode.PROVIDER_NOT_READY,
    });

    await server.listen();
    await waitFor(() => client.providerStatus === ProviderStatus.READY, 3_000, 'ready');
    expect(events.some((event) => event.type === ProviderEvents.Ready)).toBe(true);
    expect(await client.getBooleanValue('beta', false, { targetingKey: 'u1', country: 'NL' })).toBe(true);
  });

  it('answers from a bootstrap when the server is away, goes stale when it drops, and ready when it is back', async () => {
    server = await startAviary(baseRuleset);
    const { client, events, ready } = await connect({ bootstrap: baseRuleset, streamFailuresBeforePolling: 100 });
    await ready;
    expect(client.providerStatus).toBe(ProviderStatus.READY);

    server.dropStreams();
    await waitFor(() => events.some((event) => event.type === ProviderEvents.Stale), 2_000, 'stale');
    await waitFor(() => client.providerStatus === ProviderStatus.READY, 2_000, 'ready again');
    expect(await client.getBooleanValue('beta', false, { targetingKey: 'u1', country: 'NL' })).toBe(true);
  });

  it('tracks events through the client metrics, and closes the client it created', async () => {
    server = await startAviary(baseRuleset);
    const { provider, client, ready } = await connect({ sendMetrics: true, metricsIntervalMs: 60_000 });
    await ready;
    const user = { targetingKey: 'u1', country: 'NL' };
    await client.getBooleanValue('beta', false, user);
    client.track('purchase', user, { value: 9 });
    await OpenFeature.close();
    expect(provider.client.status).toBe('offline');
    expect(server.metrics).toEqual([
      expect.objectContaining({
        exposures: [{ flag: 'beta', enabled: true, variant: null, count: 1 }],
        events: [{ event: 'purchase', flag: 'beta', enabled: true, variant: null, count: 1, sum: 9, sumSquares: 81 }],
      }),
    ]);
  });
});
