import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * People (docs/people.md): accounts, their one-time links (setup, invite, reset) and sessions,
 * all secrets stored as SHA-256 (passwords as scrypt). API keys record the person who created
 * them; audit events the person, or key, and how they authenticated.
 */
export class People1764518400000 implements MigrationInterface {
  name = 'People1764518400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE people (
        id            uuid PRIMARY KEY,
        email         text NOT NULL,
        name          text NOT NULL,
        role          text NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
        -- NULL: every environment; else the environments an editor may change (kill: everywhere).
        environments  text[],
        state         text NOT NULL CHECK (state IN ('invited', 'active', 'disabled')),
        password_hash text,
        -- "<issuer> <sub>" of the OpenID Connect account that signs this person in.
        oidc_subject  text UNIQUE,
        created_at    timestamptz NOT NULL DEFAULT now(),
        updated_at    timestamptz NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX people_email ON people (lower(email));

      CREATE TABLE person_links (
        hash       bytea PRIMARY KEY,
        purpose    text NOT NULL CHECK (purpose IN ('setup', 'invite', 'reset')),
        person_id  uuid REFERENCES people (id) ON DELETE CASCADE,
        -- NULL: valid until used (the first-run setup link).
        expires_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX person_links_person ON person_links (person_id);

      CREATE TABLE sessions (
        id           uuid PRIMARY KEY,
        hash         bytea NOT NULL UNIQUE,
        csrf_hash    bytea NOT NULL,
        person_id    uuid NOT NULL REFERENCES people (id) ON DELETE CASCADE,
        method       text NOT NULL CHECK (method IN ('password', 'oidc')),
        user_agent   text,
        address      text,
        created_at   timestamptz NOT NULL DEFAULT now(),
        last_seen_at timestamptz NOT NULL DEFAULT now(),
        expires_at   timestamptz NOT NULL,
        revoked_at   timestamptz
      );
      CREATE INDEX sessions_person ON sessions (person_id);

      ALTER TABLE api_keys ADD COLUMN created_by uuid REFERENCES people (id) ON DELETE SET NULL;

      ALTER TABLE audit_events ADD COLUMN actor_person_id uuid;
      ALTER TABLE audit_events ADD COLUMN actor_email text;
      ALTER TABLE audit_events ADD COLUMN actor_via text CHECK (actor_via IN ('session', 'key', 'system'));
      CREATE INDEX audit_events_person ON audit_events (actor_person_id, id);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP INDEX audit_events_person;
      ALTER TABLE audit_events DROP COLUMN actor_via;
      ALTER TABLE audit_events DROP COLUMN actor_email;
      ALTER TABLE audit_events DROP COLUMN actor_person_id;
      ALTER TABLE api_keys DROP COLUMN created_by;
      DROP TABLE sessions;
      DROP TABLE person_links;
      DROP TABLE people;
    `);
  }
}
