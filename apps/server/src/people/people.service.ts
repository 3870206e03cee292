import { randomUUID } from 'node:crypto';
import { BadRequestException, ConflictException, ForbiddenException, Inject, Injectable, NotFoundException, UnauthorizedException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { ChangeLogService } from '../changes/change-log.service.js';
import type { WriteTransaction } from '../changes/write-transaction.js';
import { type Actor, type Role, SYSTEM_ACTOR } from '../common/actor.js';
import { newToken, sha256 } from '../common/tokens.js';
import { isUuid } from '../common/uuid.js';
import { ValidationFailedException } from '../common/validation-failed.exception.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { sql } from '../database/sql.js';
import type { AcceptInviteDto, InvitedPersonView, InvitePersonDto, LoginDto, PersonView, ResetPasswordDto, SetupDto, UpdatePersonDto } from './dto/person.dto.js';
import { LoginThrottle } from './login-throttle.js';
import { hashPassword, passwordProblem, UNKNOWN_PERSON_HASH, verifyPassword } from './passwords.js';
import { type NewSession, SessionsService } from './sessions.service.js';

/** Invite and reset links expire after this long. */
const LINK_LIFETIME_MS = 7 * 86_400_000;

type LinkPurpose = 'setup' | 'invite' | 'reset';

interface PersonRow {
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

/** Where a sign-in comes from: kept with the session, and the address is throttled. */
export interface Client {
  address: string;
  userAgent?: string;
}

/** People: the first admin, invites, sign-in with a password, password resets, disabling. */
@Injectable()
export class PeopleService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly changes: ChangeLogService,
    private readonly sessions: SessionsService,
    private readonly throttle: LoginThrottle,
  ) {}

  async anyoneExists(manager: EntityManager = this.dataSource.manager): Promise<boolean> {
    return (await sql(manager, 'SELECT 1 FROM people LIMIT 1')).length > 0;
  }

  /** A setup link for the first admin, valid until used (or until someone else becomes the first). */
  async createSetupLink(): Promise<string> {
    const token = newToken();
    await sql(this.dataSource.manager, `INSERT INTO person_links (hash, purpose) VALUES ($1, 'setup')`, [sha256(token)]);
    return `${this.config.publicUrl}/setup?token=${token}`;
  }

  /** The first admin, from AVIARY_ADMIN_EMAIL + AVIARY_ADMIN_PASSWORD or a setup link; undefined
   *  when someone already exists (another instance, or the link was used). */
  async createFirstAdmin(fields: { email: string; name: string; password: string }, setupToken?: string): Promise<PersonView | undefined> {
    const id = randomUUID();
    const passwordHash = await hashPassword(fields.password);
    return this.changes.write(personActor(id, fields), async (tx) => {
      // Exclusive: two instances, or two setup requests, cannot both find nobody.
      await sql(tx.manager, 'LOCK TABLE people IN EXCLUSIVE MODE');
      if (setupToken !== undefined && !(await consumeLink(tx.manager, setupToken, 'setup'))) return undefined;
      if (await this.anyoneExists(tx.manager)) return undefined;
      await sql(tx.manager, `DELETE FROM person_links WHERE purpose = 'setup'`);
      return this.insert(tx, { id, ...fields, role: 'admin', environments: null, state: 'active', passwordHash }, setupToken ? 'person.setup' : 'person.bootstrap');
    });
  }

  /** `POST /auth/setup`: the first admin, signed in. */
  async setup(dto: SetupDto, client: Client): Promise<{ person: PersonView; session: NewSession }> {
    assertPassword(dto.password, dto.email);
    const person = await this.createFirstAdmin(dto, dto.token);
    if (!person) throw new ForbiddenException('This setup link is used, or the first admin exists already: sign in instead');
    return { person, session: await this.sessions.create(this.dataSource.manager, person.id, 'password', client) };
  }

  /** `POST /auth/login`: one answer for an unknown email, a wrong password or an account that
   *  cannot sign in, in about the same time (the unknown email's hash is verified too). */
  async login(dto: LoginDto, client: Client): Promise<NewSession> {
    if (!this.config.people.passwordLogin) {
      throw new ForbiddenException('Password sign-in is off here (AVIARY_PASSWORD_LOGIN=false): sign in with single sign-on, GET /api/v1/auth/oidc/login');
    }
    this.throttle.assertMayTry(dto.email, client.address);
    const [row] = await sql<PersonRow>(this.dataSource.manager, 'SELECT * FROM people WHERE lower(email) = lower($1)', [dto.email]);
    const matches = await verifyPassword(dto.password, row?.password_hash ?? UNKNOWN_PERSON_HASH);
    if (!row || !matches || row.state !== 'active') {
      this.throttle.failed(dto.email, client.address);
      throw new UnauthorizedException('Wrong email or password');
    }
    this.throttle.succeeded(dto.email);
    return this.sessions.create(this.dataSource.manager, row.id, 'password', client);
  }

  async invite(actor: Actor, dto: InvitePersonDto): Promise<InvitedPersonView> {
    const environments = environmentsFor(dto.role, dto.environments);
    return this.changes.write(actor, async (tx) => {
      await this.assertEnvironmentsExist(tx.manager, environments);
      const person = await this.insert(tx, { id: randomUUID(), email: dto.email, name: dto.name, role: dto.role, environments, state: 'invited', passwordHash: null }, 'person.invite');
      return { ...person, inviteUrl: await this.createLink(tx.manager, person.id, 'invite') };
    });
  }

  /** `POST /auth/accept-invite`: the invited person chooses a password and is signed in. */
  async acceptInvite(dto: AcceptInviteDto, client: Client): Promise<{ person: PersonView; session: NewSession }> {
    return this.usePasswordLink(dto, 'invite', client, 'person.accept-invite', dto.name);
  }

  /** `POST /auth/reset-password`: a new password; every other session of the person ends. */
  async resetPassword(dto: ResetPasswordDto, client: Client): Promise<{ person: PersonView; session: NewSession }> {
    return this.usePasswordLink(dto, 'reset', client, 'person.reset-password');
  }

  async createResetLink(actor: Actor, id: string): Promise<{ url: string }> {
    return this.changes.write(actor, async (tx) => {
      const person = await this.lock(tx.manager, id);
      if (person.state === 'disabled') throw new ConflictException(`${person.email} is disabled: enable them first`);
      await tx.record({ action: 'person.reset-link', resourceType: 'person', resourceKey: person.email });
      return { url: await this.createLink(tx.manager, person.id, person.state === 'invited' ? 'invite' : 'reset') };
    });
  }

  async list(): Promise<PersonView[]> {
    return (await sql<PersonRow>(this.dataSource.manager, 'SELECT * FROM people ORDER BY lower(email)')).map(toView);
  }

  async get(id: string): Promise<PersonView> {
    const [row] = isUuid(id) ? await sql<PersonRow>(this.dataSource.manager, 'SELECT * FROM people WHERE id = $1', [id]) : [];
    if (!row) throw new NotFoundException(`No person "${id}"`);
    return toView(row);
  }

  async sessionsOf(id: string) {
    await this.get(id);
    return this.sessions.list(id);
  }

  async endSession(actor: Actor, id: string, sessionId: string): Promise<void> {
    await this.changes.write(actor, async (tx) => {
      const person = await this.lock(tx.manager, id);
      await this.sessions.revoke(tx.manager, id, sessionId);
      await tx.record({ action: 'person.end-session', resourceType: 'person', resourceKey: person.email, after: { sessionId } });
    });
    await this.sessions.ended([sessionId]);
  }

  /** Role, environments, name, or disabled (which ends their sessions in the same transaction). */
  async update(actor: Actor, id: string, dto: UpdatePersonDto): Promise<PersonView> {
    let ended: string[] = [];
    const view = await this.changes.write(actor, async (tx) => {
      const before = await this.lock(tx.manager, id);
      const role = dto.role ?? before.role;
      const environments = dto.environments !== undefined || dto.role !== undefined ? environmentsFor(role, dto.environments ?? (role === 'editor' ? before.environments : null)) : before.environments;
      await this.assertEnvironmentsExist(tx.manager, environments);
      const state = dto.disabled === true ? 'disabled' : dto.disabled === false && before.state === 'disabled' ? (before.password_hash ? 'active' : 'invited') : before.state;
      const [row] = await sql<PersonRow>(
        tx.manager,
        'UPDATE people SET name = $2, role = $3, environments = $4, state = $5, updated_at = now() WHERE id = $1 RETURNING *',
        [id, dto.name ?? before.name, role, environments, state],
      );
      await this.assertAnAdminRemains(tx.manager);
      if (state === 'disabled') ended = await this.sessions.revokeAll(tx.manager, id);
      await tx.record({ action: state === 'disabled' && before.state !== 'disabled' ? 'person.disable' : 'person.update', resourceType: 'person', resourceKey: row.email, before: toView(before), after: toView(row) });
      return toView(row);
    });
    await this.sessions.ended(ended);
    return view;
  }

  /**
   * Single sign-on: the person with this subject, else (first sign-in) the one with this email,
   * else a new person; their role follows the claim on every sign-in (an editor's environment
   * limits are kept while they stay an editor).
   */
  async signInWithOidc(claims: { subject: string; email: string; name: string; role: Role }, client: Client): Promise<NewSession> {
    return this.changes.write(SYSTEM_ACTOR, async (tx) => {
      await sql(tx.manager, 'LOCK TABLE people IN EXCLUSIVE MODE');
      const [found] = await sql<PersonRow>(
        tx.manager,
        'SELECT * FROM people WHERE oidc_subject = $1 OR (oidc_subject IS NULL AND lower(email) = lower($2)) ORDER BY oidc_subject IS NULL LIMIT 1',
        [claims.subject, claims.email],
      );
      if (found?.state === 'disabled') throw new ForbiddenException(`${found.email} is disabled in Aviary: ask an admin`);
      let row: PersonRow;
      if (found) {
        [row] = await sql<PersonRow>(
          tx.manager,
          `UPDATE people SET oidc_subject = $2, role = $3, environments = CASE WHEN $3 = 'editor' THEN environments END, state = 'active', updated_at = now()
            WHERE id = $1 RETURNING *`,
          [found.id, claims.subject, claims.role],
        );
        await sql(tx.manager, 'DELETE FROM person_links WHERE person_id = $1', [found.id]);
        if (found.role !== row.role || found.state !== row.state || found.oidc_subject === null) {
          await tx.recordAs(personActor(row.id, row), { action: 'person.update', resourceType: 'person', resourceKey: row.email, before: toView(found), after: toView(row), reason: 'single sign-on' });
        }
      } else {
        const id = randomUUID();
        const created = await this.insert(tx, { id, email: claims.email, name: claims.name, role: claims.role, environments: null, state: 'active', passwordHash: null }, 'person.create', personActor(id, claims));
        [row] = await sql<PersonRow>(tx.manager, 'UPDATE people SET oidc_subject = $2 WHERE id = $1 RETURNING *', [created.id, claims.subject]);
      }
      return this.sessions.create(tx.manager, row.id, 'oidc', client);
    });
  }

  private async usePasswordLink(dto: { token: string; password: string }, purpose: 'invite' | 'reset', client: Client, action: string, name?: string) {
    const refused = new ForbiddenException(`This ${purpose === 'invite' ? 'invite' : 'password reset'} link is used, expired or unknown: ask an admin for a new one`);
    // Looked at first to know whose it is; used (deleted) in the write, so a refused password keeps it.
    const [person] = await sql<PersonRow>(
      this.dataSource.manager,
      `SELECT p.* FROM person_links l JOIN people p ON p.id = l.person_id
        WHERE l.hash = $1 AND l.purpose = $2 AND l.expires_at > now() AND p.state <> 'disabled'`,
      [sha256(dto.token), purpose],
    );
    if (!person) throw refused;
    assertPassword(dto.password, person.email);
    const passwordHash = await hashPassword(dto.password);
    let ended: string[] = [];
    const result = await this.changes.write(personActor(person.id, person), async (tx) => {
      if ((await consumeLink(tx.manager, dto.token, purpose))?.personId !== person.id) throw refused;
      const [row] = await sql<PersonRow>(
        tx.manager,
        `UPDATE people SET password_hash = $2, name = $3, state = 'active', updated_at = now() WHERE id = $1 AND state <> 'disabled' RETURNING *`,
        [person.id, passwordHash, name ?? person.name],
      );
      if (!row) throw refused;
      // A new password ends the sessions (and streams) signed in with the old one.
      ended = await this.sessions.revokeAll(tx.manager, person.id);
      await tx.record({ action, resourceType: 'person', resourceKey: row.email });
      return { person: toView(row), session: await this.sessions.create(tx.manager, row.id, 'password', client) };
    });
    await this.sessions.ended(ended);
    return result;
  }

  private async insert(
    tx: WriteTransaction,
    p: { id: string; email: string; name: string; role: Role; environments: string[] | null; state: PersonRow['state']; passwordHash: string | null },
    action: string,
    author?: Actor,
  ): Promise<PersonView> {
    const [taken] = await sql(tx.manager, 'SELECT 1 FROM people WHERE lower(email) = lower($1)', [p.email]);
    if (taken) throw new ConflictException(`A person with the email ${p.email} exists already`);
    const [row] = await sql<PersonRow>(
      tx.manager,
      'INSERT INTO people (id, email, name, role, environments, state, password_hash) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *',
      [p.id, p.email, p.name, p.role, p.environments, p.state, p.passwordHash],
    );
    const entry = { action, resourceType: 'person' as const, resourceKey: row.email, after: toView(row) };
    await (author ? tx.recordAs(author, entry) : tx.record(entry));
    return toView(row);
  }

  private async createLink(manager: EntityManager, personId: string, purpose: 'invite' | 'reset'): Promise<string> {
    const token = newToken();
    // One open link per person and purpose: a new one replaces the old.
    await sql(manager, 'DELETE FROM person_links WHERE person_id = $1', [personId]);
    await sql(manager, `INSERT INTO person_links (hash, purpose, person_id, expires_at) VALUES ($1, $2, $3, now() + $4 * interval '1 millisecond')`, [
      sha256(token),
      purpose,
      personId,
      LINK_LIFETIME_MS,
    ]);
    return `${this.config.publicUrl}/${purpose === 'invite' ? 'invite' : 'reset'}?token=${token}`;
  }

  private async lock(manager: EntityManager, id: string): Promise<PersonRow> {
    const [row] = isUuid(id) ? await sql<PersonRow>(manager, 'SELECT * FROM people WHERE id = $1 FOR UPDATE', [id]) : [];
    if (!row) throw new NotFoundException(`No person "${id}"`);
    return row;
  }

  private async assertAnAdminRemains(manager: EntityManager): Promise<void> {
    const [admin] = await sql(manager, `SELECT 1 FROM people WHERE role = 'admin' AND state = 'active' LIMIT 1`);
    if (!admin) throw new ConflictException('This would leave no active admin');
  }

  private async assertEnvironmentsExist(manager: EntityManager, environments: string[] | null): Promise<void> {
    if (!environments?.length) return;
    const rows = await sql<{ key: string }>(manager, 'SELECT key FROM environments WHERE key = ANY($1)', [environments]);
    const missing = environments.filter((e) => !rows.some((r) => r.key === e));
    if (missing.length > 0) throw new ValidationFailedException([{ path: 'environments', message: `no environment ${missing.map((m) => `"${m}"`).join(', ')}` }]);
  }
}

