/** The normal and chi-square distributions the guards need, and the sample-ratio mismatch test. */

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
