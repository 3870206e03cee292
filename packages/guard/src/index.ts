export { chiSquare1Pvalue, normalCdf, normalQuantile, sampleRatioPvalue } from './distributions.js';
export {
  DEFAULT_FALSE_ALARM_RATE, evaluateGuard, evaluateMeanGuard, guardThreshold, MIXTURE_SCALES, mixtureLogLikelihoodRatio, sequentialTest,
} from './sequential.js';
export type { ArmCounts, ArmMoments, GuardSpec, GuardVerdict, MeanGuardSpec, MeanGuardVerdict, MixtureSprtInput, SequentialResult } from './sequential.js';
export { bonferroniMeanZTest, bonferroniThreshold, bonferroniZTest } from './bonferroni.js';
export { seededRandom } from './random.js';
