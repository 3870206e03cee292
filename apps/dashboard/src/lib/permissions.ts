import type { components } from './api-schema';

type Me = components['schemas']['MeView'];

/** What the person may do in one environment (docs/people.md "Roles"): the UI shows only those controls. */
export interface Permissions {
  /** Kill: every editor, in every environment. */
  kill: boolean;
  /** Revive, dial a rollout, reconfigure: editors of this environment and admins. */
  change: boolean;
  /** Create or edit definitions (every environment at once): editors of every environment. */
  define: boolean;
  admin: boolean;
}

export function permissionsOf(me: Me | null | undefined, env: string): Permissions {
  if (!me || me.role === 'viewer') return { kill: false, change: false, define: false, admin: false };
  const everywhere = me.role === 'admin' || me.environments === null;
  return { kill: true, change: everywhere || me.environments!.includes(env), define: everywhere, admin: me.role === 'admin' };
}
