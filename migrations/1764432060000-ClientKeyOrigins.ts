import type { MigrationInterface, QueryRunner } from 'typeorm';

/** A client key's own CORS origins; NULL: the server-wide `AVIARY_CORS_ORIGINS`. */
export class ClientKeyOrigins1764432060000 implements MigrationInterface {
  name = 'ClientKeyOrigins1764432060000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE api_keys ADD COLUMN allowed_origins text[]`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE api_keys DROP COLUMN allowed_origins`);
  }
}
