export { chiSquare1Pvalue, evaluateGuard, guardThreshold, normalCdf, normalQuantile, sampleRatioPvalue } from './statistics.js';
export type { ArmCounts, GuardSpec, GuardVerdict } from './statistics.js';
