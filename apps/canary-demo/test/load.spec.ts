import { afterEach, describe, expect, it } from 'vitest';
import { seededRandom, startLoad } from '../src/load.js';
import { close, countingServer, listen } from './support/servers.js';

describe('the load generator', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  async function target(delayMs = 0) {
    const counting = countingServer(delayMs);
    const url = await listen(counting.server);
    cleanups.push(() => close(counting.server));
    return { url, users: counting.users };
  }

  it('sends at its rate until its time is up, spread over its users', async () => {
    const { url, users } = await target();
    const stats = await startLoad({ target: url, users: 20, ratePerSecond: 200, durationMs: 1500, maxRequests: 10_000 }).done;
    // 200/s for 1.5 s: never more than 300; an event loop stalled near the end by other work on
    // the machine cuts the tail (requests due after the deadline are not sent), hence the slack.
    expect(stats.sent).toBeGreaterThan(150);
    expect(stats.sent).toBeLessThanOrEqual(300);
    expect(stats.statuses[204]).toBe(stats.sent);
    expect(stats.skipped).toBe(0);
    expect([...users.keys()].every((u) => /^user-(1?\d)$/.test(u))).toBe(true);
    expect(users.size).toBe(20);
  });

  it('stops at its request count', async () => {
    const { url } = await target();
    const stats = await startLoad({ target: url, users: 5, ratePerSecond: 2000, durationMs: 5000, maxRequests: 50 }).done;
    expect(stats.sent).toBe(50);
    expect(stats.durationMs).toBeLessThan(1000);
  });

  it('skips what exceeds its concurrency and stops on demand', async () => {
    const { url } = await target(300);
    const load = startLoad({ target: url, users: 5, ratePerSecond: 1000, durationMs: 10_000, maxRequests: 100_000, maxInFlight: 4 });
    await new Promise((r) => setTimeout(r, 100));
    const stats = await load.stop();
    expect(stats.sent).toBe(4);
    expect(stats.skipped).toBeGreaterThan(20);
    expect(stats.durationMs).toBeLessThan(1000);
  });

  it('picks the same users for the same seed', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const c = seededRandom(43);
    const first = Array.from({ length: 5 }, a);
    expect(Array.from({ length: 5 }, b)).toEqual(first);
    expect(Array.from({ length: 5 }, c)).not.toEqual(first);
    for (const v of first) expect(v >= 0 && v < 1).toBe(true);
  });
});
