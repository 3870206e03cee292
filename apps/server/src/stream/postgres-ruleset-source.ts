import type { DataSource } from 'typeorm';
import { sql } from '../database/sql.js';
import type { RulesetService } from '../ruleset/ruleset.service.js';
import type { RulesetSource } from './live-rulesets.js';
import type { RulesetChange } from './snapshot.js';

/** The live rulesets' source of truth: environments, the change log and whole rulesets in Postgres. */
export class PostgresRulesetSource implements RulesetSource {
  constructor(
    private readonly dataSource: DataSource,
    private readonly rulesets: RulesetService,
  ) {}

  revisions(): Promise<Array<{ environment: string; id: string; revision: number }>> {
    return sql(this.dataSource.manager, 'SELECT key AS environment, id, revision::int AS revision FROM environments');
  }

  load(environment: string) {
    return this.rulesets.load(environment);
  }

  async changesSince(environment: string, revision: number, limit: number): Promise<RulesetChange[]> {
    const rows = await sql<{ revision: number; kind: RulesetChange['kind']; patch: RulesetChange['patch'] }>(
      this.dataSource.manager,
      `SELECT c.revision::int AS revision, c.kind, c.patch FROM changes c
         JOIN environments e ON e.id = c.environment_id
        WHERE e.key = $1 AND c.revision > $2
        ORDER BY c.revision LIMIT $3`,
      [environment, revision, limit],
    );
    return rows.map((r) => ({ environment, revision: r.revision, kind: r.kind, patch: r.patch }));
  }
}
