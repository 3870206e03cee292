import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Rollout plans (docs/rollouts.md) and their history. At most one active plan per flag and
 *  environment; the scheduler finds due work through `next_step_at` and `next_check_at`. */
export class RolloutPlans1764259260000 implements MigrationInterface {
  name = 'RolloutPlans1764259260000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE rollout_plans (
        id                  uuid PRIMARY KEY,
        environment_id      uuid NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
        flag_id             uuid NOT NULL REFERENCES flags (id) ON DELETE CASCADE,
        rule_id             text NOT NULL,
        state               text NOT NULL CHECK (state IN ('pending', 'running', 'paused', 'awaiting-approval',
                                                           'completed', 'rolled-back', 'cancelled')),
        steps               jsonb NOT NULL,
        guard               jsonb,
        require_approval    boolean NOT NULL DEFAULT false,
        step_index          integer,
        started_at          timestamptz,
        step_started_at     timestamptz,
        next_step_at        timestamptz,
        -- What was left of the current hold when the plan was paused.
        paused_remaining_ms bigint,
        next_check_at       timestamptz,
        looks               integer NOT NULL DEFAULT 0,
        verdict             jsonb,
        warnings            jsonb NOT NULL DEFAULT '[]',
        reason              text,
        created_by          text NOT NULL,
        created_at          timestamptz NOT NULL DEFAULT now(),
        updated_at          timestamptz NOT NULL DEFAULT now(),
        finished_at         timestamptz
      );
      CREATE UNIQUE INDEX rollout_plans_one_active ON rollout_plans (environment_id, flag_id)
        WHERE state IN ('pending', 'running', 'paused', 'awaiting-approval');
      CREATE INDEX rollout_plans_flag ON rollout_plans (environment_id, flag_id, created_at DESC, id);
      CREATE INDEX rollout_plans_flag_id ON rollout_plans (flag_id);
      CREATE INDEX rollout_plans_step_due ON rollout_plans (next_step_at) WHERE state = 'running';
      CREATE INDEX rollout_plans_check_due ON rollout_plans (next_check_at) WHERE next_check_at IS NOT NULL;

      CREATE TABLE rollout_plan_history (
        id         bigserial PRIMARY KEY,
        plan_id    uuid NOT NULL REFERENCES rollout_plans (id) ON DELETE CASCADE,
        at         timestamptz NOT NULL DEFAULT clock_timestamp(),
        type       text NOT NULL,
        step_index integer,
        percentage double precision,
        revision   bigint,
        actor      text NOT NULL,
        reason     text,
        verdict    jsonb
      );
      CREATE INDEX rollout_plan_history_plan ON rollout_plan_history (plan_id, id);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE rollout_plan_history;
      DROP TABLE rollout_plans;
    `);
  }
}
