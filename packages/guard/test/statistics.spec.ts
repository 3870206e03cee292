import { describe, expect, it } from 'vitest';
import { chiSquare1Pvalue, evaluateGuard, guardThreshold, normalCdf, normalQuantile, sampleRatioPvalue } from '../src/index.js';

describe('normal distribution', () => {
  it.each([
    [0, 0.5],
    [1.959963985, 0.975],
    [-1.644853627, 0.05],
    [3.090232306, 0.999],
  ])('cdf(%f) = %f', (z, p) => expect(normalCdf(z)).toBeCloseTo(p, 6));

  it.each([
    [0.975, 1.959963985],
    [0.5, 0],
    [0.001, -3.090232306],
    [1 - 1e-5, 4.264890794],
  ])('quantile(%f) = %f', (p, z) => expect(normalQuantile(p)).toBeCloseTo(z, 6));

  it('refuses probabilities outside (0, 1)', () => expect(() => normalQuantile(1)).toThrow(RangeError));
});

describe('evaluateGuard', () => {
  const spec = { numerator: 'error', denominator: 'request', maxRelativeIncrease: 0.5, minSamples: 100, falseAlarmRate: 0.05, maxLooks: 1 };

  it('splits the false-alarm rate over the looks', () => {
    expect(guardThreshold({ falseAlarmRate: 0.05, maxLooks: 1 })).toBeCloseTo(1.644853627, 6);
    expect(guardThreshold({ falseAlarmRate: 0.01, maxLooks: 1000 })).toBeCloseTo(4.264890794, 5);
  });

  it('computes the Wald statistic by hand', () => {
    // p1 = 0.1, p0 = 0.02, k = 1.5: z = (0.1 - 0.03) / sqrt(0.09/1000 + 2.25 * 0.0196/1000) = 0.07 / sqrt(1.341e-4) = 0.07 / 0.0115801 = 6.0448
    const v = evaluateGuard(spec, { numerator: 100, denominator: 1000 }, { numerator: 20, denominator: 1000 });
    expect(v.z).toBeCloseTo(0.07 / Math.sqrt(0.09 / 1000 + (2.25 * 0.0196) / 1000), 9);
    expect(v.z).toBeCloseTo(6.0448, 3);
    expect(v.breached).toBe(true);
    expect(v.status).toBe('breach');
  });

  it('does not trip within the allowed increase', () => {
    const v = evaluateGuard(spec, { numerator: 25, denominator: 1000 }, { numerator: 20, denominator: 1000 });
    expect(v.breached).toBe(false);
    expect(v.z).toBeLessThan(0);
  });

  it('waits for enough samples in both arms', () => {
    const v = evaluateGuard(spec, { numerator: 50, denominator: 99 }, { numerator: 0, denominator: 5000 });
    expect(v.status).toBe('insufficient-data');
    expect(v.breached).toBe(false);
  });

  it('trips on a broken canary against a clean control', () => {
    expect(evaluateGuard(spec, { numerator: 30, denominator: 200 }, { numerator: 0, denominator: 2000 }).breached).toBe(true);
    expect(evaluateGuard(spec, { numerator: 0, denominator: 200 }, { numerator: 0, denominator: 2000 }).breached).toBe(false);
  });

  it.each([
    // exposed, control, status, z (Wald statistic of p1 − 1.5·p0), with the default 1 % over 1,000 looks
    [{ numerator: 30, denominator: 200 }, { numerator: 20, denominator: 2000 }, 'breach', 5.3006],
    [{ numerator: 2, denominator: 200 }, { numerator: 20, denominator: 2000 }, 'ok', -0.6421],
    [{ numerator: 0, denominator: 500 }, { numerator: 0, denominator: 5000 }, 'ok', 0],
    [{ numerator: 60, denominator: 199 }, { numerator: 20, denominator: 2000 }, 'insufficient-data', 0],
  ])('exposed %o vs control %o: %s', (exposed, control, status, z) => {
    const v = evaluateGuard({ ...spec, minSamples: 200, falseAlarmRate: undefined, maxLooks: undefined }, exposed, control);
    expect(v.status).toBe(status);
    expect(v.z).toBeCloseTo(z, 3);
  });

  it('uses a threshold it is given instead of computing one', () => {
    const v = evaluateGuard(spec, { numerator: 100, denominator: 1000 }, { numerator: 20, denominator: 1000 }, 7);
    expect(v.threshold).toBe(7);
    expect(v.breached).toBe(false);
  });

  it('holds its false-alarm rate on equal arms (simulation, fixed seed)', () => {
    let seed = 42;
    const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const strict = { ...spec, maxRelativeIncrease: 0, falseAlarmRate: 0.05 };
    let alarms = 0;
    const runs = 2000;
    for (let r = 0; r < runs; r++) {
      let e1 = 0;
      let e0 = 0;
      for (let i = 0; i < 500; i++) {
        if (random() < 0.05) e1++;
        if (random() < 0.05) e0++;
      }
      if (evaluateGuard(strict, { numerator: e1, denominator: 500 }, { numerator: e0, denominator: 500 }).breached) alarms++;
    }
    // One-sided 5 %: about 100 of 2000, and far from the 50 % a raw threshold would give.
    expect(alarms / runs).toBeGreaterThan(0.02);
    expect(alarms / runs).toBeLessThan(0.08);
  });
});

describe('sample-ratio mismatch', () => {
  it.each([
    [3.841458821, 0.05],
    [6.634896601, 0.01],
  ])('chi-square(1) upper tail at %f is %f', (x, p) => expect(chiSquare1Pvalue(x)).toBeCloseTo(p, 5));

  it('flags a split far from the plan and accepts one close to it', () => {
    expect(sampleRatioPvalue(500, 500, 0.5)).toBeCloseTo(1, 6);
    // 600 of 1000 against 50 %: chi2 = 40, p ≈ 2.5e-10.
    expect(sampleRatioPvalue(600, 400, 0.5)).toBeLessThan(1e-8);
    expect(sampleRatioPvalue(52, 948, 0.05)).toBeGreaterThan(0.5);
  });
});
