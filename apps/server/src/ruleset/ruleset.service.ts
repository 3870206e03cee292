import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type Cohort, type Condition, type Flag, type Prerequisite, type Rule, type Ruleset, type Variant, compactCohort, isHeld } from '@aviary/core';
import { type MembersPatch, patchCohort } from '@aviary/core/protocol';
import type { DataSource, EntityManager } from 'typeorm';
import { sql } from '../database/sql.js';

interface FlagRow {
  key: string;
  variants: Variant[];
  enabled: boolean;
  salt: string;
  rules: Rule[];
  prerequisites: Prerequisite[];
  version: number;
}

interface CohortRow {
  id: string;
  key: string;
  conditions: Condition[];
}

/** A config row that was never written reads as this: a new flag starts disabled everywhere. */
export const FLAG_CONFIG_DEFAULTS = { enabled: false, rules: [] as Rule[], prerequisites: [] as Prerequisite[], version: 1 };

/** Builds rulesets and their parts, in the exact shape the SDKs receive (DESIGN §2), from the
 *  database: whole ones for the live rulesets (the only copy kept in memory), parts for write
 *  validation and change-log patches. */
@Injectable()
export class RulesetService {
  /** A cohort row's version: `xmin` changes with every write of the row, and a members write always updates it. */
  static readonly STAMP = "xmin::text || '@' || updated_at::text AS stamp";

  /** The newest version of each cohort read, by id: what the rulesets share. */
  private readonly held = new Map<string, { stamp: string; cohort: Cohort }>();

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** One environment's whole ruleset as of its current revision and its client-visible flags, read
   *  in one snapshot; undefined when there is no such environment. */
  async load(environmentKey: string): Promise<{ ruleset: Ruleset; clientVisible: string[] } | undefined> {
    return this.dataSource.transaction('REPEATABLE READ', async (manager) => {
      const [env] = await sql<{ id: string; revision: number }>(
        manager,
        'SELECT id, revision::int AS revision FROM environments WHERE key = $1',
        [environmentKey],
      );
      if (!env) return undefined;
      const ruleset: Ruleset = {
        environment: environmentKey,
        revision: env.revision,
        flags: await this.flags(manager, env.id),
        cohorts: await this.cohorts(manager),
      };
      const visible = await sql<{ key: string }>(manager, 'SELECT key FROM flags WHERE client_visible AND archived_at IS NULL');
      return { ruleset, clientVisible: visible.map((r) => r.key) };
    });
  }

  /** The live flags of an environment as SDKs see them; only `keys` when given. */
  async flags(manager: EntityManager, environmentId: string, keys?: string[]): Promise<Record<string, Flag>> {
    const rows = await sql<FlagRow>(
      manager,
      `SELECT f.key, f.variants,
              COALESCE(c.enabled, false) AS enabled, COALESCE(c.salt, f.key) AS salt,
              COALESCE(c.rules, '[]') AS rules, COALESCE(c.prerequisites, '[]') AS prerequisites,
              COALESCE(c.version, 1) AS version
         FROM flags f
         LEFT JOIN flag_configs c ON c.flag_id = f.id AND c.environment_id = $1
        WHERE f.archived_at IS NULL ${keys ? 'AND f.key = ANY($2)' : ''}
        ORDER BY f.key`,
      keys ? [environmentId, keys] : [environmentId],
    );
    const flags: Record<string, Flag> = {};
    for (const row of rows) flags[row.key] = toSdkFlag(row);
    return flags;
  }

