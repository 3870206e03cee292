import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap, type Schemas } from '../../lib/api';

export type ApiKey = Schemas['ApiKeyView'];
export type Person = Schemas['PersonView'];

export const apiKeyKeys = { all: ['api-keys'] as const, list: () => [...apiKeyKeys.all, 'list'] as const };
export const peopleKeys = { all: ['people'] as const, list: () => [...peopleKeys.all, 'list'] as const };

export function useApiKeys() {
  return useQuery({ queryKey: apiKeyKeys.list(), queryFn: async () => (await unwrap(api.GET('/api/v1/api-keys', { params: { query: { limit: 1000 } } }))).items });
}

export function useCreateApiKey() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: Schemas['CreateApiKeyDto']) => unwrap(api.POST('/api/v1/api-keys', { body })),
    onSuccess: () => client.invalidateQueries({ queryKey: apiKeyKeys.all }),
  });
}

export function useRevokeApiKey() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, reason }: { id: string; reason?: string }) => unwrap(api.DELETE('/api/v1/api-keys/{id}', { params: { path: { id } }, body: reason ? { reason } : {} })),
    onSettled: () => client.invalidateQueries({ queryKey: apiKeyKeys.all }),
  });
}

export function usePeople() {
  return useQuery({ queryKey: peopleKeys.list(), queryFn: () => unwrap(api.GET('/api/v1/people')) });
}

export function useInvitePerson() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: Schemas['InvitePersonDto']) => unwrap(api.POST('/api/v1/people', { body })),
    onSuccess: () => client.invalidateQueries({ queryKey: peopleKeys.all }),
  });
}

export function useUpdatePerson() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, ...body }: { id: string } & Schemas['UpdatePersonDto']) => unwrap(api.PATCH('/api/v1/people/{id}', { params: { path: { id } }, body })),
    onSettled: () => client.invalidateQueries({ queryKey: peopleKeys.all }),
  });
}
