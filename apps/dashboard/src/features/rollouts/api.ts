import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap, type Schemas } from '../../lib/api';

export type Plan = Schemas['RolloutPlanView'];
export type PlanState = Plan['state'];
export type NewPlan = Schemas['CreateRolloutPlanDto'];
export type PlanAction = Plan['actions'][number];

/** The live stream invalidates `['plans']` on every `event: plan` (features/live). */
export const planKeys = {
  all: ['plans'] as const,
  lists: () => [...planKeys.all, 'list'] as const,
  ofFlag: (env: string, flag: string) => [...planKeys.lists(), env, flag] as const,
  ofEnvironment: (env: string) => [...planKeys.lists(), env] as const,
  detail: (id: string) => [...planKeys.all, 'detail', id] as const,
  metrics: (env: string, flag: string, since: string) => [...planKeys.all, 'metrics', env, flag, since] as const,
};

export const ACTIVE_STATES: readonly PlanState[] = ['pending', 'running', 'paused', 'awaiting-approval'];
export const isActive = (state: PlanState) => ACTIVE_STATES.includes(state);

/** The guard's numbers change with every report, which no event announces: an active plan is
 *  refetched this often as well. */
const ACTIVE_REFRESH_MS = 5000;

export function useFlagPlans(env: string, flag: string) {
  return useQuery({
    queryKey: planKeys.ofFlag(env, flag),
    queryFn: () => unwrap(api.GET('/api/v1/environments/{env}/flags/{key}/rollout-plans', { params: { path: { env, key: flag }, query: { limit: 20 } } })),
  });
}

export function useEnvironmentPlans(env: string) {
  return useQuery({
    queryKey: planKeys.ofEnvironment(env),
    queryFn: () => unwrap(api.GET('/api/v1/environments/{env}/rollout-plans', { params: { path: { env }, query: { limit: 100 } } })),
  });
}

export function usePlan(id: string) {
  return useQuery({
    queryKey: planKeys.detail(id),
    queryFn: () => unwrap(api.GET('/api/v1/rollout-plans/{id}', { params: { path: { id } } })),
    refetchInterval: (query) => (query.state.data && isActive(query.state.data.state) ? ACTIVE_REFRESH_MS : false),
  });
}

/** The API answers at most 7 days at once. */
const MAX_RANGE_MS = 7 * 86_400_000 - 60_000;

/** The flag's per-arm series since the plan started (10 s buckets, from the one holding the start,
 *  as the guard counts), or its last 7 days. */
export function usePlanMetrics(plan: Plan) {
  const since = plan.startedAt ?? plan.createdAt;
  const until = plan.finishedAt ?? undefined;
  // What the guard counts: one kind of key's reports, when it counts only one.
  const sources = plan.guard?.sources ?? [];
  const source = sources.length === 1 ? sources[0] : undefined;
  return useQuery({
    queryKey: planKeys.metrics(plan.environment, plan.flag, since),
    queryFn: () => {
      const end = until ? new Date(until).getTime() : Date.now();
      const from = new Date(Math.max(new Date(since).getTime(), end - MAX_RANGE_MS)).toISOString();
      return unwrap(
        api.GET('/api/v1/environments/{env}/flags/{key}/metrics', {
          params: { path: { env: plan.environment, key: plan.flag }, query: { since: from, ...(until ? { until } : {}), ...(source ? { source } : {}) } },
        }),
      );
    },
    refetchInterval: isActive(plan.state) ? 10_000 : false,
    placeholderData: keepPreviousData,
  });
}

export function useCreatePlan() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ env, flag, body }: { env: string; flag: string; body: NewPlan }) =>
      unwrap(api.POST('/api/v1/environments/{env}/flags/{key}/rollout-plans', { params: { path: { env, key: flag } }, body })),
    onSuccess: (plan) => {
      client.setQueryData(planKeys.detail(plan.id), plan);
      return client.invalidateQueries({ queryKey: planKeys.lists() });
    },
  });
}

/** start, pause, resume, approve, cancel, rollback. A start, approve or rollback also writes the
 *  flag; the live stream refetches that like any other change. */
export function usePlanAction() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, action, reason }: { id: string; action: PlanAction; reason?: string }) =>
      unwrap(api.POST(`/api/v1/rollout-plans/{id}/${action}`, { params: { path: { id } }, body: reason ? { reason } : {} })),
    onSettled: (_data, _error, { id }) =>
      Promise.all([client.invalidateQueries({ queryKey: planKeys.detail(id) }), client.invalidateQueries({ queryKey: planKeys.lists() })]),
  });
}
