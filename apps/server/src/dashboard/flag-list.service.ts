import { Injectable, NotFoundException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { sql } from '../database/sql.js';
import type { ActivePlanView, FlagListItemView, FlagListView } from './flag-list.view.js';

interface Row {
  key: string;
  name: string;
  description: string;
  tags: string[];
  enabled: boolean;
  version: number;
  rules: Array<{ rollout?: { percentage?: number } }> | null;
  by: string | null;
  via: 'session' | 'key' | 'system' | null;
  action: string | null;
  at: Date | null;
  reason: string | null;
  plan_id: string | null;
  plan_state: ActivePlanView['state'] | null;
  plan_step: number | null;
  plan_steps: number | null;
  plan_percentage: number | null;
  plan_next_step_at: Date | null;
}

/** The percentage a list row shows: the only rule's, else the first rule's that is below 100 %. */
export function rolloutPercentageOf(rules: Row['rules']): number | null {
  if (!rules || rules.length === 0) return null;
  const pct = (rule: Row['rules'] extends (infer R)[] | null ? R : never) => rule.rollout?.percentage ?? 100;
  if (rules.length === 1) return pct(rules[0]);
  return rules.map(pct).find((p) => p < 100) ?? 100;
}

/** What the dashboard's flag list needs in one query: every live flag with its state in one
 *  environment and the last audited change to it there. */
@Injectable()
export class FlagListService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async list(environmentKey: string): Promise<FlagListView> {
    return this.dataSource.transaction('REPEATABLE READ', async (manager) => {
      const [env] = await sql<{ id: string; revision: number }>(manager, 'SELECT id, revision::int AS revision FROM environments WHERE key = $1', [environmentKey]);
      if (!env) throw new NotFoundException(`No environment "${environmentKey}"`);
      // The last change in this environment, else the definition's (created, edited).
      const rows = await sql<Row>(
        manager,
        `SELECT f.key, f.name, f.description, f.tags, COALESCE(c.enabled, false) AS enabled, COALESCE(c.version, 1)::int AS version,
                c.rules, a.by, a.via, a.action, a.at, a.reason,
                p.id AS plan_id, p.state AS plan_state, p.step_index AS plan_step, jsonb_array_length(p.steps) AS plan_steps,
                (p.steps -> p.step_index ->> 'percentage')::float8 AS plan_percentage, p.next_step_at AS plan_next_step_at
           FROM flags f
           LEFT JOIN flag_configs c ON c.flag_id = f.id AND c.environment_id = $1
           LEFT JOIN LATERAL (
             SELECT x.by, x.via, x.action, x.at, x.reason FROM (
               (SELECT e.id, COALESCE(e.actor_email, e.actor_name) AS by, e.actor_via AS via, e.action, e.created_at AS at, e.reason
                  FROM audit_events e WHERE e.resource_type = 'flag-config' AND e.resource_key = f.key AND e.environment = $2
                 ORDER BY e.id DESC LIMIT 1)
               UNION ALL
               (SELECT e.id, COALESCE(e.actor_email, e.actor_name), e.actor_via, e.action, e.created_at, e.reason
                  FROM audit_events e WHERE e.resource_type = 'flag' AND e.resource_key = f.key
                 ORDER BY e.id DESC LIMIT 1)
             ) x ORDER BY x.id DESC LIMIT 1
           ) a ON true
           LEFT JOIN LATERAL (
             SELECT id, state, step_index, steps, next_step_at FROM rollout_plans
              WHERE flag_id = f.id AND environment_id = $1 AND state IN ('pending', 'running', 'paused', 'awaiting-approval')
              ORDER BY created_at DESC LIMIT 1
           ) p ON true
          WHERE f.archived_at IS NULL
          ORDER BY f.key`,
        [env.id, environmentKey],
      );
      return { environment: environmentKey, revision: Number(env.revision), items: rows.map(toItem) };
    });
  }
}

function toItem(row: Row): FlagListItemView {
  return {
    key: row.key,
    name: row.name,
    description: row.description,
    tags: row.tags,
    enabled: row.enabled,
    version: Number(row.version),
    rules: row.rules?.length ?? 0,
    rolloutPercentage: rolloutPercentageOf(row.rules),
    plan: row.plan_id
      ? {
          id: row.plan_id,
          state: row.plan_state!,
          step: row.plan_step === null ? null : Number(row.plan_step) + 1,
          steps: Number(row.plan_steps),
          percentage: row.plan_percentage,
          nextStepAt: row.plan_next_step_at ? new Date(row.plan_next_step_at).toISOString() : null,
        }
      : null,
    lastChange: row.at ? { by: row.by ?? 'unknown', via: row.via, action: row.action ?? '', at: new Date(row.at).toISOString(), reason: row.reason } : null,
  };
}
