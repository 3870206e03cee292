import type { NewPlan } from './api';

export type TemplateKey = 'canary' | 'blue-green' | 'rolling';

export interface Template {
  key: TemplateKey;
  name: string;
  /** One sentence the dialog shows under the choice. */
  description: string;
  plan: Pick<NewPlan, 'steps' | 'guard' | 'requireApproval'>;
}

const ERROR_GUARD = { numerator: 'error', denominator: 'request', falseAlarmRate: 0.01, sources: ['server', 'client'] as Array<'server' | 'client'> };

/** The three releases of docs/rollouts.md ("Canary, blue-green and rolling releases"). */
export const TEMPLATES: readonly Template[] = [
  {
    key: 'canary',
    name: 'Canary',
    description: 'A few users first, held long enough to see, with a guard that kills the flag when the users who got the change do worse than the rest.',
    plan: {
      steps: [
        { percentage: 1, holdSeconds: 600 },
        { percentage: 5, holdSeconds: 1800 },
        { percentage: 25, holdSeconds: 3600 },
        { percentage: 50, holdSeconds: 3600 },
        { percentage: 100, holdSeconds: 0 },
      ],
      guard: { ...ERROR_GUARD, maxRelativeIncrease: 0.2, minSamples: 500 },
      requireApproval: false,
    },
  },
  {
    key: 'blue-green',
    name: 'Blue-green',
    description: 'Everyone switches to the new version at once; the hold keeps the old one warm, and rolling back sends everyone back in one call (no control group is left, so no guard).',
    plan: { steps: [{ percentage: 100, holdSeconds: 900 }], guard: undefined, requireApproval: false },
  },
  {
    key: 'rolling',
    name: 'Rolling',
    description: 'Even steps (10, 25, 50, 75, 100 %), each one a gate a person approves after a look at the dashboards, with a guard watching all along.',
    plan: {
      steps: [
        { percentage: 10, holdSeconds: 900 },
        { percentage: 25, holdSeconds: 900 },
        { percentage: 50, holdSeconds: 900 },
        { percentage: 75, holdSeconds: 900 },
        { percentage: 100, holdSeconds: 0 },
      ],
      guard: { ...ERROR_GUARD, maxRelativeIncrease: 0.5, minSamples: 200 },
      requireApproval: true,
    },
  },
];
