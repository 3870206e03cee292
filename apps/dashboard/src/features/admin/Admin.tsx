import { useEffect } from 'react';
import type { Environment } from '../environments/api';
import { ApiKeys } from './ApiKeys';
import { People } from './People';

/** The paths of this page: `/admin`, and `/api-keys` and `/people` (the links webhook messages and
 *  the server print), which scroll to their section. */
export const ADMIN_PATHS = new Set(['/admin', '/api-keys', '/people']);

/** What only admins manage: API keys and people. */
export function Admin({ environments, selfId, path }: { environments: Environment[]; selfId: string; path: string }) {
  useEffect(() => {
    const heading = path === '/api-keys' ? 'keys-heading' : path === '/people' ? 'people-heading' : undefined;
    if (heading) document.getElementById(heading)?.scrollIntoView();
  }, [path]);
  return (
    <main className="page">
      <h1>Keys and people</h1>
      <ApiKeys environments={environments} />
      <People selfId={selfId} />
    </main>
  );
}
