/** The few admin API calls the demo makes (docs/rollouts.md, DESIGN.md §3), over plain HTTP. */

export interface RolloutStep {
  percentage: number;
  holdSeconds: number;
}

export interface GuardConfig {
  /** A ratio guard's events. */
  numerator?: string;
  denominator?: string;
  /** A mean guard's tracked value instead. */
  metric?: string;
  maxRelativeIncrease: number;
  minSamples: number;
  falseAlarmRate?: number;
}

export type PlanState = 'pending' | 'running' | 'paused' | 'awaiting-approval' | 'completed' | 'rolled-back' | 'cancelled';

export interface GuardVerdict {
  status: string;
  breached?: boolean;
  looks?: number;
  /** When the guard looked. */
  at?: string;
  z?: number;
  threshold?: number;
  exposedRatio?: number;
  controlRatio?: number;
  exposed?: { numerator: number; denominator: number };
  control?: { numerator: number; denominator: number };
}

/** One entry of a plan's history (docs/rollouts.md), oldest first. */
export interface PlanHistoryEntry {
  at: string;
  type: string;
  stepIndex?: number | null;
  percentage?: number | null;
  revision?: number | string | null;
  actor?: string;
  reason?: string | null;
  verdict?: GuardVerdict | null;
}

/** A plan as the server answers it; fields beyond the contract are kept as they come. */
export interface RolloutPlan {
  id: string;
  environment: string;
  flag: string;
  ruleId: string;
  state: PlanState;
  /** The step whose percentage is live; null before the plan starts. */
  stepIndex: number | null;
  steps: RolloutStep[];
  guard?: GuardConfig | null;
  startedAt?: string | null;
  stepStartedAt?: string | null;
  nextStepAt?: string | null;
  verdict?: GuardVerdict | null;
  warnings?: unknown[];
  outcome?: string | null;
  reason?: string | null;
  createdAt: string;
  updatedAt: string;
  finishedAt?: string | null;
  /** On `GET /rollout-plans/:id` only. */
  history?: PlanHistoryEntry[];
  [more: string]: unknown;
}

export interface CreatePlanBody {
  ruleId: string;
  steps: RolloutStep[];
  guard?: GuardConfig;
  guards?: GuardConfig[];
  maxHoldSeconds?: number;
  requireApproval?: boolean;
  start?: boolean;
  reason?: string;
}

export interface FlagRule {
  id: string;
  conditions?: unknown[];
  rollout?: { percentage: number; bucketBy?: string; salt?: string };
  [more: string]: unknown;
}

export interface FlagConfig {
  flag: string;
  environment: string;
  enabled: boolean;
  rules: FlagRule[];
  version: number;
  revision: number;
  updatedAt: string | null;
}

export class AdminApiError extends Error {
  constructor(readonly status: number, readonly method: string, readonly path: string, readonly body: string) {
    super(`${method} ${path} answered ${status}: ${body.slice(0, 500)}`);
    this.name = 'AdminApiError';
  }
}

export interface AdminApi {
  createServerKey(environment: string, name: string): Promise<string>;
  createFlag(key: string, name: string, description?: string): Promise<void>;
  putFlagConfig(environment: string, flag: string, config: { enabled?: boolean; rules?: FlagRule[]; reason?: string }): Promise<FlagConfig>;
  getFlagConfig(environment: string, flag: string): Promise<FlagConfig>;
  createPlan(environment: string, flag: string, body: CreatePlanBody): Promise<RolloutPlan>;
  getPlan(id: string): Promise<RolloutPlan>;
  cancelPlan(id: string, reason: string): Promise<RolloutPlan>;
}

export function createAdminApi(baseUrl: string, token: string): AdminApi {
  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${baseUrl}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    if (!res.ok) throw new AdminApiError(res.status, method, path, text);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }
  const flagPath = (environment: string, flag: string) =>
    `/environments/${encodeURIComponent(environment)}/flags/${encodeURIComponent(flag)}`;

  return {
    async createServerKey(environment, name) {
      const created = await call<{ secret: string }>('POST', '/api-keys', { name, kind: 'server', environment });
      return created.secret;
    },
    async createFlag(key, name, description = '') {
      await call('POST', '/flags', { key, name, description });
    },
    putFlagConfig: (environment, flag, config) => call('PUT', flagPath(environment, flag), config),
    getFlagConfig: (environment, flag) => call('GET', flagPath(environment, flag)),
    createPlan: (environment, flag, body) => call('POST', `${flagPath(environment, flag)}/rollout-plans`, body),
    getPlan: (id) => call('GET', `/rollout-plans/${encodeURIComponent(id)}`),
    cancelPlan: (id, reason) => call('POST', `/rollout-plans/${encodeURIComponent(id)}/cancel`, { reason }),
  };
}
