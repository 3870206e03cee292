import { normalQuantile } from './distributions.js';
import type { ArmCounts, GuardSpec } from './sequential.js';

/**
 * The guard's test before the mSPRT, kept only so that `bench:guard` can compare the two: a
 * one-sided Wald z-test of p₁ − k·p₀ > 0, its false-alarm rate split evenly over `maxLooks` looks
 * (Bonferroni; z > 4.26 at 1 % over 1,000 looks). Valid only up to `maxLooks` looks.
 */
export function bonferroniThreshold(spec: { falseAlarmRate?: number; maxLooks?: number }): number {
  return normalQuantile(1 - (spec.falseAlarmRate ?? 0.01) / (spec.maxLooks ?? 1000));
}

export function bonferroniZTest(spec: Pick<GuardSpec, 'maxRelativeIncrease' | 'minSamples'>, exposed: ArmCounts, control: ArmCounts, threshold: number): { breached: boolean; z: number } {
  const n1 = exposed.denominator;
  const n0 = control.denominator;
  if (n1 < spec.minSamples || n0 < spec.minSamples || n1 === 0 || n0 === 0) return { breached: false, z: 0 };
  const p1 = exposed.numerator / n1;
  const p0 = control.numerator / n0;
  const k = 1 + spec.maxRelativeIncrease;
  const variance = (p: number, n: number) => (p <= 1 ? p * (1 - p) : p) / n;
  const se = Math.sqrt(Math.max(variance(p1, n1) + k * k * variance(p0, n0), 1 / (n1 * n1 + n0 * n0)));
  const z = (p1 - k * p0) / se;
  return { breached: z > threshold, z };
}

/** The same Wald z-test on means (for the bench's latency rows). */
export function bonferroniMeanZTest(
  spec: { maxRelativeIncrease: number; minSamples: number },
  exposed: { n: number; mean: number; variance: number },
  control: { n: number; mean: number; variance: number },
  threshold: number,
): { breached: boolean; z: number } {
  if (exposed.n < spec.minSamples || control.n < spec.minSamples || exposed.n === 0 || control.n === 0) return { breached: false, z: 0 };
  const k = 1 + spec.maxRelativeIncrease;
  const z = (exposed.mean - k * control.mean) / Math.sqrt(exposed.variance / exposed.n + (k * k * control.variance) / control.n);
  return { breached: z > threshold, z };
}
