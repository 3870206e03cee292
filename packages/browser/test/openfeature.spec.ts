import { OpenFeature, ProviderEvents, type EventDetails } from '@openfeature/web-sdk';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AviaryProvider, toAviaryContext } from '../src/openfeature.js';
import { FakeEventSource, fakeFetch, flag, memoryStorage, ruleset } from './fakes.js';

const rules = ruleset(1, {
  'new-checkout': flag('new-checkout', { rules: [{ id: 'nl', conditions: [{ attribute: 'country', operator: 'in', values: ['NL'] }] }] }),
  theme: flag('theme', { variants: [{ key: 'dark', value: 'dark-v2', weight: 1 }] }),
  limit: flag('limit', { variants: [{ key: 'high', value: 50, weight: 1 }] }),
  layout: flag('layout', { variants: [{ key: 'grid', value: { columns: 3 }, weight: 1 }] }),
  plain: flag('plain'),
  off: flag('off', { enabled: false, variants: [{ key: 'x', value: 'x', weight: 1 }] }),
  broken: { key: 'broken', enabled: true, variants: [{ key: 'x', weight: -1 }] },
});

const fetchMock = fakeFetch(() => new Response(null, { status: 202 }));
const provider = new AviaryProvider({ url: 'https://flags.example.com', clientKey: 'avc_test', bootstrap: rules, storage: memoryStorage() });
const client = OpenFeature.getClient();

beforeAll(async () => {
  FakeEventSource.opened = [];
  vi.stubGlobal('EventSource', FakeEventSource);
  vi.stubGlobal('fetch', fetchMock);
  await OpenFeature.setContext({ targetingKey: 'user-1', country: 'NL', signup: new Date('2024-01-02T03:04:05Z'), nested: { no: 1 } });
  await OpenFeature.setProviderAndWait(provider);
});

afterAll(async () => {
  await OpenFeature.close();
  vi.unstubAllGlobals();
});

describe('AviaryProvider', () => {
  it('maps the OpenFeature context: targetingKey becomes key, dates become ISO strings, nested values are dropped', () => {
    expect(toAviaryContext({ targetingKey: 'u', n: 1, b: true, d: new Date(0), o: { x: 1 }, a: [1] })).toEqual({
      targetingKey: 'u',
      key: 'u',
      n: 1,
      b: true,
      d: '1970-01-01T00:00:00.000Z',
    });
    expect(FakeEventSource.last.params.get('key')).toBe('user-1');
  });

  it.each([
    ['boolean on by a rule', () => client.getBooleanDetails('new-checkout', false), { value: true, reason: 'TARGETING_MATCH', flagMetadata: { reason: 'RULE_MATCH', ruleId: 'nl' } }],
    ['string from a variant value', () => client.getStringDetails('theme', 'light'), { value: 'dark-v2', variant: 'dark', reason: 'STATIC' }],
    ['number from a variant value', () => client.getNumberDetails('limit', 10), { value: 50, variant: 'high' }],
    ['object from a variant value', () => client.getObjectDetails('layout', {}), { value: { columns: 3 }, variant: 'grid' }],
    ['an off flag serves the default', () => client.getStringDetails('off', 'fallback'), { value: 'fallback', reason: 'DISABLED' }],
    ['an off flag is false as a boolean', () => client.getBooleanDetails('off', true), { value: false, reason: 'DISABLED' }],
    ['a missing flag', () => client.getBooleanDetails('missing', true), { value: true, reason: 'ERROR', errorCode: 'FLAG_NOT_FOUND' }],
    ['a damaged flag', () => client.getBooleanDetails('broken', true), { value: true, reason: 'ERROR', errorCode: 'PARSE_ERROR' }],
    ['a type mismatch', () => client.getNumberDetails('plain', 7), { value: 7, reason: 'ERROR', errorCode: 'TYPE_MISMATCH' }],
  ])('resolves synchronously: %s', (_name, resolve, expected) => {
    expect(resolve()).toMatchObject(expected);
  });

  it('announces ruleset changes as ConfigurationChanged with the flags touched', async () => {
    const seen: EventDetails[] = [];
    const handler = (details?: EventDetails) => seen.push(details!);
    client.addHandler(ProviderEvents.ConfigurationChanged, handler);
    FakeEventSource.last.send('change', 2, { revision: 2, flags: { plain: flag('plain', { enabled: false }) } });
    await vi.waitFor(() => expect(seen).toHaveLength(1));
    expect(seen[0]).toMatchObject({ flagsChanged: ['plain'] });
    expect(client.getBooleanValue('plain', true)).toBe(false);
    client.removeHandler(ProviderEvents.ConfigurationChanged, handler);
  });

  it('fetches the new user ruleset when the context key changes', async () => {
    const first = FakeEventSource.last;
    const switching = OpenFeature.setContext({ targetingKey: 'user-2', country: 'DE' });
    await vi.waitFor(() => expect(FakeEventSource.last).not.toBe(first));
    expect(FakeEventSource.last.params.get('key')).toBe('user-2');
    FakeEventSource.last.send('ruleset', 1, rules);
    await switching;
    expect(client.getBooleanValue('new-checkout', true)).toBe(false);
  });

  it('passes tracked events to the client metrics, reported on close', async () => {
    client.getBooleanValue('plain', false);
    client.track('purchase', { value: 12 });
    await OpenFeature.clearProviders();
    const bodies = fetchMock.mock.calls.filter(([u]) => String(u).includes('/metrics')).map(([, init]) => JSON.parse(String(init!.body)));
    expect(bodies.at(-1).events).toContainEqual({ event: 'purchase', flag: 'plain', enabled: true, variant: null, count: 1, sum: 12, sumSquares: 144 });
  });
});
