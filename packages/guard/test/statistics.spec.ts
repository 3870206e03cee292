import { describe, expect, it } from 'vitest';
import {
  bonferroniThreshold, bonferroniZTest, chiSquare1Pvalue, evaluateGuard, evaluateMeanGuard, guardThreshold, mixtureLogLikelihoodRatio, normalCdf, normalQuantile, sampleRatioPvalue,
} from '../src/index.js';

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

/** log Λ by numerical integration of the normal likelihood ratio over the N(0, τ²) mixture: an
 *  oracle for the closed form that shares none of its algebra. */
function integratedLogLikelihoodRatio(estimate: number, variance: number, tau2: number): number {
  const tau = Math.sqrt(tau2);
  const lo = -12 * tau;
  const hi = 12 * tau + 2 * Math.abs(estimate);
  const steps = 200_000;
  const h = (hi - lo) / steps;
  let total = 0;
  for (let i = 0; i <= steps; i++) {
    const theta = lo + i * h;
    const f = Math.exp((theta * estimate) / variance - (theta * theta) / (2 * variance) - (theta * theta) / (2 * tau2)) / Math.sqrt(2 * Math.PI * tau2);
    total += i === 0 || i === steps ? f / 2 : f;
  }
  return Math.log(total * h);
}

describe('mixture SPRT (Johari, Koomen, Pekelis, Walsh 2022)', () => {
  it.each([
    [0.07, 1.341e-4, 5.0625e-4],
    [0.135, 6.486375e-4, 4.6e-3],
    [0.001, 1e-6, 1e-4],
    [-0.02, 1e-4, 1e-3],
  ])('closed form equals the integrated mixture: estimate %f, V %f, τ² %f', (estimate, variance, mixtureVariance) => {
    expect(mixtureLogLikelihoodRatio({ estimate, variance, mixtureVariance })).toBeCloseTo(integratedLogLikelihoodRatio(estimate, variance, mixtureVariance), 6);
  });

  it('crosses 1/α exactly on Robbins\' normal-mixture boundary |z| = sqrt((1 + V/τ²)(2 ln(1/α) + ln(1 + τ²/V)))', () => {
    const [variance, tau2, alpha] = [2e-4, 1e-3, 0.01];
    const z = Math.sqrt((1 + variance / tau2) * (2 * Math.log(1 / alpha) + Math.log(1 + tau2 / variance)));
    expect(mixtureLogLikelihoodRatio({ estimate: z * Math.sqrt(variance), variance, mixtureVariance: tau2 })).toBeCloseTo(Math.log(1 / alpha), 9);
  });

  it('a canary failing half its requests against 0.5 % errors breaches at minSamples (the wide mixture components)', () => {
    const v = evaluateGuard({ numerator: 'error', denominator: 'request', maxRelativeIncrease: 0.5, minSamples: 50 }, { numerator: 25, denominator: 50 }, { numerator: 25, denominator: 5000 });
    expect(v.status).toBe('breach');
  });

  it('no evidence either way: Λ = sqrt(V/(V+τ²)) < 1 at θ̂ = 0', () => {
    expect(mixtureLogLikelihoodRatio({ estimate: 0, variance: 1, mixtureVariance: 3 })).toBeCloseTo(0.5 * Math.log(1 / 4), 12);
  });
});

