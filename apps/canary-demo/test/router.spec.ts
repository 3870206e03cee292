import { afterEach, describe, expect, it } from 'vitest';
import type { Context } from '@aviary/node';
import { createCheckoutService } from '../src/checkout-service.js';
import { get, loopbackAgent } from '../src/http.js';
import { type FlagGate, type Router, startRouter } from '../src/router.js';
import { close, listen } from './support/servers.js';

/** A flag client stand-in: on for the listed users; records what is tracked. */
function fakeGate(on: Set<string>): FlagGate & { tracked: Array<[string, string]>; asked: string[] } {
  const gate = {
    tracked: [] as Array<[string, string]>,
    asked: [] as string[],
    isEnabled(flag: string, context: Context) {
      gate.asked.push(flag);
      return on.has(String(context.key));
    },
    track(event: string, context: Context) {
      // Latency is tracked with every answer; its value is checked below.
      if (event === 'latency') return;
      gate.tracked.push([event, String(context.key)]);
    },
  };
  return gate;
}

describe('the router', () => {
  const cleanups: Array<() => Promise<void>> = [];
  const agent = loopbackAgent(16);
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setup(on: string[], v2BugRate = 1) {
    const v1 = createCheckoutService({ name: 'v1', bugRate: 0, baseErrorRate: 0, latencyMs: 0, slowFactor: 1, port: 0 });
    const v2 = createCheckoutService({ name: 'v2', bugRate: v2BugRate, baseErrorRate: 0, latencyMs: 0, slowFactor: 1, port: 0 });
    const upstreams = { v1: await listen(v1), v2: await listen(v2) };
    cleanups.push(() => close(v1), () => close(v2));
    const gate = fakeGate(new Set(on));
    const router = await startRouter({ gate, flag: 'checkout-v2', upstreams });
    cleanups.push(() => router.close());
    return { gate, router, v2 };
  }

  const call = (router: Router, user: string) => get(`${router.url}/checkout?user=${user}`, agent);

  it('sends each user where the flag says, and tracks request and error per user', async () => {
    const { gate, router } = await setup(['bob']);
    const alice = await call(router, 'alice');
    const bob = await call(router, 'bob');
    expect(alice.status).toBe(200);
    expect(JSON.parse(alice.body)).toMatchObject({ version: 'v1' });
    expect(bob.status).toBe(500);
    expect(JSON.parse(bob.body)).toMatchObject({ version: 'v2' });
    expect(gate.asked).toEqual(['checkout-v2', 'checkout-v2']);
    expect(gate.tracked).toEqual([['request', 'alice'], ['request', 'bob'], ['error', 'bob']]);
    expect(router.counts()).toEqual({ v1: { requests: 1, errors: 0 }, v2: { requests: 1, errors: 1 } });
    expect(router.log.map((r) => [r.user, r.arm, r.status])).toEqual([['alice', 'v1', 200], ['bob', 'v2', 500]]);
    for (const entry of router.log) expect(entry.doneAt).toBeGreaterThanOrEqual(entry.sentAt);
  });

  it('answers 502 and counts an error when a version is down', async () => {
    const { gate, router, v2 } = await setup(['bob'], 0);
    await close(v2);
    const answer = await call(router, 'bob');
    expect(answer.status).toBe(502);
    expect(gate.tracked).toEqual([['request', 'bob'], ['error', 'bob']]);
    expect(router.log[0]).toMatchObject({ arm: 'v2', status: 502 });
  });

  it('refuses a request without a user and tracks nothing', async () => {
    const { gate, router } = await setup([]);
    expect((await get(`${router.url}/checkout`, agent)).status).toBe(400);
    expect((await get(`${router.url}/other?user=a`, agent)).status).toBe(404);
    expect(gate.tracked).toEqual([]);
    expect(router.log).toHaveLength(0);
  });
});
