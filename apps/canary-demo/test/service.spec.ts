import { afterEach, describe, expect, it } from 'vitest';
import { createCheckoutService, parseServiceArgs, type ServiceOptions } from '../src/checkout-service.js';
import { get, loopbackAgent } from '../src/http.js';
import { close, listen } from './support/servers.js';

describe('the checkout service', () => {
  const servers: Array<ReturnType<typeof createCheckoutService>> = [];
  const agent = loopbackAgent(8);
  afterEach(async () => {
    await Promise.all(servers.splice(0).map(close));
  });

  async function start(options: Partial<ServiceOptions>): Promise<string> {
    const server = createCheckoutService({ name: 'v2', bugRate: 0, baseErrorRate: 0, latencyMs: 0, slowFactor: 1, port: 0, ...options });
    servers.push(server);
    return listen(server);
  }

  it.each([
    [0, 200],
    [1, 500],
  ])('with bug rate %s answers %s', async (bugRate, status) => {
    const url = await start({ bugRate });
    const answers = await Promise.all(Array.from({ length: 20 }, () => get(`${url}/checkout?user=u1`, agent)));
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(status));
    expect(JSON.parse(answers[0]!.body)).toMatchObject({ version: 'v2' });
  });

  it('fails about its bug rate of requests', async () => {
    const url = await start({ bugRate: 0.3 });
    const answers = await Promise.all(Array.from({ length: 1000 }, (_, i) => get(`${url}/checkout?user=u${i}`, agent)));
    const failed = answers.filter((a) => a.status === 500).length;
    // 1,000 Bernoulli(0.3) draws: ±6 standard deviations is 213 … 387.
    expect(failed).toBeGreaterThan(213);
    expect(failed).toBeLessThan(387);
  });

  it('answers 404 off /checkout and reports its count on /health', async () => {
    const url = await start({ latencyMs: 1 });
    await get(`${url}/checkout?user=a`, agent);
    expect((await get(`${url}/nope`, agent)).status).toBe(404);
    expect(JSON.parse((await get(`${url}/health`, agent)).body)).toEqual({ name: 'v2', served: 1 });
  });

  it('parses its arguments and refuses bad ones', () => {
    expect(parseServiceArgs(['--name', 'v1', '--bug-rate', '0.2', '--base-error-rate', '0.01', '--latency-ms', '3']))
      .toEqual({ name: 'v1', bugRate: 0.2, baseErrorRate: 0.01, latencyMs: 3, slowFactor: 1, port: 0 });
    expect(parseServiceArgs(['--slow-factor', '2']).slowFactor).toBe(2);
    expect(() => parseServiceArgs(['--slow-factor', '0.5'])).toThrow(/--slow-factor/);
    expect(() => parseServiceArgs(['--bug-rate', '1.5'])).toThrow(/--bug-rate must be a share/);
    expect(() => parseServiceArgs(['--port', 'x'])).toThrow(/--port/);
  });
});
