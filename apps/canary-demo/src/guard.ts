/**
 * The guard's test, restated from docs/rollouts.md so the demo can tell from its own counts when
 * the evidence first became significant (the demo imports nothing from the server): a one-sided
 * two-proportion z-test of `exposed > (1 + maxRelativeIncrease) × control`, deciding only once
 * both arms have `minSamples` denominator events, at `z > Φ⁻¹(1 − falseAlarmRate / maxLooks)`.
 */

export interface GuardSpec {
  numerator: string;
  denominator: string;
  maxRelativeIncrease: number;
  minSamples: number;
  falseAlarmRate?: number;
  maxLooks?: number;
}

export interface ArmCounts {
  numerator: number;
  denominator: number;
}

export interface GuardLook {
  breached: boolean;
  decided: boolean;
  z: number;
  threshold: number;
}

/** Standard normal CDF (Abramowitz & Stegun 26.2.17, |error| < 7.5e-8). */
export function normalCdf(z: number): number {
  const t = 1 / (1 + 0.2316419 * Math.abs(z));
  const d = 0.3989422804014327 * Math.exp((-z * z) / 2);
  const tail = d * t * (0.31938153 + t * (-0.356563782 + t * (1.781477937 + t * (-1.821255978 + t * 1.330274429))));
  return z >= 0 ? 1 - tail : tail;
}

/** Φ⁻¹(p) by bisection on `normalCdf`: slow-ish but tiny, and called once per run. */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`probability must be in (0, 1), got ${p}`);
  let low = -40;
  let high = 40;
  for (let i = 0; i < 100; i += 1) {
    const mid = (low + high) / 2;
    if (normalCdf(mid) < p) low = mid;
    else high = mid;
  }
  return (low + high) / 2;
}

export function guardThreshold(spec: Pick<GuardSpec, 'falseAlarmRate' | 'maxLooks'>): number {
  return normalQuantile(1 - (spec.falseAlarmRate ?? 0.01) / (spec.maxLooks ?? 1000));
}

/** One look of the test at cumulative counts; `threshold` may be passed to skip the quantile. */
export function lookAt(spec: GuardSpec, exposed: ArmCounts, control: ArmCounts, threshold = guardThreshold(spec)): GuardLook {
  const n1 = exposed.denominator;
  const n0 = control.denominator;
  if (n1 < spec.minSamples || n0 < spec.minSamples || n1 === 0 || n0 === 0) {
    return { breached: false, decided: false, z: 0, threshold };
  }
  const p1 = exposed.numerator / n1;
  const p0 = control.numerator / n0;
  const k = 1 + spec.maxRelativeIncrease;
  const variance = (p: number, n: number) => (p <= 1 ? p * (1 - p) : p) / n;
  // The same floor as the server's, so two perfectly clean arms give z = 0, not NaN.
  const se = Math.sqrt(Math.max(variance(p1, n1) + k * k * variance(p0, n0), 1 / (n1 * n1 + n0 * n0)));
  const z = (p1 - k * p0) / se;
  return { breached: z > threshold, decided: true, z, threshold };
}
