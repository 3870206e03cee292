import { ForbiddenException, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { sql } from '../database/sql.js';
import { type AuthenticatedPerson, ROLES, type Role } from './actor.js';
import { isUuid } from './uuid.js';

/** What a route lets people do, from its decorators (`WritableBy`, `EnvironmentScoped`, `StopOperation`). */
export interface RoutePermissions {
  writableBy: Role;
  /** `env`: the `:env` parameter; `rollout-plan`: the environment of the plan `:id`; unset: all. */
  environmentOf?: 'env' | 'rollout-plan';
  stop: boolean;
  /** A POST that changes nothing (evaluate): the role counts, environment limits do not. */
  changesNothing: boolean;
  params: Record<string, string>;
}

/**
 * The roles table of docs/people.md: viewers read, editors change flags, cohorts and rollout
 * plans (limited editors only in their environments, but stopping a change everywhere), admins
 * everything. Used by the auth guard for session requests; keys keep their kinds.
 */
@Injectable()
export class RoleCheck {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async assertAllowed(person: AuthenticatedPerson, write: boolean, route: RoutePermissions): Promise<void> {
    if (!write) return;
    if (ROLES.indexOf(person.role) < ROLES.indexOf(route.writableBy)) {
      throw new ForbiddenException(`This needs the ${route.writableBy} role; ${person.email} is ${person.role === 'admin' ? 'an' : 'a'} ${person.role}`);
    }
    if (person.role !== 'editor' || person.environments === null || route.stop || route.changesNothing) return;
    const environment = await this.environmentOf(route);
    if (environment === undefined) {
      throw new ForbiddenException(
        `This changes every environment; ${person.email} may change only ${list(person.environments)} (an editor of every environment or an admin may)`,
      );
    }
    // An unknown environment or plan: the handler answers 404.
    if (environment !== null && !person.environments.includes(environment)) {
      throw new ForbiddenException(
        `${person.email} may not change the environment "${environment}", only ${list(person.environments)} (killing is allowed in every environment)`,
      );
    }
  }

  /** undefined: the route changes all environments; null: the one it names does not exist. */
  private async environmentOf(route: RoutePermissions): Promise<string | null | undefined> {
    if (route.environmentOf === 'env') return route.params.env ?? null;
    if (route.environmentOf !== 'rollout-plan') return undefined;
    const id = route.params.id;
    if (!id || !isUuid(id)) return null;
    const [row] = await sql<{ key: string }>(this.dataSource.manager, 'SELECT e.key FROM rollout_plans p JOIN environments e ON e.id = p.environment_id WHERE p.id = $1', [id]);
    return row?.key ?? null;
  }
}

function list(environments: readonly string[]): string {
  return environments.length === 0 ? 'no environment' : environments.map((e) => `"${e}"`).join(', ');
}
