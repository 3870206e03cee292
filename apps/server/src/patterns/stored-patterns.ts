import type { Condition } from '@aviary/core';

/**
 * The `matches` patterns of conditions already stored: what a write may keep although they no
 * longer compile (`ValidateOptions.storedPatterns`), so that a kill, a revive or the rollout dial
 * never fails on a pattern written before the RE2 dialect.
 */
export function storedPatterns(conditionLists: ReadonlyArray<readonly Condition[] | undefined>): Set<string> {
  const patterns = new Set<string>();
  for (const conditions of conditionLists) {
    for (const c of conditions ?? []) {
      const first = c.values?.[0];
      if (c.operator === 'matches' && typeof first === 'string') patterns.add(first);
    }
  }
  return patterns;
}
