import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { ApiError, api, unwrap, type Schemas } from '../../lib/api';

export type Cohort = Schemas['CohortView'];
export type Condition = Schemas['ConditionDto'];
export type MemberList = NonNullable<Schemas['MemberLookupView']['list']>;
export type MemberAction = 'add' | 'remove' | 'exclude';

/** The server's limit per list and call (CohortMembersDto): an upload is sent in batches of this size. */
export const MEMBERS_PER_CALL = 100_000;

export const cohortKeys = {
  all: ['cohorts'] as const,
  list: () => [...cohortKeys.all, 'list'] as const,
  detail: (key: string) => [...cohortKeys.all, 'detail', key] as const,
  member: (key: string, member: string) => [...cohortKeys.all, 'member', key, member] as const,
};

/** The first 1,000 cohorts (the API's largest page), enough for the list and the pickers. */
export function useCohorts() {
  return useQuery({ queryKey: cohortKeys.list(), queryFn: () => unwrap(api.GET('/api/v1/cohorts', { params: { query: { limit: 1000 } } })) });
}

export function useCohort(key: string) {
  return useQuery({ queryKey: cohortKeys.detail(key), queryFn: () => unwrap(api.GET('/api/v1/cohorts/{key}', { params: { path: { key } } })) });
}

/** Which list holds one key; only asked when a key is given. */
export function useMemberLookup(key: string, member: string) {
  return useQuery({
    queryKey: cohortKeys.member(key, member),
    queryFn: () => unwrap(api.GET('/api/v1/cohorts/{key}/members/{member}', { params: { path: { key, member } } })),
    enabled: member !== '',
  });
}

/** A cohort write changes its row (counts, conditions), the list, its members and the audit log. */
function useInvalidateCohort() {
  const client = useQueryClient();
  return (key: string) =>
    Promise.all([
      client.invalidateQueries({ queryKey: cohortKeys.list() }),
      client.invalidateQueries({ queryKey: cohortKeys.detail(key) }),
      client.invalidateQueries({ queryKey: [...cohortKeys.all, 'member', key] }),
      client.invalidateQueries({ queryKey: ['audit'] }),
    ]);
}

export function useCreateCohort() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: Schemas['CreateCohortDto']) => unwrap(api.POST('/api/v1/cohorts', { body })),
    onSuccess: () => client.invalidateQueries({ queryKey: cohortKeys.list() }),
  });
}

export function useUpdateCohort() {
  const invalidate = useInvalidateCohort();
  return useMutation({
    mutationFn: ({ key, ...body }: { key: string } & Schemas['UpdateCohortDto']) => unwrap(api.PATCH('/api/v1/cohorts/{key}', { params: { path: { key } }, body })),
    onSettled: (_data, _error, { key }) => invalidate(key),
  });
}

export interface UploadProgress {
  /** Keys the server has answered for so far. */
  done: number;
  total: number;
  batch: number;
  batches: number;
}

export interface UploadResult {
  sent: number;
  applied: Schemas['MembersAppliedView'];
  counts: Schemas['MemberCountsView'];
}

/** Sends keys in batches of MEMBERS_PER_CALL, one call after the other, reporting after each. A
 *  failed batch stops the upload: the batches before it stay applied (each call is its own transaction). */
export function useUploadMembers() {
  const invalidate = useInvalidateCohort();
  return useMutation({
    mutationFn: async ({ key, action, keys, onProgress }: { key: string; action: MemberAction; keys: string[]; onProgress: (p: UploadProgress) => void }): Promise<UploadResult> => {
      const batches = Math.ceil(keys.length / MEMBERS_PER_CALL);
      const applied = { added: 0, removed: 0, excluded: 0 };
      let counts = { included: 0, excluded: 0 };
      onProgress({ done: 0, total: keys.length, batch: 0, batches });
      for (let batch = 0; batch < batches; batch++) {
        const slice = keys.slice(batch * MEMBERS_PER_CALL, (batch + 1) * MEMBERS_PER_CALL);
        let answer;
        try {
          answer = await unwrap(api.POST('/api/v1/cohorts/{key}/members', { params: { path: { key } }, body: { [action]: slice } }));
        } catch (error) {
          throw new UploadError(batch + 1, batches, batch * MEMBERS_PER_CALL, error);
        }
        applied.added += answer.applied.added;
        applied.removed += answer.applied.removed;
        applied.excluded += answer.applied.excluded;
        counts = answer.counts;
        onProgress({ done: batch * MEMBERS_PER_CALL + slice.length, total: keys.length, batch: batch + 1, batches });
      }
      return { sent: keys.length, applied, counts };
    },
    onSettled: (_data, _error, { key }) => invalidate(key),
  });
}

/** A batch the server refused, with how far the upload got before it. */
export class UploadError extends Error {
  constructor(
    readonly batch: number,
    readonly batches: number,
    readonly sentBefore: number,
    override readonly cause: unknown,
  ) {
    const said = cause instanceof Error ? cause.message : 'Something went wrong.';
    const field = cause instanceof ApiError ? cause.fields[0] : undefined;
    super(
      `Batch ${batch} of ${batches} failed: ${said}` +
        (field && !said.includes(field.message) ? ` ${field.path}: ${field.message}.` : '') +
        (sentBefore > 0 ? ` The ${sentBefore.toLocaleString('en')} keys before it were applied.` : ' Nothing was applied.'),
    );
    this.name = 'UploadError';
  }
}

/** Removes one key from either list. */
export function useRemoveMember() {
  const invalidate = useInvalidateCohort();
  return useMutation({
    mutationFn: ({ key, member }: { key: string; member: string }) => unwrap(api.POST('/api/v1/cohorts/{key}/members', { params: { path: { key } }, body: { remove: [member] } })),
    onSettled: (_data, _error, { key }) => invalidate(key),
  });
}

/** Refused (409) while a live flag's rule names the cohort. */
export function useDeleteCohort() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ key, reason }: { key: string; reason?: string }) => unwrap(api.DELETE('/api/v1/cohorts/{key}', { params: { path: { key } }, body: reason ? { reason } : {} })),
    onSuccess: (_data, { key }) => {
      client.removeQueries({ queryKey: cohortKeys.detail(key) });
      return Promise.all([client.invalidateQueries({ queryKey: cohortKeys.list() }), client.invalidateQueries({ queryKey: ['audit'] })]);
    },
  });
}
