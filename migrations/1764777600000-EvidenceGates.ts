import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Evidence before widening (docs/rollouts.md, "The guard"): a guarded step waits for the guard's
 * verdict up to its longest hold, then pauses the plan. Plans created before this migration keep
 * the behaviour they were created with (`continue`: widen when the hold is over); new plans
 * default to `pause`.
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
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE rollout_plans
        DROP COLUMN evidence_deadline_at,
        DROP COLUMN on_insufficient_data,
        DROP COLUMN max_hold_seconds`);
  }
}
