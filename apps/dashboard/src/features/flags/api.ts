import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap, type Schemas } from '../../lib/api';

export type FlagListItem = Schemas['FlagListItemView'];
export type FlagConfig = Schemas['FlagConfigView'];
export type FlagDefinition = Schemas['FlagDetailView'] & { etag: string | null };

export const flagKeys = {
  all: ['flags'] as const,
  lists: () => [...flagKeys.all, 'list'] as const,
  list: (env: string) => [...flagKeys.lists(), env] as const,
  configs: (env: string) => [...flagKeys.all, 'config', env] as const,
  config: (env: string, key: string) => [...flagKeys.configs(env), key] as const,
  definition: (key: string) => [...flagKeys.all, 'definition', key] as const,
};

/** The definition with its ETag, which PATCH takes back as If-Match. */
export function useFlagDefinition(key: string) {
  return useQuery({
    queryKey: flagKeys.definition(key),
    queryFn: async (): Promise<FlagDefinition> => {
      const call = api.GET('/api/v1/flags/{key}', { params: { path: { key } } });
      const data = await unwrap(call);
      return { ...data, etag: (await call).response.headers.get('ETag') };
    },
  });
}

/** A definition is shared by every environment: every list and config shows its name or variants. */
export function useUpdateDefinition() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ key, etag, ...body }: { key: string; etag: string | null } & Schemas['UpdateFlagDto']) =>
      unwrap(api.PATCH('/api/v1/flags/{key}', { params: { path: { key }, header: etag ? { 'If-Match': etag } : undefined }, body })),
    onSettled: (_data, _error, { key }) =>
      Promise.all([
        client.invalidateQueries({ queryKey: flagKeys.definition(key) }),
        client.invalidateQueries({ queryKey: flagKeys.lists() }),
        client.invalidateQueries({ queryKey: ['audit'] }),
      ]),
  });
}

export function useFlagList(env: string) {
  return useQuery({
    queryKey: flagKeys.list(env),
    queryFn: () => unwrap(api.GET('/api/v1/environments/{env}/flags', { params: { path: { env } } })),
    enabled: env !== '',
  });
}

export function useFlagConfig(env: string, key: string) {
  return useQuery({
    queryKey: flagKeys.config(env, key),
    queryFn: () => unwrap(api.GET('/api/v1/environments/{env}/flags/{key}', { params: { path: { env, key } } })),
    enabled: env !== '',
  });
}

/** Every write to one flag in one environment changes its row and its config there (and adds an audit entry). */
function useInvalidateFlag() {
  const client = useQueryClient();
  return (env: string, key: string) =>
    Promise.all([
      client.invalidateQueries({ queryKey: flagKeys.list(env) }),
      client.invalidateQueries({ queryKey: flagKeys.config(env, key) }),
      client.invalidateQueries({ queryKey: ['audit'] }),
    ]);
}

interface Switch {
  env: string;
  key: string;
  reason?: string;
}

export function useKill() {
  const invalidate = useInvalidateFlag();
  return useMutation({
    mutationFn: ({ env, key, reason }: Switch) =>
      unwrap(api.POST('/api/v1/environments/{env}/flags/{key}/kill', { params: { path: { env, key } }, body: reason ? { reason } : {} })),
    onSettled: (_data, _error, { env, key }) => invalidate(env, key),
  });
}

export function useRevive() {
  const invalidate = useInvalidateFlag();
  return useMutation({
    mutationFn: ({ env, key, reason }: Switch) =>
      unwrap(api.POST('/api/v1/environments/{env}/flags/{key}/revive', { params: { path: { env, key } }, body: reason ? { reason } : {} })),
    onSettled: (_data, _error, { env, key }) => invalidate(env, key),
  });
}

export function useSetRollout() {
  const invalidate = useInvalidateFlag();
  return useMutation({
    mutationFn: ({ env, key, version, ...body }: { env: string; key: string; version: number } & Schemas['RolloutDialDto']) =>
      unwrap(api.PUT('/api/v1/environments/{env}/flags/{key}/rollout', { params: { path: { env, key }, header: { 'If-Match': String(version) } }, body })),
    onSettled: (_data, _error, { env, key }) => invalidate(env, key),
  });
}

export function useSaveConfig() {
  const invalidate = useInvalidateFlag();
  return useMutation({
    mutationFn: ({ env, key, version, ...body }: { env: string; key: string; version: number } & Schemas['FlagConfigDto']) =>
      unwrap(api.PUT('/api/v1/environments/{env}/flags/{key}', { params: { path: { env, key }, header: { 'If-Match': String(version) } }, body })),
    onSettled: (_data, _error, { env, key }) => invalidate(env, key),
  });
}

export function useCreateFlag() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: Schemas['CreateFlagDto']) => unwrap(api.POST('/api/v1/flags', { body })),
    onSuccess: () => client.invalidateQueries({ queryKey: flagKeys.lists() }),
  });
}
