import { randomUUID, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { AuthenticatedPerson, Role } from '../common/actor.js';
import { randomToken, sha256 } from '../common/secret.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { sql } from '../database/sql.js';
import type { SessionView } from './dto/person.dto.js';

export interface NewSession {
  id: string;
  token: string;
  csrfToken: string;
  maxAgeMs: number;
}

interface SessionRow {
  id: string;
  person_id: string;
  email: string;
  name: string;
  role: Role;
  environments: string[] | null;
  csrf_hash: Buffer;
  method: 'password' | 'oidc';
  user_agent: string | null;
  address: string | null;
  created_at: Date;
  last_seen_at: Date;
  expires_at: Date;
}

/**
 * Sessions: a random token in an HttpOnly cookie, stored as SHA-256. A session ends when signed
 * out or revoked, after `AVIARY_SESSION_IDLE_TIMEOUT_MS` without a request, at
 * `AVIARY_SESSION_MAX_AGE_MS` after sign-in, or when its person is disabled. Every request reads
 * Postgres (and moves `last_seen_at`), so an end applies on every instance at once.
 */
@Injectable()
export class SessionsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async create(manager: EntityManager, personId: string, method: 'password' | 'oidc', client: { userAgent?: string; address?: string }): Promise<NewSession> {
    const token = randomToken();
    const csrfToken = randomToken();
    const id = randomUUID();
    const { sessionMaxAgeMs } = this.config.people;
    await sql(
      manager,
      `INSERT INTO sessions (id, hash, csrf_hash, person_id, method, user_agent, address, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, now() + $8 * interval '1 millisecond')`,
      [id, sha256(token), sha256(csrfToken), personId, method, client.userAgent?.slice(0, 300) ?? null, client.address ?? null, sessionMaxAgeMs],
    );
    return { id, token, csrfToken, maxAgeMs: sessionMaxAgeMs };
  }

  /** The person a session token signs in, or undefined when it is unknown, ended, or its person is not active. */
  async authenticate(token: string): Promise<(Omit<AuthenticatedPerson, 'csrfToken'> & { csrfHash: Buffer }) | undefined> {
    const [row] = await sql<SessionRow>(
      this.dataSource.manager,
      `WITH live AS (
         UPDATE sessions s SET last_seen_at = now()
           FROM people p
          WHERE s.hash = $1 AND p.id = s.person_id AND p.state = 'active' AND s.revoked_at IS NULL
            AND s.expires_at > now() AND s.last_seen_at > now() - $2 * interval '1 millisecond'
          RETURNING s.id, s.person_id, p.email, p.name, p.role, p.environments, s.csrf_hash
       ) SELECT * FROM live`,
      [sha256(token), this.config.people.sessionIdleMs],
    );
    if (!row) return undefined;
    return { id: row.person_id, email: row.email, name: row.name, role: row.role, environments: row.environments, sessionId: row.id, csrfHash: row.csrf_hash };
  }

  /** Whether `header` is the session's CSRF token (compared in constant time). */
  csrfMatches(csrfHash: Buffer, header: string | undefined): boolean {
    return header !== undefined && header.length <= 512 && timingSafeEqual(sha256(header), csrfHash);
  }

  async list(personId: string): Promise<SessionView[]> {
    const rows = await sql<SessionRow>(
      this.dataSource.manager,
      `SELECT id, method, user_agent, address, created_at, last_seen_at, expires_at FROM sessions
        WHERE person_id = $1 AND revoked_at IS NULL AND expires_at > now() AND last_seen_at > now() - $2 * interval '1 millisecond'
        ORDER BY created_at DESC`,
      [personId, this.config.people.sessionIdleMs],
    );
    return rows.map((row) => this.toView(row));
  }

  /** Ends one of `personId`'s sessions; 404 when it has none by that id. */
  async revoke(manager: EntityManager, personId: string, sessionId: string): Promise<void> {
    const ended = await sql(manager, 'UPDATE sessions SET revoked_at = now() WHERE id = $1 AND person_id = $2 AND revoked_at IS NULL RETURNING id', [sessionId, personId]);
    if (ended.length === 0) throw new NotFoundException(`No session "${sessionId}" of this person`);
  }

  /** Ends every session of a person (disabled, password reset). */
  async revokeAll(manager: EntityManager, personId: string): Promise<number> {
    const ended = await sql(manager, 'UPDATE sessions SET revoked_at = now() WHERE person_id = $1 AND revoked_at IS NULL RETURNING id', [personId]);
    return ended.length;
  }

  private toView(row: SessionRow): SessionView {
    const idleEnd = row.last_seen_at.getTime() + this.config.people.sessionIdleMs;
    return {
      id: row.id,
      method: row.method,
      userAgent: row.user_agent,
      address: row.address,
      createdAt: row.created_at.toISOString(),
      lastSeenAt: row.last_seen_at.toISOString(),
      expiresAt: new Date(Math.min(idleEnd, row.expires_at.getTime())).toISOString(),
    };
  }
}
