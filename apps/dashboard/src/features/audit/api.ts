import { useInfiniteQuery } from '@tanstack/react-query';
import { api, unwrap, type Schemas } from '../../lib/api';

export type AuditEvent = Schemas['AuditEventView'];
export interface AuditFilters {
  resource?: string;
  action?: string;
  person?: string;
  environment?: string;
  since?: string;
  until?: string;
}

export const auditKeys = {
  all: ['audit'] as const,
  list: (filters: AuditFilters) => [...auditKeys.all, 'list', filters] as const,
};

export function useAudit(filters: AuditFilters) {
  return useInfiniteQuery({
    queryKey: auditKeys.list(filters),
    queryFn: ({ pageParam }) => unwrap(api.GET('/api/v1/audit', { params: { query: { ...filters, limit: 50, ...(pageParam ? { cursor: pageParam } : {}) } } })),
    initialPageParam: '',
    getNextPageParam: (page) => page.nextCursor ?? undefined,
  });
}
