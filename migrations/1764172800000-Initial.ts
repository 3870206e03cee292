import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The whole first schema: environments with their revision, flags, per-environment config,
 *  cohorts and members, API keys (hashes only), the audit log and the change log. */
export class Initial1764172800000 implements MigrationInterface {
  name = 'Initial1764172800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE installation (
        id          smallint PRIMARY KEY CHECK (id = 1),
        created_at  timestamptz NOT NULL DEFAULT now()
      );

      CREATE TABLE environments (
        id          uuid PRIMARY KEY,
        key         text NOT NULL UNIQUE,
        name        text NOT NULL,
        description text NOT NULL DEFAULT '',
        revision    bigint NOT NULL DEFAULT 0,
        created_at  timestamptz NOT NULL DEFAULT now(),
        updated_at  timestamptz NOT NULL DEFAULT now()
      );

      CREATE TABLE flags (
        id             uuid PRIMARY KEY,
        key            text NOT NULL,
        name           text NOT NULL,
        description    text NOT NULL DEFAULT '',
        tags           text[] NOT NULL DEFAULT '{}',
        variants       jsonb NOT NULL DEFAULT '[]',
        client_visible boolean NOT NULL DEFAULT false,
        archived_at    timestamptz,
        created_at     timestamptz NOT NULL DEFAULT now(),
        updated_at     timestamptz NOT NULL DEFAULT now()
      );
      -- An archived flag frees its key.
      CREATE UNIQUE INDEX flags_key_live ON flags (key) WHERE archived_at IS NULL;

      CREATE TABLE flag_configs (
        flag_id        uuid NOT NULL REFERENCES flags (id) ON DELETE CASCADE,
        environment_id uuid NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
        enabled        boolean NOT NULL DEFAULT false,
        salt           text NOT NULL,
        rules          jsonb NOT NULL DEFAULT '[]',
        prerequisites  jsonb NOT NULL DEFAULT '[]',
        version        integer NOT NULL DEFAULT 1,
        updated_at     timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (environment_id, flag_id)
      );
      CREATE INDEX flag_configs_flag ON flag_configs (flag_id);

      CREATE TABLE cohorts (
        id             uuid PRIMARY KEY,
        key            text NOT NULL UNIQUE,
        name           text NOT NULL,
        description    text NOT NULL DEFAULT '',
        conditions     jsonb NOT NULL DEFAULT '[]',
        included_count integer NOT NULL DEFAULT 0,
        excluded_count integer NOT NULL DEFAULT 0,
        created_at     timestamptz NOT NULL DEFAULT now(),
        updated_at     timestamptz NOT NULL DEFAULT now()
      );

      -- The primary key serves lookups, keyset paging and the cascade on delete.
      CREATE TABLE cohort_members (
        cohort_id uuid NOT NULL REFERENCES cohorts (id) ON DELETE CASCADE,
        key       text NOT NULL,
        excluded  boolean NOT NULL DEFAULT false,
        PRIMARY KEY (cohort_id, key)
      );

      CREATE TABLE api_keys (
        id             uuid PRIMARY KEY,
        name           text NOT NULL,
        kind           text NOT NULL CHECK (kind IN ('admin', 'server', 'client')),
        read_only      boolean NOT NULL DEFAULT false,
        environment_id uuid REFERENCES environments (id) ON DELETE SET NULL,
        prefix         text NOT NULL,
        hash           bytea NOT NULL UNIQUE,
        created_at     timestamptz NOT NULL DEFAULT now(),
        last_used_at   timestamptz,
        revoked_at     timestamptz
      );
      CREATE INDEX api_keys_environment ON api_keys (environment_id);

      CREATE TABLE audit_events (
        id            bigserial PRIMARY KEY,
        created_at    timestamptz NOT NULL DEFAULT now(),
        actor_key_id  uuid,
        actor_name    text NOT NULL,
        action        text NOT NULL,
        resource_type text NOT NULL,
        resource_key  text NOT NULL,
        environment   text,
        revision      bigint,
        revisions     jsonb,
        before        jsonb,
        after         jsonb,
        reason        text,
        request_id    text
      );
      CREATE INDEX audit_events_resource ON audit_events (resource_type, resource_key, id);
      CREATE INDEX audit_events_environment ON audit_events (environment, id);
      CREATE INDEX audit_events_created ON audit_events (created_at);

      -- What the SDK stream replays: one row per committed revision of an environment.
      CREATE TABLE changes (
        environment_id uuid NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
        revision       bigint NOT NULL,
        kind           text NOT NULL CHECK (kind IN ('change', 'kill', 'ruleset')),
        patch          jsonb NOT NULL,
        created_at     timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (environment_id, revision)
      );
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE changes;
      DROP TABLE audit_events;
      DROP TABLE api_keys;
      DROP TABLE cohort_members;
      DROP TABLE cohorts;
      DROP TABLE flag_configs;
      DROP TABLE flags;
      DROP TABLE environments;
      DROP TABLE installation;
    `);
  }
}
