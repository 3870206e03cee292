import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { sql } from '../database/sql.js';

const KEY_NAME = 'webhook-secrets';

/**
 * Webhook signing secrets at rest: AES-256-GCM (`node:crypto`) under `AVIARY_SECRET_KEY`, or, when
 * that is unset, under a key generated at first use and kept in Postgres (then a database dump
 * holds both: set `AVIARY_SECRET_KEY` to keep the secrets out of dumps). Stored as iv | tag | text.
 */
export class SecretBox {
  private key?: Promise<Buffer>;

  constructor(
    private readonly manager: () => EntityManager,
    private readonly configured?: Buffer,
  ) {}

  async seal(plain: string): Promise<Buffer> {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', await this.keyOnce(), iv);
    const text = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), text]);
  }

  async open(sealed: Buffer): Promise<string> {
    const decipher = createDecipheriv('aes-256-gcm', await this.keyOnce(), sealed.subarray(0, 12));
    decipher.setAuthTag(sealed.subarray(12, 28));
    return Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]).toString('utf8');
  }

  private keyOnce(): Promise<Buffer> {
    if (this.configured) return Promise.resolve(this.configured);
    return (this.key ??= this.storedKey().catch((err: Error) => {
      this.key = undefined;
      throw err;
    }));
  }

  /** The generated key; concurrent first uses on several instances agree on one. */
  private async storedKey(): Promise<Buffer> {
    await sql(this.manager(), 'INSERT INTO installation_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [KEY_NAME, randomBytes(32)]);
    const [row] = await sql<{ value: Buffer }>(this.manager(), 'SELECT value FROM installation_secrets WHERE name = $1', [KEY_NAME]);
    return row!.value;
  }
}