describe('evaluateGuard (ratios)', () => {
  const spec = { numerator: 'error', denominator: 'request', maxRelativeIncrease: 0.5, minSamples: 100, falseAlarmRate: 0.01 };

  it('breaches when log Λ reaches ln(1/α)', () => {
    expect(guardThreshold({ falseAlarmRate: 0.01 })).toBeCloseTo(Math.log(100), 12);
    expect(guardThreshold({})).toBeCloseTo(4.605170186, 9);
  });

  it.each([
    // exposed, control, status, Wald z, log Λ (computed independently: V plug-in, Λ the mean over
    // τ = {0.25, 1, 4, 16} × k × pooled ratio), always-valid p
    [{ numerator: 100, denominator: 1000 }, { numerator: 20, denominator: 1000 }, 'breach', 6.044824, 14.947989, 3.2223e-7],
    [{ numerator: 30, denominator: 200 }, { numerator: 20, denominator: 2000 }, 'breach', 5.300694, 10.851362, 1.9378e-5],
    [{ numerator: 30, denominator: 200 }, { numerator: 0, denominator: 2000 }, 'breach', 5.940885, 14.242463, 6.5249e-7],
    [{ numerator: 2, denominator: 200 }, { numerator: 20, denominator: 2000 }, 'ok', -0.642095, 0, 1],
    [{ numerator: 25, denominator: 1000 }, { numerator: 20, denominator: 1000 }, 'ok', -0.604232, 0, 1],
    [{ numerator: 0, denominator: 500 }, { numerator: 0, denominator: 5000 }, 'ok', 0, 0, 1],
    [{ numerator: 50, denominator: 99 }, { numerator: 0, denominator: 5000 }, 'insufficient-data', 0, 0, 1],
  ] as const)('exposed %o vs control %o: %s', (exposed, control, status, z, logLikelihoodRatio, pValue) => {
    const v = evaluateGuard(spec, exposed, control);
    expect(v.status).toBe(status);
    expect(v.breached).toBe(status === 'breach');
    expect(v.z).toBeCloseTo(z, 5);
    expect(v.logLikelihoodRatio).toBeCloseTo(logLikelihoodRatio, 5);
    expect(v.pValue / pValue).toBeCloseTo(1, 3);
  });

  it('holds its false-alarm rate on equal arms looked at after every 20 requests (simulation, fixed seed)', () => {
    let seed = 42;
    const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const strict = { ...spec, maxRelativeIncrease: 0, falseAlarmRate: 0.05, minSamples: 100 };
    let alarms = 0;
    let naive = 0;
    const runs = 1000;
    for (let r = 0; r < runs; r++) {
      let [e1, e0] = [0, 0];
      let [tripped, naiveTripped] = [false, false];
      for (let n = 1; n <= 4000; n++) {
        if (random() < 0.05) e1++;
        if (random() < 0.05) e0++;
        if (n % 20 !== 0) continue;
        const v = evaluateGuard(strict, { numerator: e1, denominator: n }, { numerator: e0, denominator: n });
        tripped ||= v.breached;
        naiveTripped ||= v.status !== 'insufficient-data' && v.z > 1.645;
      }
      if (tripped) alarms++;
      if (naiveTripped) naive++;
    }
    // 200 looks: the mSPRT stays under its 5 %, a fixed-sample z-test looked at as often does not.
    expect(alarms / runs).toBeLessThanOrEqual(0.05);
    expect(naive / runs).toBeGreaterThan(0.2);
    // Thousands of plans with a look every 20 requests: seconds of CPU, more on a loaded machine.
  }, 60_000);
});

describe('evaluateMeanGuard (latency)', () => {
  const spec = { metric: 'latency', maxRelativeIncrease: 0.2, minSamples: 50 };
  const moments = (values: number[]) => ({ count: values.length, sum: values.reduce((a, b) => a + b, 0), sumSquares: values.reduce((a, b) => a + b * b, 0) });

  it('means and variances from count, sum and sum of squares', () => {
    // Exposed: 100 values alternating 190/210 (mean 200, s² = 100·100/99); control 100 × 100 (s² = 0).
    const exposed = moments(Array.from({ length: 100 }, (_, i) => (i % 2 ? 210 : 190)));
    const control = moments(Array.from({ length: 100 }, () => 100));
    const v = evaluateMeanGuard(spec, exposed, control);
    expect([v.exposedMean, v.controlMean]).toEqual([200, 100]);
    const variance = 10_000 / 99 / 100;
    expect(v.z).toBeCloseTo(80 / Math.sqrt(variance), 6);
    const components = [0.25, 1, 4, 16].map((scale) => mixtureLogLikelihoodRatio({ estimate: 80, variance, mixtureVariance: (scale * 1.2 * 150) ** 2 }));
    expect(v.logLikelihoodRatio).toBeCloseTo(Math.log(components.reduce((sum, l) => sum + Math.exp(l - 3000), 0) / 4) + 3000, 6);
    expect(v.logLikelihoodRatio).toBeCloseTo(3162.139224, 4);
    expect(v.status).toBe('breach');
  });

  it('stays ok within the allowed increase, and waits for minSamples', () => {
    const control = moments(Array.from({ length: 200 }, (_, i) => 100 + (i % 10)));
    expect(evaluateMeanGuard(spec, moments(Array.from({ length: 200 }, (_, i) => 115 + (i % 10))), control).status).toBe('ok');
    expect(evaluateMeanGuard(spec, moments([900, 900]), control).status).toBe('insufficient-data');
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

describe('the Bonferroni z-test it replaced (kept for bench:guard)', () => {
  it('threshold 4.26 at 1 % over 1,000 looks; the Wald z by hand', () => {
    expect(bonferroniThreshold({ falseAlarmRate: 0.01, maxLooks: 1000 })).toBeCloseTo(4.264890794, 5);
    const v = bonferroniZTest({ maxRelativeIncrease: 0.5, minSamples: 100 }, { numerator: 100, denominator: 1000 }, { numerator: 20, denominator: 1000 }, 4.26);
    expect(v.z).toBeCloseTo(0.07 / Math.sqrt(0.09 / 1000 + (2.25 * 0.0196) / 1000), 9);
    expect(v.breached).toBe(true);
  });
});
