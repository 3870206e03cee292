import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type Condition, patternProblem, type Rule } from '@aviary/core';
import type { DataSource } from 'typeorm';
import { sql } from '../database/sql.js';

/** A stored `matches` pattern that the dialect refuses: it evaluates false until it is fixed. */
export interface StoredPatternProblem {
  /** `flag "signup" in production` or `cohort "beta"`. */
  where: string;
  /** The condition's field path, as a write would name it (`rules[0].conditions[1].values`). */
  path: string;
  pattern: string;
  problem: string;
}

/** Most problems logged one by one at boot; the rest are counted. */
const LOGGED = 50;

/**
 * The boot-time check of the RE2 dialect of `matches` (spec v1.1): patterns written before it
 * (ECMAScript syntax, e.g. lookahead, back-references, `\u0041`) stay stored and evaluate false;
 * every instance lists them at boot so that operators can fix them. Writes refuse new ones.
 */
@Injectable()
export class StoredPatternsService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Patterns');

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async onApplicationBootstrap(): Promise<void> {
    const problems = await this.problems();
    if (problems.length === 0) return;
    this.logger.warn(
      `${problems.length} stored regular expression(s) do not compile in the RE2 syntax of "matches" and evaluate false until they are fixed (docs/evaluation.md, "The matches dialect")`,
    );
    for (const p of problems.slice(0, LOGGED)) this.logger.warn(`${p.where}, ${p.path}: ${JSON.stringify(p.pattern)}: ${p.problem}`);
    if (problems.length > LOGGED) this.logger.warn(`… and ${problems.length - LOGGED} more`);
  }

  /** Every stored `matches` pattern of live flags and of cohorts that does not compile. */
  async problems(): Promise<StoredPatternProblem[]> {
    const hasMatches = `@.operator == "matches"`;
    const flags = await sql<{ environment: string; flag: string; rules: Rule[] }>(
      this.dataSource.manager,
      `SELECT e.key AS environment, f.key AS flag, c.rules
         FROM flag_configs c
         JOIN flags f ON f.id = c.flag_id AND f.archived_at IS NULL
         JOIN environments e ON e.id = c.environment_id
        WHERE jsonb_path_exists(c.rules, '$[*].conditions[*] ? (${hasMatches})')
        ORDER BY e.key, f.key`,
    );
    const cohorts = await sql<{ key: string; conditions: Condition[] }>(
      this.dataSource.manager,
      `SELECT key, conditions FROM cohorts WHERE jsonb_path_exists(conditions, '$[*] ? (${hasMatches})') ORDER BY key`,
    );
    return [
      ...flags.flatMap((f) => f.rules.flatMap((r, i) => check(`flag "${f.flag}" in ${f.environment}`, `rules[${i}].conditions`, r.conditions))),
      ...cohorts.flatMap((c) => check(`cohort "${c.key}"`, 'conditions', c.conditions)),
    ];
  }
}

function check(where: string, path: string, conditions: readonly Condition[] | undefined): StoredPatternProblem[] {
  return (conditions ?? []).flatMap((c, j) => {
    const pattern = c.values?.[0];
    if (c.operator !== 'matches' || typeof pattern !== 'string') return [];
    const problem = patternProblem(pattern);
    return problem === undefined ? [] : [{ where, path: `${path}[${j}].values`, pattern, problem }];
  });
}
