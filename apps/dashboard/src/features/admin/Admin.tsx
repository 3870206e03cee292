import type { Environment } from '../environments/api';
import { ApiKeys } from './ApiKeys';
import { People } from './People';

/** What only admins manage: API keys and people. */
export function Admin({ environments, selfId }: { environments: Environment[]; selfId: string }) {
  return (
    <main className="page">
      <h1>Keys and people</h1>
      <ApiKeys environments={environments} />
      <People selfId={selfId} />
    </main>
  );
}
