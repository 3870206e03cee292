import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { ApiError, api, unwrap, type Schemas } from '../../lib/api';

export type Me = Schemas['MeView'];

export const authKeys = {
  all: ['auth'] as const,
  options: () => [...authKeys.all, 'options'] as const,
  me: () => [...authKeys.all, 'me'] as const,
};

export function useSignInOptions() {
  return useQuery({ queryKey: authKeys.options(), queryFn: () => unwrap(api.GET('/api/v1/auth/options')) });
}

/** The signed-in person, or null when nobody is (a 401). */
export function useMe() {
  return useQuery({
    queryKey: authKeys.me(),
    queryFn: async (): Promise<Me | null> => {
      try {
        return await unwrap(api.GET('/api/v1/auth/me'));
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) return null;
        throw error;
      }
    },
    staleTime: 60_000,
  });
}

/** After any sign-in the whole cache belongs to someone else: start over. */
function useSignedIn() {
  const client = useQueryClient();
  return () => client.resetQueries();
}

export function useLogin() {
  const signedIn = useSignedIn();
  return useMutation({
    mutationFn: (body: Schemas['LoginDto']) => unwrap(api.POST('/api/v1/auth/login', { body })),
    onSuccess: signedIn,
  });
}

export function useSetup() {
  const signedIn = useSignedIn();
  return useMutation({
    mutationFn: (body: Schemas['SetupDto']) => unwrap(api.POST('/api/v1/auth/setup', { body })),
    onSuccess: signedIn,
  });
}

export function useAcceptInvite() {
  const signedIn = useSignedIn();
  return useMutation({
    mutationFn: (body: Schemas['AcceptInviteDto']) => unwrap(api.POST('/api/v1/auth/accept-invite', { body })),
    onSuccess: signedIn,
  });
}

export function useLogout() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => unwrap(api.POST('/api/v1/auth/logout')),
    // Nobody first (the signed-in screens unmount), then nothing of theirs stays in the cache.
    onSuccess: () => {
      client.setQueryData(authKeys.me(), null);
      client.removeQueries({ predicate: (query) => query.queryKey[0] !== authKeys.all[0] });
    },
  });
}
