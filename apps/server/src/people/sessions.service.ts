import { randomUUID, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, NotFoundException, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { AuthenticatedPerson, Role } from '../common/actor.js';
import { newToken, sha256 } from '../common/tokens.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { CredentialRevocations } from '../credentials/credential-revocations.js';
import { sql } from '../database/sql.js';

export interface NewSession {
  token: string;
  csrf: string;
  expiresAt: Date;
}

export interface SessionView {
  id: string;
  method: 'password' | 'oidc';
  userAgent: string | null;
  address: string | null;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  current: boolean;
}

interface SessionRow {
  id: string;
  method: 'password' | 'oidc';
  user_agent: string | null;
  address: string | null;
  created_at: Date;
  last_seen_at: Date;
  expires_at: Date;
}

/** A signed-in session and the CSRF hash the guard compares the request's token with. */
export interface VerifiedSession extends AuthenticatedPerson {
  csrfHash: Buffer;
}

/**
 * Sessions: random tokens stored as SHA-256, each with an absolute expiry (`expires_at`, from
 * AVIARY_SESSION_MAX_AGE_MS) and an idle one (`last_seen_at` + AVIARY_SESSION_IDLE_TIMEOUT_MS).
 * A session counts only while its person is active, so disabling someone ends theirs at once.
 * Its open streams (the dashboard's live events) end at once too, on every instance: the callers
 * of `revoke` and `revokeAll` pass the ids to `ended` once their transaction has committed.
 */
@Injectable()
export class SessionsService implements OnModuleInit {
  private readonly idleMs: number;
  private readonly maxAgeMs: number;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly revocations: CredentialRevocations,
  ) {
    this.idleMs = config.people.sessionIdleMs;
    this.maxAgeMs = config.people.sessionMaxAgeMs;
  }

  onModuleInit(): void {
    // Sessions are verified with Postgres on every request: nothing is cached, only streams are held.
    this.revocations.register('session', {
      stillValid: async (ids) => {
        const rows = await sql<{ id: string }>(
          this.dataSource.manager,
          `SELECT s.id FROM sessions s JOIN people p ON p.id = s.person_id
            WHERE s.id = ANY($1::uuid[]) AND s.revoked_at IS NULL AND s.expires_at > now() AND p.state = 'active'`,
          [ids],
        );
        return new Set(rows.map((r) => r.id));
      },
      cached: () => [],
      forget: () => undefined,
    });
  }

  /** Ends the streams of sessions that were revoked (call after the commit), here and on every instance. */
  async ended(ids: readonly string[]): Promise<void> {
    for (const id of ids) await this.revocations.revoked({ kind: 'session', id });
  }

  async create(manager: EntityManager, personId: string, method: 'password' | 'oidc', client: { userAgent?: string; address?: string }): Promise<NewSession> {
    const token = newToken();
    const csrf = newToken();
    const [row] = await sql<{ expires_at: Date }>(
      manager,
      `INSERT INTO sessions (id, hash, csrf_hash, person_id, method, user_agent, address, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, now() + $8 * interval '1 millisecond') RETURNING expires_at`,
      [randomUUID(), sha256(token), sha256(csrf), personId, method, client.userAgent?.slice(0, 300) ?? null, client.address ?? null, this.maxAgeMs],
    );
    return { token, csrf, expiresAt: row.expires_at };
  }

  /** The session's person, touching its idle clock; undefined when unknown, ended or expired. */
  async verify(token: string): Promise<VerifiedSession | undefined> {
    const [row] = await sql<{ id: string; csrf_hash: Buffer; person_id: string; email: string; name: string; role: Role; environments: string[] | null }>(
      this.dataSource.manager,
      `UPDATE sessions s SET last_seen_at = now()
         FROM people p
        WHERE s.hash = $1 AND p.id = s.person_id AND p.state = 'active' AND s.revoked_at IS NULL
          AND s.expires_at > now() AND s.last_seen_at > now() - $2 * interval '1 millisecond'
        RETURNING s.id, s.csrf_hash, p.id AS person_id, p.email, p.name, p.role, p.environments`,
      [sha256(token), this.idleMs],
    );
    if (!row) return undefined;
    return { id: row.person_id, email: row.email, name: row.name, role: row.role, environments: row.environments, sessionId: row.id, csrfHash: row.csrf_hash };
  }

  /** Whether `csrf` is the CSRF token issued with this session (constant time). */
  static csrfMatches(session: VerifiedSession, csrf: string): boolean {
    const hash = sha256(csrf);
    return hash.length === session.csrfHash.length && timingSafeEqual(hash, session.csrfHash);
  }

  async list(personId: string, currentSessionId?: string): Promise<SessionView[]> {
    const rows = await sql<SessionRow>(
      this.dataSource.manager,
      `SELECT id, method, user_agent, address, created_at, last_seen_at, expires_at FROM sessions
        WHERE person_id = $1 AND revoked_at IS NULL AND expires_at > now() AND last_seen_at > now() - $2 * interval '1 millisecond'
        ORDER BY created_at DESC`,
      [personId, this.idleMs],
    );
    return rows.map((r) => ({
      id: r.id,
      method: r.method,
      userAgent: r.user_agent,
      address: r.address,
      createdAt: r.created_at.toISOString(),
      lastSeenAt: r.last_seen_at.toISOString(),
      expiresAt: new Date(Math.min(r.expires_at.getTime(), r.last_seen_at.getTime() + this.idleMs)).toISOString(),
      current: r.id === currentSessionId,
    }));
  }

  /** Ends one session of a person; 404 when they have no such open session. */
  async revoke(manager: EntityManager, personId: string, sessionId: string): Promise<void> {
    const rows = await sql(manager, 'UPDATE sessions SET revoked_at = now() WHERE id = $1 AND person_id = $2 AND revoked_at IS NULL RETURNING id', [sessionId, personId]);
    if (rows.length === 0) throw new NotFoundException(`No open session "${sessionId}"`);
  }

  /** Ends every open session of a person; the ids of those it ended. */
  async revokeAll(manager: EntityManager, personId: string): Promise<string[]> {
    const rows = await sql<{ id: string }>(manager, 'UPDATE sessions SET revoked_at = now() WHERE person_id = $1 AND revoked_at IS NULL RETURNING id', [personId]);
    return rows.map((r) => r.id);
  }
}
