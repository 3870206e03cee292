import { randomUUID } from 'node:crypto';
import { ConflictException, ForbiddenException, HttpException, HttpStatus, Inject, Injectable, Logger, NotFoundException, type OnApplicationBootstrap, UnauthorizedException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { type Actor, type Role, SYSTEM_ACTOR } from '../common/actor.js';
import { randomToken, sha256 } from '../common/secret.js';
import { isUuid } from '../common/uuid.js';
import { type FieldError, ValidationFailedException } from '../common/validation-failed.exception.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { ChangeLogService } from '../changes/change-log.service.js';
import type { WriteTransaction } from '../changes/write-transaction.js';
import { sql } from '../database/sql.js';
import type { AcceptInviteDto, InvitedPersonView, InvitePersonDto, LinkView, PersonView, SetupDto, UpdatePersonDto } from './dto/person.dto.js';
import { LoginThrottle } from './login-throttle.js';
import { hashPassword, passwordProblem, verifyPassword } from './passwords.js';
import { type NewSession, SessionsService } from './sessions.service.js';

export interface PersonRow {
  id: string;
  email: string;
  name: string;
  role: Role;
  environments: string[] | null;
  state: 'invited' | 'active' | 'disabled';
  password_hash: string | null;
  oidc_subject: string | null;
  created_at: Date;
}

export interface ClientInfo {
  address: string;
  userAgent?: string;
}

type LinkPurpose = 'setup' | 'invite' | 'reset';
const LINK_PATH: Record<LinkPurpose, string> = { setup: '/setup', invite: '/invite', reset: '/reset' };
const INVITE_MS = 7 * 86_400_000;
const RESET_MS = 86_400_000;
/** The same answer for an unknown email, a wrong password, or a person who cannot sign in. */
const BAD_LOGIN = 'Wrong email or password';

/** People: the first admin, invites, sign-in with a password, roles and their environments. */
@Injectable()
export class PeopleService implements OnApplicationBootstrap {
  private readonly logger = new Logger('People');
  /** Set on a start that found no person: the setup link, for main.ts to print once. */
  setupUrl?: string;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly changes: ChangeLogService,
    private readonly sessions: SessionsService,
    private readonly throttle: LoginThrottle,
  ) {}

  /** First run: AVIARY_ADMIN_EMAIL + AVIARY_ADMIN_PASSWORD create the first admin; without them,
   *  a one-time setup link (valid until used) lets whoever opens it become that admin. */
  async onApplicationBootstrap(): Promise<void> {
    const admin = this.config.people.bootstrapAdmin;
    this.setupUrl = await this.changes.write(SYSTEM_ACTOR, async (tx) => {
      // One start at a time decides, so two instances never both create the first admin.
      await sql(tx.manager, 'LOCK TABLE people IN SHARE ROW EXCLUSIVE MODE');
      if (await this.anyPerson(tx.manager)) return undefined;
      if (admin) {
        const person = await this.insert(tx, { email: admin.email, name: admin.email.split('@')[0], role: 'admin', state: 'active', passwordHash: await hashPassword(admin.password) });
        await tx.record({ action: 'person.create', resourceType: 'person', resourceKey: person.id, after: person, reason: 'AVIARY_ADMIN_EMAIL on first start' });
        this.logger.log(`First start: created the admin ${admin.email} from AVIARY_ADMIN_EMAIL`);
        return undefined;
      }
      return this.link(tx.manager, 'setup', null, null);
    });
  }

  async signInOptions(): Promise<{ password: boolean; oidc: boolean; setupRequired: boolean }> {
    return { password: this.config.people.passwordLogin, oidc: this.config.people.oidc !== undefined, setupRequired: !(await this.anyPerson(this.dataSource.manager)) };
  }

  /** The setup link: the first admin, signed in. 410 once used or once any person exists. */
  async setup(dto: SetupDto, client: ClientInfo): Promise<NewSession> {
    const problem = passwordProblem(dto.password, dto.email);
    if (problem) throw fieldError(problem);
    const passwordHash = await hashPassword(dto.password);
    return this.changes.write(SYSTEM_ACTOR, async (tx) => {
      await sql(tx.manager, 'LOCK TABLE people IN SHARE ROW EXCLUSIVE MODE');
      const used = await sql(tx.manager, "DELETE FROM person_links WHERE hash = $1 AND purpose = 'setup' RETURNING hash", [sha256(dto.token)]);
      if (used.length === 0 || (await this.anyPerson(tx.manager))) throw new HttpException('token: this setup link is unknown or was already used', HttpStatus.GONE);
      await sql(tx.manager, "DELETE FROM person_links WHERE purpose = 'setup'");
      const person = await this.insert(tx, { email: dto.email, name: dto.name, role: 'admin', state: 'active', passwordHash });
      await this.recordAs(tx, person, { action: 'person.setup', resourceType: 'person', resourceKey: person.id, after: person, reason: 'first admin, from the setup link' });
      return this.sessions.create(tx.manager, person.id, 'password', client);
    });
  }

  /** Email and password: a session, or 401 whose message never tells whether the email exists. */
  async login(email: string, password: string, client: ClientInfo): Promise<NewSession> {
    if (!this.config.people.passwordLogin) {
      throw new ForbiddenException('Password sign-in is off (AVIARY_PASSWORD_LOGIN=false): sign in with single sign-on, GET /api/v1/auth/oidc/login');
    }
    const waitMs = this.throttle.waitMs(email, client.address);
    if (waitMs > 0) throw new TooManyAttempts(waitMs);
    const [row] = await sql<PersonRow>(this.dataSource.manager, 'SELECT * FROM people WHERE lower(email) = lower($1)', [email]);
    // Verified even for an unknown email, so the answer takes as long.
    const ok = (await verifyPassword(password, row?.password_hash ?? null)) && row?.state === 'active';
    if (!ok) {
      this.throttle.failed(email, client.address);
      throw new UnauthorizedException(BAD_LOGIN);
    }
    this.throttle.succeeded(email);
    return this.sessions.create(this.dataSource.manager, row.id, 'password', client);
  }

  /** An invite or reset link: the password chosen, the person active and signed in. */
  async acceptLink(dto: AcceptInviteDto, client: ClientInfo): Promise<NewSession> {
    const [found] = await sql<PersonRow & { purpose: LinkPurpose }>(
      this.dataSource.manager,
      `SELECT p.*, l.purpose FROM person_links l JOIN people p ON p.id = l.person_id
        WHERE l.hash = $1 AND l.purpose IN ('invite', 'reset') AND l.expires_at > now()`,
      [sha256(dto.token)],
    );
    if (!found || found.state === 'disabled') throw new HttpException('token: this link is unknown, expired or already used; ask an admin for a new one', HttpStatus.GONE);
    const problem = passwordProblem(dto.password, found.email);
    if (problem) throw fieldError(problem);
    const passwordHash = await hashPassword(dto.password);
    return this.changes.write(SYSTEM_ACTOR, async (tx) => {
      const used = await sql(tx.manager, 'DELETE FROM person_links WHERE hash = $1 RETURNING hash', [sha256(dto.token)]);
      if (used.length === 0) throw new HttpException('token: this link was already used', HttpStatus.GONE);
      const [row] = await sql<PersonRow>(
        tx.manager,
        `UPDATE people SET password_hash = $2, state = 'active', name = COALESCE($3, name), updated_at = now() WHERE id = $1 AND state <> 'disabled' RETURNING *`,
        [found.id, passwordHash, dto.name ?? null],
      );
      if (!row) throw new HttpException('token: this person was disabled', HttpStatus.GONE);
      // A new password ends every session the old one opened.
      await this.sessions.revokeAll(tx.manager, row.id);
      const after = toView(row);
      await this.recordAs(tx, after, { action: found.purpose === 'invite' ? 'person.accept-invite' : 'person.reset-password', resourceType: 'person', resourceKey: row.id, before: toView(found), after });
      return this.sessions.create(tx.manager, row.id, 'password', client);
    });
  }

  async list(): Promise<PersonView[]> {
    const rows = await sql<PersonRow>(this.dataSource.manager, 'SELECT * FROM people ORDER BY lower(email)');
    return rows.map(toView);
  }

  async get(id: string): Promise<PersonView> {
    return toView(await this.find(this.dataSource.manager, id));
  }

  invite(actor: Actor, dto: InvitePersonDto): Promise<InvitedPersonView> {
    return this.changes.write(actor, async (tx) => {
      const environments = await this.checkedEnvironments(tx.manager, dto.role, dto.environments ?? null);
      const [taken] = await sql(tx.manager, 'SELECT id FROM people WHERE lower(email) = lower($1)', [dto.email]);
      if (taken) throw new ConflictException(`email: a person with the email ${dto.email} already exists`);
      const person = await this.insert(tx, { email: dto.email, name: dto.name, role: dto.role, environments, state: 'invited' });
      const expires = new Date(Date.now() + INVITE_MS);
      const inviteUrl = await this.link(tx.manager, 'invite', person.id, expires);
      await tx.record({ action: 'person.invite', resourceType: 'person', resourceKey: person.id, after: person, reason: dto.reason });
      return { ...person, inviteUrl, inviteExpiresAt: expires.toISOString() };
    });
  }

  async update(actor: Actor, id: string, dto: UpdatePersonDto): Promise<PersonView> {
    return this.changes.write(actor, async (tx) => {
      const before = await this.find(tx.manager, id, true);
      const role = dto.role ?? before.role;
      if (dto.state === 'disabled' && actor.personId === id) throw new ConflictException('state: you cannot disable yourself; ask another admin');
      if (dto.state === 'active' && before.state === 'invited') throw new ConflictException('state: an invited person becomes active by accepting the invite');
      const environments = await this.checkedEnvironments(tx.manager, role, dto.environments !== undefined ? dto.environments : role === 'editor' ? before.environments : null);
      const state = dto.state ?? before.state;
      const [row] = await sql<PersonRow>(
        tx.manager,
        'UPDATE people SET name = $2, role = $3, environments = $4, state = $5, updated_at = now() WHERE id = $1 RETURNING *',
        [id, dto.name ?? before.name, role, environments, state],
      );
      const ended = state === 'disabled' ? await this.sessions.revokeAll(tx.manager, id) : 0;
      if (state === 'disabled') await sql(tx.manager, 'DELETE FROM person_links WHERE person_id = $1', [id]);
      const after = toView(row);
      const action = state === 'disabled' && before.state !== 'disabled' ? 'person.disable' : 'person.update';
      await tx.record({ action, resourceType: 'person', resourceKey: id, before: toView(before), after, reason: dto.reason ?? (ended > 0 ? `ended ${ended} session(s)` : undefined) });
      return after;
    });
  }

  /** A new one-time link for the person to choose a password (an invite again if never accepted). */
  async resetLink(actor: Actor, id: string, reason?: string): Promise<LinkView> {
    return this.changes.write(actor, async (tx) => {
      const person = await this.find(tx.manager, id, true);
      if (person.state === 'disabled') throw new ConflictException('state: this person is disabled; enable them first');
      await sql(tx.manager, 'DELETE FROM person_links WHERE person_id = $1', [id]);
      const purpose = person.state === 'invited' ? 'invite' : 'reset';
      const expires = new Date(Date.now() + (purpose === 'invite' ? INVITE_MS : RESET_MS));
      const url = await this.link(tx.manager, purpose, id, expires);
      await tx.record({ action: `person.${purpose === 'invite' ? 're-invite' : 'reset-link'}`, resourceType: 'person', resourceKey: id, reason });
      return { url, expiresAt: expires.toISOString() };
    });
  }

  /** Single sign-on: the person with this subject (or, on their first sign-in, this email), created if new, their role set from the claim. */
  async signInWithOidc(claims: { subject: string; email: string; name: string; role: Role }, client: ClientInfo): Promise<NewSession> {
    return this.changes.write(SYSTEM_ACTOR, async (tx) => {
      await sql(tx.manager, 'LOCK TABLE people IN SHARE ROW EXCLUSIVE MODE');
      let [row] = await sql<PersonRow>(tx.manager, 'SELECT * FROM people WHERE oidc_subject = $1', [claims.subject]);
      row ??= (await sql<PersonRow>(tx.manager, 'SELECT * FROM people WHERE lower(email) = lower($1) AND oidc_subject IS NULL', [claims.email]))[0];
      if (row?.state === 'disabled') throw new ForbiddenException('This person is disabled in Aviary; ask an admin');
      const before = row ? toView(row) : undefined;
      if (row) {
        [row] = await sql<PersonRow>(
          tx.manager,
          `UPDATE people SET oidc_subject = $2, role = $3, environments = CASE WHEN $3 = 'editor' THEN environments END, state = 'active', updated_at = now() WHERE id = $1 RETURNING *`,
          [row.id, claims.subject, claims.role],
        );
        await sql(tx.manager, 'DELETE FROM person_links WHERE person_id = $1', [row.id]);
      } else {
        const created = await this.insert(tx, { email: claims.email, name: claims.name, role: claims.role, state: 'active', oidcSubject: claims.subject });
        [row] = await sql<PersonRow>(tx.manager, 'SELECT * FROM people WHERE id = $1', [created.id]);
      }
      const after = toView(row);
      if (!before || before.role !== after.role || before.state !== after.state || !before.sso) {
        await this.recordAs(tx, after, { action: before ? 'person.update' : 'person.create', resourceType: 'person', resourceKey: row.id, before, after, reason: 'single sign-on' });
      }
      return this.sessions.create(tx.manager, row.id, 'oidc', client);
    });
  }

  private async anyPerson(manager: EntityManager): Promise<boolean> {
    return (await sql(manager, 'SELECT 1 FROM people LIMIT 1')).length > 0;
  }

  private async find(manager: EntityManager, id: string, forUpdate = false): Promise<PersonRow> {
    const [row] = isUuid(id) ? await sql<PersonRow>(manager, `SELECT * FROM people WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [id]) : [];
    if (!row) throw new NotFoundException(`No person "${id}"`);
    return row;
  }

  private async insert(
    tx: WriteTransaction,
    p: { email: string; name: string; role: Role; environments?: string[] | null; state: PersonRow['state']; passwordHash?: string; oidcSubject?: string },
  ): Promise<PersonView> {
    const [row] = await sql<PersonRow>(
      tx.manager,
      'INSERT INTO people (id, email, name, role, environments, state, password_hash, oidc_subject) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *',
      [randomUUID(), p.email.trim(), p.name, p.role, p.environments ?? null, p.state, p.passwordHash ?? null, p.oidcSubject ?? null],
    );
    return toView(row);
  }

  /** A new one-time link, stored as its hash; answers its URL under AVIARY_PUBLIC_URL. */
  private async link(manager: EntityManager, purpose: LinkPurpose, personId: string | null, expires: Date | null): Promise<string> {
    const token = randomToken();
    await sql(manager, 'INSERT INTO person_links (hash, purpose, person_id, expires_at) VALUES ($1, $2, $3, $4)', [sha256(token), purpose, personId, expires]);
    return `${this.config.publicUrl}${LINK_PATH[purpose]}?token=${token}`;
  }

  /** Only editors are limited to environments, and only to ones that exist. */
  private async checkedEnvironments(manager: EntityManager, role: Role, environments: string[] | null): Promise<string[] | null> {
    if (environments === null) return null;
    if (role !== 'editor') throw fieldError('environments: only editors are limited to environments (viewers read all, admins change all); send null');
    const known = await sql<{ key: string }>(manager, 'SELECT key FROM environments WHERE key = ANY($1)', [environments]);
    const missing = environments.filter((e) => !known.some((k) => k.key === e));
    if (missing.length > 0) throw fieldError(`environments: no environment ${missing.map((m) => `"${m}"`).join(', ')}`);
    return [...new Set(environments)];
  }

  /** A write a person makes for themselves before they are signed in (setup, accepting a link, single sign-on). */
  private recordAs(tx: WriteTransaction, person: PersonView, entry: Parameters<WriteTransaction['record']>[0]): Promise<void> {
    return tx.recordAs({ keyId: null, personId: person.id, email: person.email, name: person.name, via: 'session' }, entry);
  }
}

export class TooManyAttempts extends HttpException {
  constructor(readonly waitMs: number) {
    super(`Too many failed sign-ins for this account or address; retry in ${Math.ceil(waitMs / 1000)} s`, HttpStatus.TOO_MANY_REQUESTS);
  }
}

function fieldError(message: string): ValidationFailedException {
  const colon = message.indexOf(':');
  const error: FieldError = { path: message.slice(0, colon), message: message.slice(colon + 2) };
  return new ValidationFailedException([error]);
}

export function toView(row: PersonRow): PersonView {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    environments: row.environments,
    state: row.state,
    sso: row.oidc_subject !== null,
    createdAt: row.created_at.toISOString(),
  };
}
