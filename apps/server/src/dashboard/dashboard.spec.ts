import { describe, expect, it } from 'vitest';
import { isDashboardPath } from './dashboard-static.js';
import { rolloutPercentageOf } from './flag-list.service.js';
import { liveEvent } from './live-events.js';

describe('the dashboard page is served', () => {
  it.each(['/', '/flags/new-checkout', '/audit', '/setup?token=abc', '/invite?token=abc', '/apix', '/documentation'])('at %s', (path) => {
    expect(isDashboardPath(path)).toBe(true);
  });
  it.each(['/api', '/api/v1/flags', '/sdk/v1/stream', '/ofrep/v1/evaluate/flags', '/docs', '/docs/', '/health', '/healthz', '/readyz', '/metrics', '/openapi.json', '/api?x=1'])(
    'never at %s',
    (path) => {
      expect(isDashboardPath(path)).toBe(false);
    },
  );
});

describe('the flag list row', () => {
  it.each([
    [null, null],
    [[], null],
    [[{}], 100],
    [[{ rollout: { percentage: 5 } }], 5],
    [[{ rollout: { percentage: 100 } }, { rollout: { percentage: 12.5 } }], 12.5],
    [[{}, { rollout: { percentage: 100 } }], 100],
  ])('shows the rollout of %j as %j', (rules, expected) => {
    expect(rolloutPercentageOf(rules)).toBe(expected);
  });
});

describe('a live event', () => {
  it('names the flags and cohorts a revision touched, without their values', () => {
    const event = liveEvent({
      environment: 'production',
      revision: 8,
      kind: 'kill',
      patch: { revision: 8, flags: { 'new-checkout': { key: 'new-checkout', enabled: false } as never }, cohorts: { beta: null } },
    });
    expect(event).toEqual({ environment: 'production', revision: 8, kind: 'kill', flags: ['new-checkout'], cohorts: ['beta'] });
  });

  it('names nothing for a whole ruleset: the page reloads everything', () => {
    expect(liveEvent({ environment: 'production', revision: 9, kind: 'ruleset', patch: { revision: 9 } })).toMatchObject({ flags: [], cohorts: [] });
  });
});
