import { describe, expect, it } from 'vitest';
import { guardConfig, guardsConfig, parseDemoArgs, planSteps } from '../src/options.js';

describe('demo options', () => {
  it('runs both scenarios with 2,000 users by default, shorter and busier with --quick', () => {
    const full = parseDemoArgs([]);
    const quick = parseDemoArgs(['--quick']);
    expect(full).toMatchObject({ scenarios: ['healthy', 'buggy'], users: 2000, ratePerSecond: 300, holdSeconds: 15, bugRate: 0.2 });
    expect(quick).toMatchObject({ users: 2000, ratePerSecond: 600, holdSeconds: 3, minSamples: 100 });
    expect(planSteps(quick)).toEqual([
      { percentage: 1, holdSeconds: 3 }, { percentage: 5, holdSeconds: 3 }, { percentage: 25, holdSeconds: 3 },
      { percentage: 50, holdSeconds: 3 }, { percentage: 100, holdSeconds: 1 },
    ]);
    expect(guardConfig(full)).toEqual({ numerator: 'error', denominator: 'request', maxRelativeIncrease: 0.5, minSamples: 200, falseAlarmRate: 0.01 });
  });

  it('takes overrides', () => {
    const o = parseDemoArgs(['--quick', '--bug-rate', '0.5', '--rps', '900', '--steps', '10,100', '--scenarios', 'buggy']);
    expect(o).toMatchObject({ bugRate: 0.5, ratePerSecond: 900, percentages: [10, 100], scenarios: ['buggy'] });
  });

  it('--bug latency: a slower v2, 20 ms base latency, and a latency guard beside the error guard', () => {
    const o = parseDemoArgs(['--bug', 'latency']);
    expect(o).toMatchObject({ bug: 'latency', bugLatencyFactor: 2, latencyMs: 20 });
    expect(guardsConfig(o)).toEqual([guardConfig(o), { metric: 'latency', maxRelativeIncrease: 0.2, minSamples: 200, falseAlarmRate: 0.01 }]);
    expect(guardsConfig(parseDemoArgs([]))).toEqual([guardConfig(parseDemoArgs([]))]);
  });

  it('a step may wait long enough for the first step to gather minSamples; a 0.1 % first step works', () => {
    // 200 samples at 1 % of 300 requests/s take 67 s: twice that.
    expect(parseDemoArgs([]).maxHoldSeconds).toBe(134);
    expect(parseDemoArgs(['--max-hold-seconds', '20']).maxHoldSeconds).toBe(20);
    const fine = parseDemoArgs(['--users', '100000', '--steps', '0.1,1,5,25,50,100']);
    expect(fine.percentages).toEqual([0.1, 1, 5, 25, 50, 100]);
    expect(planSteps(fine)[0]).toEqual({ percentage: 0.1, holdSeconds: 15 });
  });

  it.each([
    [['--bug', 'slow'], /--bug takes errors or latency/],
    [['--max-hold-seconds', '1'], /--max-hold-seconds must be seconds ≥ the hold/],
    [['--bug-rate', '2'], /--bug-rate must be a share/],
    [['--users', '0'], /--users/],
    [['--steps', '5,1'], /--steps must be rising/],
    [['--scenarios', 'other'], /--scenarios/],
    [['--nope'], /Unknown option/],
  ])('refuses %j', (args, message) => {
    expect(() => parseDemoArgs(args)).toThrow(message);
  });
});
