import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.js';

describe('backoffDelay', () => {
  it.each([
    [0, 1_000],
    [1, 2_000],
    [4, 16_000],
    [5, 30_000],
    [60, 30_000],
  ])('attempt %i waits at most %i ms', (attempt, ceiling) => {
    expect(backoffDelay(attempt, 1_000, 30_000, () => 0.999999)).toBe(ceiling - 1);
    expect(backoffDelay(attempt, 1_000, 30_000, () => 0)).toBe(0);
    expect(backoffDelay(attempt, 1_000, 30_000, () => 0.5)).toBe(ceiling / 2);
  });
});
