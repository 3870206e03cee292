import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Evidence before widening (docs/rollouts.md, "The guard"): a guarded step waits for the guard's
 * verdict up to its longest hold, then pauses the plan. Plans created before this migration keep
 * the behaviour they were created with (`continue`: widen when the hold is over); new plans
 * default to `pause`. Also several guards per plan (the `guard` column holds a list) and mean guards
 * (the sum of squares of tracked values).
 */
export class EvidenceGates1764777600000 implements MigrationInterface {
  name = 'EvidenceGates1764777600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE rollout_plans
        ADD COLUMN max_hold_seconds double precision,
        ADD COLUMN on_insufficient_data text NOT NULL DEFAULT 'continue' CHECK (on_insufficient_data IN ('pause', 'continue')),
        ADD COLUMN evidence_deadline_at timestamptz`);
    await q.query(`ALTER TABLE rollout_plans ALTER COLUMN on_insufficient_data SET DEFAULT 'pause'`);
    // Several guards per plan: the column holds a list; a plan's one guard becomes a list of one.
    await q.query(`UPDATE rollout_plans SET guard = jsonb_build_array(guard) WHERE jsonb_typeof(guard) = 'object'`);
    // Mean guards: with count and sum, the sum of squares gives each arm's variance.
    await q.query(`ALTER TABLE metric_events ADD COLUMN sum_squares double precision NOT NULL DEFAULT 0`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE metric_events DROP COLUMN sum_squares');
    // Plans with several guards keep their first.
    await q.query(`UPDATE rollout_plans SET guard = guard -> 0 WHERE jsonb_typeof(guard) = 'array'`);
    await q.query(`
      ALTER TABLE rollout_plans
        DROP COLUMN evidence_deadline_at,
        DROP COLUMN on_insufficient_data,
        DROP COLUMN max_hold_seconds`);
  }
}
