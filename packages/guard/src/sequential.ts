/**
 * The guards' test: a mixture sequential probability ratio test (mSPRT) with a normal mixture, as
 * in R. Johari, P. Koomen, L. Pekelis, D. Walsh, "Always Valid Inference: Continuous Monitoring of
 * A/B Tests", Operations Research 70(3):1806–1821, 2022 (arXiv:1512.04922), section 3.
 *
 * The quantity tested is θ = μ₁ − k·μ₀ with k = 1 + maxRelativeIncrease (μ₁ the exposed arm's
 * ratio or mean, μ₀ the control's); H0: θ ≤ 0, "the exposed arm is at most k times the control".
 * With the estimate θ̂ (asymptotically normal, variance V = σ₁²/n₁ + k²σ₀²/n₀) and a N(0, τ²)
 * mixture over θ, the likelihood ratio against θ = 0 is
 *
 *   Λ = sqrt(V / (V + τ²)) · exp(τ² θ̂² / (2 V (V + τ²)))
 *
 * (their eq. (11) with V in place of 2σ²/n). The guard averages Λ over several mixture widths
 * τ (`MIXTURE_SCALES`, equal weights): an average of such mixtures is itself a mixture (a
 * scale mixture of normals over θ), so it keeps every property below, and it decides fast both
 * on effects near the tolerated level and on ones a hundred times the control's rate (a canary
 * failing half its requests against 0.5 % errors), where a single narrow τ is slow.
 * Under H0, Λ is a nonnegative martingale with E[Λ] = 1, so by Ville's inequality P(Λ ever ≥ 1/α)
 * ≤ α: the test may look after every event, forever, and keeps its false-alarm rate. It breaches
 * only when θ̂ > 0 (one-sided; the two-sided mixture keeps the one-sided test valid, at a slight
 * cost in power). Like the paper's two-sample test, V is a plug-in estimate, and so is τ (a
 * multiple of the tolerated level k·μ̄), which makes the guarantee asymptotic; `minSamples` keeps
 * the normal approximation honest.
 */

/** τ = scale · k · μ̄ for each scale, Λ averaged over them: effects from a quarter of the
 *  tolerated level to sixteen times it (bench/guard.mjs compares with the Bonferroni z-test). */
export const MIXTURE_SCALES = [0.25, 1, 4, 16] as const;

export interface MixtureSprtInput {
  /** θ̂ = μ̂₁ − k·μ̂₀. */
  estimate: number;
  /** V, the variance of θ̂. */
  variance: number;
  /** τ², the variance of the normal mixture over θ. */
  mixtureVariance: number;
}

/** log Λ of the normal-mixture SPRT (Johari et al. 2022, eq. (11)); a log, so huge evidence
 *  stays finite. */
export function mixtureLogLikelihoodRatio({ estimate, variance, mixtureVariance: tau2 }: MixtureSprtInput): number {
  if (!(variance > 0) || !(tau2 > 0)) return 0;
  return 0.5 * Math.log(variance / (variance + tau2)) + (tau2 * estimate * estimate) / (2 * variance * (variance + tau2));
}

export interface ArmCounts {
  /** Events counted in the numerator (e.g. `error`). */
  numerator: number;
  /** Events counted in the denominator (e.g. `request`). */
  denominator: number;
}

/** A tracked value's moments in one arm: `track('latency', ctx, { value })` adds 1, value, value². */
export interface ArmMoments {
  count: number;
  sum: number;
  sumSquares: number;
}

export interface GuardSpec {
  numerator: string;
  denominator: string;
  /** 0.5: breach when the exposed ratio is more than 1.5 × the control's. */
  maxRelativeIncrease: number;
  /** Denominator events each arm needs before the guard may decide. */
  minSamples: number;
  /** False-alarm rate over the whole plan, however often it looks (default 0.01). */
  falseAlarmRate?: number;
}

export interface MeanGuardSpec {
  /** The tracked value (e.g. `latency`). */
  metric: string;
  /** 0.2: breach when the exposed mean is more than 1.2 × the control's. */
  maxRelativeIncrease: number;
  /** Values each arm needs before the guard may decide. */
  minSamples: number;
  falseAlarmRate?: number;
}

export interface SequentialResult {
  breached: boolean;
  /** `insufficient-data` until both arms have `minSamples`. */
  status: 'ok' | 'breach' | 'insufficient-data';
  /** The Wald statistic θ̂ / sqrt(V), for people; the decision is the likelihood ratio's. */
  z: number;
  /** log Λ of this look. */
  logLikelihoodRatio: number;
  /** ln(1 / falseAlarmRate): the log Λ a look must reach. */
  threshold: number;
  /** The always-valid p-value of this look, min(1, 1/Λ): breach when it is at most the false-alarm rate. */
  pValue: number;
}

