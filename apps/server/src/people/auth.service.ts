import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { ServerResponse } from 'node:http';
import type { DataSource } from 'typeorm';
import type { AuthenticatedPerson, AviaryRequest } from '../common/actor.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import type { AcceptInviteDto, LoginDto, MeView, SetupDto } from './dto/person.dto.js';
import { type ClientInfo, PeopleService, TooManyAttempts } from './people.service.js';
import { clearSessionCookies, CSRF_COOKIE, CSRF_HEADER, setSessionCookies } from './session-cookies.js';
import { type NewSession, SessionsService } from './sessions.service.js';

/** The HTTP side of signing in: cookies in, cookies out; the decisions are PeopleService's. */
@Injectable()
export class AuthService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly people: PeopleService,
    private readonly sessions: SessionsService,
  ) {}

  options() {
    return this.people.signInOptions();
  }

  async login(req: AviaryRequest, res: ServerResponse, dto: LoginDto): Promise<void> {
    try {
      this.signIn(res, await this.people.login(dto.email, dto.password, clientOf(req)));
    } catch (err) {
      if (err instanceof TooManyAttempts) res.setHeader('Retry-After', String(Math.ceil(err.waitMs / 1000)));
      throw err;
    }
  }

  async setup(req: AviaryRequest, res: ServerResponse, dto: SetupDto): Promise<void> {
    this.signIn(res, await this.people.setup(dto, clientOf(req)));
  }

  async acceptLink(req: AviaryRequest, res: ServerResponse, dto: AcceptInviteDto): Promise<void> {
    this.signIn(res, await this.people.acceptLink(dto, clientOf(req)));
  }

  signIn(res: ServerResponse, session: NewSession): void {
    setSessionCookies(res, session, this.config.publicUrl);
  }

  async me(person: AuthenticatedPerson): Promise<MeView> {
    const [view, sessions] = await Promise.all([this.people.get(person.id), this.sessions.list(person.id)]);
    const session = sessions.find((s) => s.id === person.sessionId)!;
    return { person: view, session, csrf: { cookie: CSRF_COOKIE, header: CSRF_HEADER, token: person.csrfToken } };
  }

  async logout(person: AuthenticatedPerson, res: ServerResponse): Promise<void> {
    await this.sessions.revoke(this.dataSource.manager, person.id, person.sessionId);
    clearSessionCookies(res, this.config.publicUrl);
  }

  sessions(personId: string) {
    return this.sessions.list(personId);
  }

  revokeSession(personId: string, sessionId: string): Promise<void> {
    return this.sessions.revoke(this.dataSource.manager, personId, sessionId);
  }
}

export function clientOf(req: AviaryRequest & { ip?: string }): ClientInfo {
  const agent = req.headers['user-agent'];
  return { address: req.ip ?? req.socket?.remoteAddress ?? 'unknown', userAgent: typeof agent === 'string' ? agent : undefined };
}
