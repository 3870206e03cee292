import { describe, expect, it } from 'vitest';
import { guardConfig, parseDemoArgs, planSteps } from '../src/options.js';

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

  it.each([
    [['--bug-rate', '2'], /--bug-rate must be a share/],
    [['--users', '0'], /--users/],
    [['--steps', '5,1'], /--steps must be rising/],
    [['--scenarios', 'other'], /--scenarios/],
    [['--nope'], /Unknown option/],
  ])('refuses %j', (args, message) => {
    expect(() => parseDemoArgs(args)).toThrow(message);
  });
});