/** Deletes the link (single use) and answers its person; undefined when unknown or expired. */
async function consumeLink(manager: EntityManager, token: string, purpose: LinkPurpose): Promise<{ personId: string | null } | undefined> {
  const [row] = await sql<{ person_id: string | null }>(
    manager,
    'DELETE FROM person_links WHERE hash = $1 AND purpose = $2 AND (expires_at IS NULL OR expires_at > now()) RETURNING person_id',
    [sha256(token), purpose],
  );
  return row ? { personId: row.person_id } : undefined;
}

function assertPassword(password: string, email: string): void {
  const problem = passwordProblem(password, email);
  if (problem) throw new ValidationFailedException([{ path: 'password', message: problem.replace(/^password /, '') }]);
}

/** Environment limits belong to editors: viewers change nothing, admins everything. */
function environmentsFor(role: Role, environments: string[] | null | undefined): string[] | null {
  if (environments == null) return null;
  if (role !== 'editor') throw new BadRequestException(`environments: only editors can be limited to environments (role is ${role})`);
  return [...new Set(environments)];
}

function personActor(id: string, p: { email: string; name: string }): Actor {
  return { keyId: null, personId: id, email: p.email, name: p.name, via: 'session' };
}

function toView(row: PersonRow): PersonView {
  return { id: row.id, email: row.email, name: row.name, role: row.role, environments: row.environments, state: row.state, createdAt: row.created_at.toISOString() };
}
