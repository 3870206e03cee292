import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { BadRequestException, ConflictException, Injectable, Logger, NotFoundException, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { Actor, AuthenticatedKey } from '../common/actor.js';
import { type Page, toPage } from '../common/paging.js';
import { ChangeLogService } from '../changes/change-log.service.js';
import type { WriteTransaction } from '../changes/write-transaction.js';
import { CredentialRevocations } from '../credentials/credential-revocations.js';
import { sql } from '../database/sql.js';
import { isUuid } from '../common/uuid.js';
import { sha256 } from '../common/tokens.js';
import type { ApiKeyListQuery, ApiKeyView, CreateApiKeyDto, CreatedApiKeyView, UpdateApiKeyDto } from './dto/api-key.dto.js';

/** The readable prefix of each kind of key. */
export const KEY_PREFIXES = { admin: 'ava_', server: 'avs_', client: 'avc_' } as const;

interface ApiKeyRow {
  id: string;
  name: string;
  kind: AuthenticatedKey['kind'];
  read_only: boolean;
  environment_id: string | null;
  environment: string | null;
  allowed_origins: string[] | null;
  prefix: string;
  hash: Buffer;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
  created_by: string | null;
  created_by_email: string | null;
}

const SELECT = `SELECT k.id, k.name, k.kind, k.read_only, k.environment_id, e.key AS environment, k.allowed_origins, k.prefix, k.hash,
                       k.created_at, k.last_used_at, k.revoked_at, k.created_by, p.email AS created_by_email
                  FROM api_keys k LEFT JOIN environments e ON e.id = k.environment_id LEFT JOIN people p ON p.id = k.created_by`;

/** How long a verified SDK key is trusted before it is looked up again. A revocation reaches
 *  every instance's cache sooner: by message, else by the credential check. */
const SDK_KEY_CACHE_MS = 10_000;
/** From this age on, a use of a cached SDK key looks it up again in the background. */
const SDK_KEY_REFRESH_MS = 8_000;

/** `last_used_at` is written at most this often per key, so reads stay reads. */
const LAST_USED_EVERY_MS = 60_000;

/** API keys: random, prefixed by kind, shown once, stored as SHA-256 only. Key writes are
 *  audited; they move no revision, since no ruleset changes. */
@Injectable()
export class ApiKeysService implements OnModuleInit {
  private readonly logger = new Logger('ApiKeys');
  private readonly lastUsedWritten = new Map<string, number>();
  /** SDK keys by the base64 of their hash, with when they were last found valid. */
  private readonly sdkKeys = new Map<string, { key: AuthenticatedKey; checkedAt: number }>();
  /** Moves on every `forget`: a lookup that was in flight meanwhile may have read the key before
   *  its revocation committed, and must not cache it. */
  private forgotten = 0;
  /** Lookups in flight, by the base64 of the token's hash. */
  private readonly lookups = new Map<string, Promise<AuthenticatedKey | undefined>>();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly changes: ChangeLogService,
    private readonly revocations: CredentialRevocations,
  ) {}

  onModuleInit(): void {
    this.revocations.register('api-key', {
      stillValid: async (ids) => {
        const rows = await sql<{ id: string }>(this.dataSource.manager, 'SELECT id FROM api_keys WHERE id = ANY($1::uuid[]) AND revoked_at IS NULL', [ids]);
        return new Set(rows.map((r) => r.id));
      },
      cached: () => [...this.sdkKeys.values()].map((entry) => entry.key.id),
      forget: (id) => this.forget(id),
    });
  }

  /** The server or client key `token` names if this instance verified it in the last few seconds; never a lookup. */
  recentlyVerified(token: string): AuthenticatedKey | undefined {
    const cached = this.sdkKeys.get(sha256(token).toString('base64'));
    return cached && Date.now() - cached.checkedAt < SDK_KEY_CACHE_MS ? cached.key : undefined;
  }

  /** The key behind a bearer token, or undefined for unknown or revoked ones. SDK keys are
   *  remembered for a few seconds, so SDK traffic costs no query per request and keeps being
   *  served while Postgres is unreachable; admin keys are checked every time. */
  async verify(token: string): Promise<AuthenticatedKey | undefined> {
    if (!Object.values(KEY_PREFIXES).some((p) => token.startsWith(p))) return undefined;
    const hash = sha256(token);
    const id = hash.toString('base64');
    const cached = this.sdkKeys.get(id);
    const age = cached ? Date.now() - cached.checkedAt : Infinity;
    if (cached && age < SDK_KEY_CACHE_MS) {
      // Looked up again shortly before it expires, while its traffic is still served from here.
      if (age >= SDK_KEY_REFRESH_MS) this.lookUp(id, hash).catch((err: Error) => this.logger.debug(`API key refresh failed: ${err.message}`));
      return cached.key;
    }
    try {
      return await this.lookUp(id, hash);
    } catch (err) {
      if (cached) return cached.key;
      throw err;
    }
  }

  /** One query per token at a time: requests that arrive while it runs share its answer, so a
   *  busy key whose cache entry expired sends Postgres one query, not one per request. */
  private lookUp(id: string, hash: Buffer): Promise<AuthenticatedKey | undefined> {
    const running = this.lookups.get(id);
    if (running) return running;
    const lookup = this.query(id, hash).finally(() => {
      if (this.lookups.get(id) === lookup) this.lookups.delete(id);
    });
    this.lookups.set(id, lookup);
    return lookup;
  }

  private async query(id: string, hash: Buffer): Promise<AuthenticatedKey | undefined> {
    const forgotten = this.forgotten;
    const [row] = await sql<ApiKeyRow>(this.dataSource.manager, `${SELECT} WHERE k.hash = $1 AND k.revoked_at IS NULL`, [hash]);
    if (!row || !timingSafeEqual(row.hash, hash)) {
      this.sdkKeys.delete(id);
      return undefined;
    }
    this.touch(row.id);
    const key: AuthenticatedKey = {
      id: row.id,
      name: row.name,
      kind: row.kind,
      readOnly: row.read_only,
      environmentId: row.environment_id,
      allowedOrigins: row.allowed_origins,
    };
    if (key.kind !== 'admin' && forgotten === this.forgotten) {
      if (this.sdkKeys.size >= 10_000) this.sdkKeys.clear();
      this.sdkKeys.set(id, { key, checkedAt: Date.now() });
    }
    return key;
  }

  async list(query: ApiKeyListQuery): Promise<Page<ApiKeyView>> {
    const limit = query.limit ?? 100;
    if (query.cursor !== undefined && !isUuid(query.cursor)) throw new BadRequestException('cursor: must be the nextCursor of a previous page');
    const rows = await sql<ApiKeyRow>(
      this.dataSource.manager,
      `${SELECT} WHERE ($1::uuid IS NULL OR k.id > $1) AND ($2 OR k.revoked_at IS NULL) ORDER BY k.id LIMIT $3`,
      [query.cursor ?? null, query.includeRevoked ?? false, limit + 1],
    );
    return toPage(rows.map(toView), limit, (last) => last.id);
  }

  create(actor: Actor, dto: CreateApiKeyDto): Promise<CreatedApiKeyView> {
    return this.changes.write(actor, (tx) => this.createIn(tx, dto));
  }

  /** Also used on first start, with the token from AVIARY_ADMIN_TOKEN. */
  async createIn(tx: WriteTransaction, dto: CreateApiKeyDto, secret = generateKey(dto.kind)): Promise<CreatedApiKeyView> {
    if (dto.kind !== 'admin' && dto.readOnly) throw new BadRequestException('readOnly: only admin keys can be read-only');
    if (dto.kind === 'admin' && dto.environment !== undefined) throw new BadRequestException('environment: admin keys are not bound to an environment');
    if (dto.kind !== 'client' && dto.allowedOrigins != null) throw new BadRequestException('allowedOrigins: only client keys have their own origins');
    let environmentId: string | null = null;
    if (dto.environment !== undefined) {
      const [env] = await sql<{ id: string }>(tx.manager, 'SELECT id FROM environments WHERE key = $1 FOR SHARE', [dto.environment]);
      if (!env) throw new NotFoundException(`No environment "${dto.environment}"`);
      environmentId = env.id;
    }
    const id = randomUUID();
    await sql(
      tx.manager,
      'INSERT INTO api_keys (id, name, kind, read_only, environment_id, prefix, hash, allowed_origins, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)',
      [id, dto.name, dto.kind, dto.readOnly ?? false, environmentId, secret.slice(0, 12), sha256(secret), dto.allowedOrigins ?? null, tx.actor.personId ?? null],
    );
    const [row] = await sql<ApiKeyRow>(tx.manager, `${SELECT} WHERE k.id = $1`, [id]);
    const view = toView(row);
    await tx.record({ action: 'api-key.create', resourceType: 'api-key', resourceKey: id, environment: view.environment, after: view, reason: dto.reason });
    return { ...view, secret };
  }

  /** Drops a key from the SDK key cache of this instance. */
  private forget(id: string): void {
    this.forgotten++;
    // A lookup in flight may have read the key before this: later requests must not share it.
    this.lookups.clear();
    for (const [hash, entry] of this.sdkKeys) if (entry.key.id === id) this.sdkKeys.delete(hash);
  }

  /** Changes a client key's own origins (audited). Other instances see it within the SDK key
   *  cache time (10 s), this one at once. */
  async update(actor: Actor, id: string, dto: UpdateApiKeyDto): Promise<ApiKeyView> {
    const view = await this.changes.write(actor, async (tx) => {
      const [row] = await sql<ApiKeyRow>(tx.manager, `${SELECT} WHERE k.id = $1 AND k.revoked_at IS NULL FOR UPDATE OF k`, [id]);
      if (!row) throw new NotFoundException(`No active API key "${id}"`);
      if (dto.allowedOrigins === undefined) return toView(row);
      if (row.kind !== 'client') throw new BadRequestException('allowedOrigins: only client keys have their own origins');
      await sql(tx.manager, 'UPDATE api_keys SET allowed_origins = $2 WHERE id = $1', [id, dto.allowedOrigins]);
      const after = toView({ ...row, allowed_origins: dto.allowedOrigins });
      await tx.record({ action: 'api-key.update', resourceType: 'api-key', resourceKey: id, environment: after.environment, before: toView(row), after, reason: dto.reason });
      return after;
    });
    // After the commit: a lookup before it would cache the old origins again.
    this.forget(id);
    return view;
  }

  /** Revokes a key, and ends its streams on every instance (docs/security.md "Revocation"). The
   *  last active read-write admin key cannot be revoked: that would lock everyone out. */
  async revoke(actor: Actor, id: string, reason?: string): Promise<void> {
    await this.changes.write(actor, async (tx) => {
      await sql(tx.manager, 'LOCK TABLE api_keys IN SHARE ROW EXCLUSIVE MODE');
      const [row] = await sql<ApiKeyRow>(tx.manager, `${SELECT} WHERE k.id = $1 AND k.revoked_at IS NULL`, [id]);
      if (!row) throw new NotFoundException(`No active API key "${id}"`);
      if (row.kind === 'admin' && !row.read_only) {
        const [others] = await sql<{ n: number }>(
          tx.manager,
          "SELECT count(*)::int AS n FROM api_keys WHERE kind = 'admin' AND NOT read_only AND revoked_at IS NULL AND id <> $1",
          [id],
        );
        if (others.n === 0) throw new ConflictException('This is the last read-write admin key: create another before revoking it');
      }
      await sql(tx.manager, 'UPDATE api_keys SET revoked_at = now() WHERE id = $1', [id]);
      await tx.record({ action: 'api-key.revoke', resourceType: 'api-key', resourceKey: id, environment: row.environment, before: toView(row), reason });
    });
    // After the commit, so no instance can read the key as valid again once it has heard.
    await this.revocations.revoked({ kind: 'api-key', id });
  }

  private touch(id: string): void {
    const now = Date.now();
    if (now - (this.lastUsedWritten.get(id) ?? 0) < LAST_USED_EVERY_MS) return;
    this.lastUsedWritten.set(id, now);
    sql(this.dataSource.manager, 'UPDATE api_keys SET last_used_at = now() WHERE id = $1', [id]).catch((err: Error) =>
      this.logger.warn(`Could not record the use of key ${id}: ${err.message}`),
    );
  }
}

export function generateKey(kind: AuthenticatedKey['kind']): string {
  return KEY_PREFIXES[kind] + randomBytes(32).toString('base64url');
}


function toView(row: ApiKeyRow): ApiKeyView {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    environment: row.environment,
    readOnly: row.read_only,
    allowedOrigins: row.allowed_origins,
    prefix: row.prefix,
    createdAt: row.created_at.toISOString(),
    lastUsedAt: row.last_used_at?.toISOString() ?? null,
    revokedAt: row.revoked_at?.toISOString() ?? null,
    createdBy: row.created_by ? { personId: row.created_by, email: row.created_by_email } : null,
  };
}