export interface GuardVerdict extends SequentialResult {
  exposedRatio: number;
  controlRatio: number;
  exposed: ArmCounts;
  control: ArmCounts;
}

export interface MeanGuardVerdict extends SequentialResult {
  exposedMean: number;
  controlMean: number;
  exposed: ArmMoments;
  control: ArmMoments;
}

export const DEFAULT_FALSE_ALARM_RATE = 0.01;

/** ln(1/α): the log-likelihood ratio at which a guard with this false-alarm rate breaches. */
export function guardThreshold(spec: { falseAlarmRate?: number }): number {
  return -Math.log(spec.falseAlarmRate ?? DEFAULT_FALSE_ALARM_RATE);
}

interface Arm {
  n: number;
  mean: number;
  /** Per-unit variance σ². */
  variance: number;
}

/** The mSPRT of H0: μ₁ ≤ k·μ₀ on two arms' means and per-unit variances. */
export function sequentialTest(spec: { maxRelativeIncrease: number; minSamples: number; falseAlarmRate?: number }, exposed: Arm, control: Arm): SequentialResult {
  const threshold = guardThreshold(spec);
  if (exposed.n < spec.minSamples || control.n < spec.minSamples || exposed.n === 0 || control.n === 0) {
    return { breached: false, status: 'insufficient-data', z: 0, logLikelihoodRatio: 0, threshold, pValue: 1 };
  }
  const k = 1 + spec.maxRelativeIncrease;
  const estimate = exposed.mean - k * control.mean;
  // A floor keeps V positive when both arms are perfectly clean or perfectly broken.
  const variance = Math.max(exposed.variance / exposed.n + (k * k * control.variance) / control.n, 1 / (exposed.n * exposed.n + control.n * control.n));
  const pooled = (exposed.n * exposed.mean + control.n * control.mean) / (exposed.n + control.n);
  const level = k * Math.abs(pooled);
  // No level to scale by (a clean control and exposed arm, or values centred on 0): one standard error.
  const widths = level > 0 ? MIXTURE_SCALES.map((scale) => (scale * level) ** 2) : [variance];
  const logLikelihoodRatio = estimate > 0 ? logMeanExp(widths.map((mixtureVariance) => mixtureLogLikelihoodRatio({ estimate, variance, mixtureVariance }))) : 0;
  const breached = logLikelihoodRatio >= threshold;
  return {
    breached,
    status: breached ? 'breach' : 'ok',
    z: estimate / Math.sqrt(variance),
    logLikelihoodRatio,
    threshold,
    pValue: Math.min(1, Math.exp(-logLikelihoodRatio)),
  };
}

/**
 * A ratio guard (errors per request): each denominator event is a unit whose value is its
 * numerator events. A ratio at most 1 has the Bernoulli variance p(1 − p); above 1 (several
 * errors per request) the Poisson approximation p.
 */
export function evaluateGuard(spec: GuardSpec, exposed: ArmCounts, control: ArmCounts): GuardVerdict {
  const arm = (counts: ArmCounts): Arm => {
    const n = counts.denominator;
    const p = n > 0 ? counts.numerator / n : 0;
    return { n, mean: p, variance: p <= 1 ? p * (1 - p) : p };
  };
  const e = arm(exposed);
  const c = arm(control);
  return { ...sequentialTest(spec, e, c), exposedRatio: e.mean, controlRatio: c.mean, exposed, control };
}

/** A mean guard (latency): the arms' sample means and variances from their moments. */
export function evaluateMeanGuard(spec: MeanGuardSpec, exposed: ArmMoments, control: ArmMoments): MeanGuardVerdict {
  const e = momentsArm(exposed);
  const c = momentsArm(control);
  return { ...sequentialTest(spec, e, c), exposedMean: e.mean, controlMean: c.mean, exposed, control };
}

/** log of the mean of exp(x) over `logs`, without overflow. */
function logMeanExp(logs: readonly number[]): number {
  const top = Math.max(...logs);
  return top + Math.log(logs.reduce((sum, l) => sum + Math.exp(l - top), 0) / logs.length);
}

function momentsArm({ count: n, sum, sumSquares }: ArmMoments): Arm {
  if (n <= 0) return { n: 0, mean: 0, variance: 0 };
  const mean = sum / n;
  // Rounding can make the difference slightly negative for constant values.
  const variance = n > 1 ? Math.max(0, (sumSquares - n * mean * mean) / (n - 1)) : 0;
  return { n, mean, variance };
}
