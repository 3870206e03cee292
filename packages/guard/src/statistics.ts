/**
 * The statistics behind rollout guards: a one-sided two-proportion z-test of "the exposed arm's
 * event ratio is more than (1 + maxRelativeIncrease) times the control's", checked repeatedly
 * with a Bonferroni split of the false-alarm rate over the looks a plan may take, and a
 * chi-square test for sample-ratio mismatch.
 */

/** Standard normal cumulative distribution (Zelen & Severo 26.2.17, |error| < 7.5e-8). */
export function normalCdf(z: number): number {
  const t = 1 / (1 + 0.2316419 * Math.abs(z));
  const d = 0.3989422804014327 * Math.exp((-z * z) / 2);
  const p = d * t * (0.31938153 + t * (-0.356563782 + t * (1.781477937 + t * (-1.821255978 + t * 1.330274429))));
  return z >= 0 ? 1 - p : p;
}

/** Inverse of the standard normal CDF (Acklam's rational approximation, relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`probability must be in (0, 1), got ${p}`);
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  if (p > 1 - low) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}

export interface ArmCounts {
  /** Events counted in the numerator (e.g. `error`). */
  numerator: number;
  /** Events counted in the denominator (e.g. `request`). */
  denominator: number;
}

export interface GuardSpec {
  numerator: string;
  denominator: string;
  /** 0.5: breach when the exposed ratio is more than 1.5 × the control's. */
  maxRelativeIncrease: number;
  /** Denominator events each arm needs before the guard may decide. */
  minSamples: number;
  /** Family-wise false-alarm rate over the whole plan (default 0.01). */
  falseAlarmRate?: number;
  /** Looks the plan may take; the false-alarm rate is split evenly over them (default 1000). */
  maxLooks?: number;
}

export interface GuardVerdict {
  breached: boolean;
  /** `insufficient-data` until both arms have `minSamples`. */
  status: 'ok' | 'breach' | 'insufficient-data';
  exposedRatio: number;
  controlRatio: number;
  z: number;
  /** The z a look must exceed. */
  threshold: number;
  exposed: ArmCounts;
  control: ArmCounts;
}

export function guardThreshold(spec: Pick<GuardSpec, 'falseAlarmRate' | 'maxLooks'>): number {
  const alpha = spec.falseAlarmRate ?? 0.01;
  const looks = spec.maxLooks ?? 1000;
  return normalQuantile(1 - alpha / looks);
}

/**
 * Tests H0: p_exposed <= (1 + δ) · p_control against H1: p_exposed > (1 + δ) · p_control with the
 * Wald statistic z = (p̂1 − (1 + δ) p̂0) / sqrt(p̂1(1 − p̂1)/n1 + (1 + δ)² p̂0(1 − p̂0)/n0).
 * A ratio may exceed 1 (several errors per request); the variance then uses the Poisson
 * approximation p̂/n. `threshold` may be passed to skip the quantile when looking many times.
 */
export function evaluateGuard(spec: GuardSpec, exposed: ArmCounts, control: ArmCounts, threshold = guardThreshold(spec)): GuardVerdict {
  const n1 = exposed.denominator;
  const n0 = control.denominator;
  const p1 = n1 > 0 ? exposed.numerator / n1 : 0;
  const p0 = n0 > 0 ? control.numerator / n0 : 0;
  const base = { exposedRatio: p1, controlRatio: p0, threshold, exposed, control };
  if (n1 < spec.minSamples || n0 < spec.minSamples) return { ...base, breached: false, status: 'insufficient-data', z: 0 };
  const k = 1 + spec.maxRelativeIncrease;
  const variance = (p: number, n: number) => (p <= 1 ? p * (1 - p) : p) / n;
  // A floor keeps z finite when both arms are perfectly clean or perfectly broken.
  const se = Math.sqrt(Math.max(variance(p1, n1) + k * k * variance(p0, n0), 1 / (n1 * n1 + n0 * n0)));
  const z = (p1 - k * p0) / se;
  const breached = z > threshold;
  return { ...base, breached, status: breached ? 'breach' : 'ok', z };
}

/** Upper tail of the chi-square distribution with one degree of freedom. */
export function chiSquare1Pvalue(statistic: number): number {
  return 2 * (1 - normalCdf(Math.sqrt(Math.max(statistic, 0))));
}

/**
 * Sample-ratio mismatch: are `exposed` out of `exposed + control` units consistent with the
 * expected share? Answers the p-value of a chi-square goodness-of-fit test (1 degree of freedom).
 */
export function sampleRatioPvalue(exposed: number, control: number, expectedShare: number): number {
  const total = exposed + control;
  if (total === 0 || expectedShare <= 0 || expectedShare >= 1) return 1;
  const e1 = total * expectedShare;
  const e0 = total - e1;
  return chiSquare1Pvalue((exposed - e1) ** 2 / e1 + (control - e0) ** 2 / e0);
}