  /**
   * Cohorts with their member lists; only `keys` when given. Every environment's ruleset holds the
   * same cohorts, so a cohort is read and held once per version (`xmin`: every write of the row
   * makes a new one, and a members write always updates the row): the other environments, and
   * later revisions while it did not change, share that one object and its member arrays.
   */
  async cohorts(manager: EntityManager, keys?: string[]): Promise<Record<string, Cohort>> {
    const rows = await sql<CohortRow & { stamp: string }>(
      manager,
      `SELECT c.id, c.key, c.conditions, ${RulesetService.STAMP} FROM cohorts c
        ${keys ? 'WHERE c.key = ANY($1)' : ''} ORDER BY c.key`,
      keys ? [keys] : [],
    );
    const found = new Map<string, Cohort>();
    const unread: typeof rows = [];
    for (const row of rows) {
      const held = this.held.get(row.id);
      if (held?.stamp === row.stamp) found.set(row.id, held.cohort);
      else unread.push(row);
    }
    if (unread.length > 0) {
      // json_agg, not array_agg: node-postgres parses json with JSON.parse, a text[] with a
      // character loop in JavaScript (postgres-array), ~8 % of an upload's server CPU at 1,000,000 members.
      const members = await sql<{ id: string; included: string[] | null; excluded: string[] | null }>(
        manager,
        `SELECT c.id, m.included, m.excluded
           FROM cohorts c
           LEFT JOIN LATERAL (
             SELECT json_agg(key) FILTER (WHERE NOT excluded) AS included,
                    json_agg(key) FILTER (WHERE excluded) AS excluded
               FROM cohort_members WHERE cohort_id = c.id
           ) m ON true
          WHERE c.id = ANY($1)`,
        [unread.map((row) => row.id)],
      );
      const byId = new Map(members.map((m) => [m.id, m]));
      for (const row of unread) {
        const m = byId.get(row.id);
        const cohort: Cohort = { key: row.key, included: m?.included ?? [], excluded: m?.excluded ?? [], conditions: row.conditions };
        found.set(row.id, cohort);
        this.held.set(row.id, { stamp: row.stamp, cohort });
        // Its large lists as MemberSets, made now rather than by the first membership delta that
        // reaches them (~0.5 s per 1,000,000 keys): a delta then costs its own keys (`derive`, and
        // the snapshots' `sharedDeltas`, share the one made here).
        setImmediate(() => compactCohort(cohort));
      }
    }
    if (!keys) for (const id of this.held.keys()) if (!found.has(id)) this.held.delete(id);
    const cohorts: Record<string, Cohort> = {};
    for (const row of rows) cohorts[row.key] = found.get(row.id)!;
    return cohorts;
  }

  /**
   * A members write of this instance, told before it commits: the cohort held at version `before`
   * is, at version `after`, that cohort with `delta` applied, so the reload that follows the write
   * needs not read every member back (the largest part of an upload's reload). Nothing happens
   * when the held cohort is not at `before`; a write that rolls back leaves a version no read
   * ever finds, and the cohort is read again.
   */
  derive(id: string, before: string, after: string, delta: MembersPatch, how: { few: boolean; fresh: boolean }): void {
    const held = this.held.get(id);
    if (held?.stamp !== before) return;
    // `few` keys (a delta the streams get as one) patch the lists held as MemberSets (made once per
    // cohort object and shared with the streams' snapshots, which patch the same way): they cost
    // their own keys. Many (an upload's) are cheaper applied to the arrays, copying them once.
    // Lists held already patch themselves either way.
    const base = how.few ? compactCohort(held.cohort) : held.cohort;
    this.held.set(id, { stamp: after, cohort: how.fresh ? appended(base, delta) : patchCohort(base, delta) });
  }

  /** What write validation needs to check the references of `flag`: the cohorts it names (keys
   *  only, no members) and, when it has prerequisites, every live flag of the environment. */
  async references(manager: EntityManager, environmentId: string, flag: Flag): Promise<Ruleset> {
    const cohortKeys = [...new Set((flag.rules ?? []).flatMap((r) => r.cohorts ?? []))];
    const cohorts = cohortKeys.length ? await sql<{ key: string }>(manager, 'SELECT key FROM cohorts WHERE key = ANY($1)', [cohortKeys]) : [];
    // Prerequisites (and so cycles) need the other flags; a flag without any needs none of them.
    const flags = flag.prerequisites?.length ? await this.flags(manager, environmentId) : {};
    return {
      environment: '',
      revision: 0,
      flags,
      cohorts: Object.fromEntries(cohorts.map((c) => [c.key, { key: c.key }])),
    };
  }
}

/**
 * `patchCohort` for a delta that only adds keys the cohort holds in neither list (a members write
 * that inserted every key it was given): the keys are appended, none looked up. An upload of
 * 1,000,000 members allocated ~300 MB in `patchCohort`'s set of named keys and copies, nearly all
 * the garbage of the upload's reload.
 */
function appended(cohort: Cohort, { include = [], exclude = [] }: MembersPatch): Cohort {
  const list = (keys: string[] = [], add: string[]): string[] =>
    add.length === 0 ? keys : isHeld(keys) ? (keys.patched(NONE, add) as unknown as string[]) : keys.concat(add);
  return { ...cohort, included: list(cohort.included, include), excluded: list(cohort.excluded, exclude) };
}

const NONE: ReadonlySet<string> = new Set();

export function toSdkFlag(row: FlagRow): Flag {
  return {
    key: row.key,
    version: Number(row.version),
    enabled: row.enabled,
    salt: row.salt,
    variants: row.variants,
    prerequisites: row.prerequisites,
    rules: row.rules,
  };
}
