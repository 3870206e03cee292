import { afterEach, describe, expect, it } from 'vitest';
import { baseRuleset, clientFactory } from './support/fixtures.js';
import { sleep, startAviary, waitFor, type FakeAviary } from './support/aviary-server.js';

let server: FakeAviary | undefined;
const clients = clientFactory();

afterEach(async () => {
  await clients.closeAll();
  await server?.close();
  server = undefined;
});

describe('metrics reporting', () => {
  it('batches exposures and attributed events, and reports them on close()', async () => {
    server = await startAviary(baseRuleset);
    const client = clients.create({ url: server.url, sendMetrics: true, metricsIntervalMs: 60_000 });
    await client.ready();
    const nl = { key: 'u1', country: 'NL' };
    const de = { key: 'u2', country: 'DE' };
    const started = Date.now();

    client.isEnabled('beta', nl);
    client.isEnabled('beta', nl);
    client.isEnabled('beta', de);
    client.variant('color', nl);
    client.evaluate('missing', nl);
    client.isEnabled('broken', nl);
    client.allFlags(nl);
    client.track('purchase', nl, { value: 20 });
    client.track('purchase', nl, { value: 5 });
    client.track('error', de);
    client.track('ignored', { key: 'nobody' });
    expect(server.metrics).toEqual([]);

    await client.close();

    expect(server.metrics).toHaveLength(1);
    const report = server.metrics[0]!;
    expect(Object.keys(report)).toEqual(['start', 'end', 'exposures', 'events']);
    expect(report.start).toBeGreaterThanOrEqual(started - 1_000);
    expect(report.end).toBeGreaterThanOrEqual(report.start);
    expect(report.exposures).toEqual([
      { flag: 'beta', enabled: true, variant: null, count: 2 },
      { flag: 'beta', enabled: false, variant: null, count: 1 },
      { flag: 'color', enabled: true, variant: 'red', count: 1 },
    ]);
    expect(report.events).toEqual([
      { event: 'purchase', flag: 'beta', enabled: true, variant: null, count: 2, sum: 25, sumSquares: 425 },
      { event: 'purchase', flag: 'color', enabled: true, variant: 'red', count: 2, sum: 25, sumSquares: 425 },
      { event: 'error', flag: 'beta', enabled: false, variant: null, count: 1, sum: 0, sumSquares: 0 },
    ]);
  });

  it('reports every interval, one window at a time, and sends nothing for an empty window', async () => {
    server = await startAviary(baseRuleset);
    const client = clients.create({ url: server.url, sendMetrics: true, metricsIntervalMs: 100 });
    await client.ready();
    client.isEnabled('beta', { key: 'u1', country: 'NL' });
    await waitFor(() => server!.metrics.length === 1, 2_000, 'the first report');
    client.isEnabled('beta', { key: 'u1', country: 'NL' });
    await waitFor(() => server!.metrics.length === 2, 2_000, 'the second report');
    await sleep(250);
    expect(server.metrics).toHaveLength(2);
    expect(server.metrics.map((report) => report.exposures[0]!.count)).toEqual([1, 1]);
    expect(server.metrics[1]!.start).toBe(server.metrics[0]!.end);
  });

  it('sends nothing when metrics are off', async () => {
    server = await startAviary(baseRuleset);
    const client = clients.create({ url: server.url, sendMetrics: false });
    await client.ready();
    client.isEnabled('beta', { key: 'u1' });
    await client.close();
    expect(server.metrics).toEqual([]);
  });

  it('drops a window the server cannot take, without retrying or throwing', async () => {
    server = await startAviary(baseRuleset);
    const client = clients.create({ url: server.url, sendMetrics: true, metricsIntervalMs: 60_000 });
    await client.ready();
    client.isEnabled('beta', { key: 'u1' });
    await server.close();
    await expect(client.close()).resolves.toBeUndefined();
    expect(client.logger.lines.some((line) => line.level === 'warn' && line.message.includes('/sdk/v1/metrics failed'))).toBe(true);
  });
});
