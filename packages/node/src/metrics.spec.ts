import { describe, expect, it } from 'vitest';
import { createMetricsRecorder } from './metrics.js';

function recorder(limits = {}) {
  let clock = 1_000;
  const metrics = createMetricsRecorder(() => clock, { maxArms: 100, maxEventRows: 100, maxContexts: 100, maxAttributions: 1_000, ...limits });
  return { metrics, advance: (ms: number) => (clock += ms) };
}

describe('metrics recorder', () => {
  it('counts exposures per flag and arm within a window', () => {
    const { metrics, advance } = recorder();
    metrics.recordExposure('checkout', true, 'blue', 'u1');
    metrics.recordExposure('checkout', true, 'blue', 'u2');
    metrics.recordExposure('checkout', true, 'green', 'u3');
    metrics.recordExposure('checkout', false, null, 'u4');
    advance(10_000);
    expect(metrics.take()).toEqual({
      start: 1_000,
      end: 11_000,
      exposures: [
        { flag: 'checkout', enabled: true, variant: 'blue', count: 2 },
        { flag: 'checkout', enabled: true, variant: 'green', count: 1 },
        { flag: 'checkout', enabled: false, variant: null, count: 1 },
      ],
      events: [],
    });
  });

  it('attributes a tracked event to every arm the context saw in the window, summing values', () => {
    const { metrics } = recorder();
    metrics.recordExposure('checkout', true, 'blue', 'u1');
    metrics.recordExposure('checkout', true, 'blue', 'u1');
    metrics.recordExposure('banner', false, null, 'u1');
    metrics.recordExposure('checkout', true, 'green', 'u2');
    metrics.recordEvent('purchase', 'u1', 30);
    metrics.recordEvent('purchase', 'u1', 12.5);
    metrics.recordEvent('error', 'u2', 0);
    metrics.recordEvent('error', 'stranger', 0);
    metrics.recordEvent('error', undefined, 0);
    expect(metrics.take()?.events).toEqual([
      { event: 'purchase', flag: 'checkout', enabled: true, variant: 'blue', count: 2, sum: 42.5, sumSquares: 1056.25 },
      { event: 'purchase', flag: 'banner', enabled: false, variant: null, count: 2, sum: 42.5, sumSquares: 1056.25 },
      { event: 'error', flag: 'checkout', enabled: true, variant: 'green', count: 1, sum: 0, sumSquares: 0 },
    ]);
  });

  it('starts a new window after take(): exposures of the last window no longer attribute', () => {
    const { metrics } = recorder();
    metrics.recordExposure('checkout', true, 'blue', 'u1');
    metrics.take();
    metrics.recordEvent('purchase', 'u1', 1);
    expect(metrics.take()).toBeUndefined();
  });

  it('keeps flag names with separators apart', () => {
    const { metrics } = recorder();
    metrics.recordExposure('a:b', true, 'c', 'u1');
    metrics.recordExposure('a', true, 'b:c', 'u1');
    expect(metrics.take()?.exposures).toHaveLength(2);
  });

  it.each([
    ['arms', { maxArms: 2 }, 3],
    ['event rows', { maxEventRows: 1 }, 0],
  ])('drops and counts what exceeds the cap on %s', (_what, limits, droppedExposures) => {
    const { metrics } = recorder(limits);
    metrics.recordExposure('f1', true, null, 'u1');
    metrics.recordExposure('f2', true, null, 'u1');
    for (let i = 0; i < 3; i += 1) metrics.recordExposure(`other-${i}`, true, null, 'u2');
    metrics.recordEvent('purchase', 'u1', 1);
    const report = metrics.take();
    if (droppedExposures > 0) {
      expect(report?.exposures).toHaveLength(2);
      expect(metrics.dropped).toBe(droppedExposures);
    } else {
      expect(report?.events).toHaveLength(1);
      expect(metrics.dropped).toBe(1);
    }
  });

  it('bounds the contexts remembered for attribution', () => {
    const { metrics } = recorder({ maxContexts: 2, maxAttributions: 3 });
    metrics.recordExposure('f1', true, null, 'u1');
    metrics.recordExposure('f2', true, null, 'u1');
    metrics.recordExposure('f3', true, null, 'u1');
    metrics.recordExposure('f4', true, null, 'u1');
    metrics.recordExposure('f1', true, null, 'u2');
    metrics.recordExposure('f1', true, null, 'u3');
    metrics.recordEvent('e', 'u1', 0);
    metrics.recordEvent('e', 'u2', 0);
    metrics.recordEvent('e', 'u3', 0);
    const report = metrics.take();
    expect(report?.exposures.reduce((sum, row) => sum + row.count, 0)).toBe(6);
    expect(report?.events.map((row) => row.flag)).toEqual(['f1', 'f2', 'f3']);
    expect(report?.events.find((row) => row.flag === 'f1')?.count).toBe(1);
  });
});
