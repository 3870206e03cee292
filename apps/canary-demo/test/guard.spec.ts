import { describe, expect, it } from 'vitest';
import { guardThreshold, lookAt, normalCdf, normalQuantile, type GuardSpec } from '../src/guard.js';

const spec: GuardSpec = { numerator: 'error', denominator: 'request', maxRelativeIncrease: 0.5, minSamples: 200 };

describe('the guard test, restated', () => {
  it.each([
    [0.5, 0],
    [0.975, 1.959964],
    [0.99, 2.326348],
    [1 - 0.01 / 1000, 4.264891],
  ])('Φ⁻¹(%s) ≈ %s', (p, z) => {
    expect(normalQuantile(p)).toBeCloseTo(z, 3);
    expect(normalCdf(z)).toBeCloseTo(p, 6);
  });

  it('splits a 1 % false-alarm rate over 1,000 looks: threshold ≈ 4.26', () => {
    expect(guardThreshold({})).toBeCloseTo(4.265, 2);
    expect(guardThreshold({ falseAlarmRate: 0.05, maxLooks: 1 })).toBeCloseTo(1.645, 3);
  });

  it.each([
    // exposed, control, decided, breached, z (Wald statistic of p1 − 1.5·p0)
    [{ numerator: 30, denominator: 200 }, { numerator: 20, denominator: 2000 }, true, true, 5.3006],
    [{ numerator: 2, denominator: 200 }, { numerator: 20, denominator: 2000 }, true, false, -0.6421],
    [{ numerator: 0, denominator: 500 }, { numerator: 0, denominator: 5000 }, true, false, 0],
    [{ numerator: 60, denominator: 199 }, { numerator: 20, denominator: 2000 }, false, false, 0],
  ])('exposed %o vs control %o', (exposed, control, decided, breached, z) => {
    const look = lookAt(spec, exposed, control);
    expect(look.decided).toBe(decided);
    expect(look.breached).toBe(breached);
    expect(look.z).toBeCloseTo(z, 3);
  });

  it('tolerates a small relative increase and catches a large one', () => {
    const control = { numerator: 50, denominator: 10_000 };
    expect(lookAt(spec, { numerator: 7, denominator: 1000 }, control).breached).toBe(false);
    expect(lookAt(spec, { numerator: 200, denominator: 1000 }, control).breached).toBe(true);
  });
});
