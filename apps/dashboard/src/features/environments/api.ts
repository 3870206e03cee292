import { useQuery } from '@tanstack/react-query';
import { api, unwrap, type Schemas } from '../../lib/api';

export type Environment = Schemas['EnvironmentView'];

export const environmentKeys = {
  all: ['environments'] as const,
  list: () => [...environmentKeys.all, 'list'] as const,
};

export function useEnvironments() {
  return useQuery({
    queryKey: environmentKeys.list(),
    queryFn: async () => (await unwrap(api.GET('/api/v1/environments', { params: { query: { limit: 1000 } } }))).items,
    staleTime: 60_000,
  });
}

/** Production is what people must not confuse with anything else: its key or name says so. */
export function isProduction(env: Pick<Environment, 'key' | 'name'>): boolean {
  return /^prod(uction)?$/i.test(env.key) || /\bprod(uction)?\b/i.test(env.name);
}
