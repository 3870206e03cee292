import { Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { ServerResponse } from 'node:http';
import type { DataSource } from 'typeorm';
import type { AuthenticatedPerson, AviaryRequest } from '../common/actor.js';
import { clearSessionCookies, CSRF_COOKIE, CSRF_HEADER, setSessionCookies } from '../common/session-cookies.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import type { AcceptInviteDto, LoginDto, MeView, PersonView, ResetPasswordDto, SetupDto, SignInOptionsView } from './dto/person.dto.js';
import { type Client, PeopleService } from './people.service.js';
import { type NewSession, SessionsService } from './sessions.service.js';

type Request = AviaryRequest & { ip?: string };

/** The `/auth` endpoints: people's answers become session cookies. */
@Injectable()
export class AuthService {
  private readonly secure: boolean;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly people: PeopleService,
    private readonly sessions: SessionsService,
  ) {
    this.secure = config.publicUrl.startsWith('https:');
  }

  async setup(dto: SetupDto, req: Request, res: ServerResponse): Promise<PersonView> {
    return this.signIn(await this.people.setup(dto, clientOf(req)), res);
  }

  async login(dto: LoginDto, req: Request, res: ServerResponse): Promise<void> {
    setSessionCookies(res, await this.people.login(dto, clientOf(req)), this.secure);
  }

  async acceptInvite(dto: AcceptInviteDto, req: Request, res: ServerResponse): Promise<PersonView> {
    return this.signIn(await this.people.acceptInvite(dto, clientOf(req)), res);
  }

  async resetPassword(dto: ResetPasswordDto, req: Request, res: ServerResponse): Promise<PersonView> {
    return this.signIn(await this.people.resetPassword(dto, clientOf(req)), res);
  }

  async me(req: Request): Promise<MeView> {
    const person = signedIn(req);
    return { ...(await this.people.get(person.id)), sessionId: person.sessionId, csrf: { cookie: CSRF_COOKIE, header: CSRF_HEADER } };
  }

  async options(): Promise<SignInOptionsView> {
    return { password: this.config.people.passwordLogin, oidc: this.config.people.oidc !== undefined, setupRequired: !(await this.people.anyoneExists()) };
  }

  async logout(req: Request, res: ServerResponse): Promise<void> {
    const person = signedIn(req);
    await this.sessions.revoke(this.dataSource.manager, person.id, person.sessionId);
    clearSessionCookies(res, this.secure);
    await this.sessions.ended([person.sessionId]);
  }

  sessionsOf(req: Request) {
    const person = signedIn(req);
    return this.sessions.list(person.id, person.sessionId);
  }

  async revokeSession(req: Request, id: string): Promise<void> {
    await this.sessions.revoke(this.dataSource.manager, signedIn(req).id, id);
    await this.sessions.ended([id]);
  }

  private signIn(result: { person: PersonView; session: NewSession }, res: ServerResponse): PersonView {
    setSessionCookies(res, result.session, this.secure);
    return result.person;
  }
}

function signedIn(req: Request): AuthenticatedPerson {
  if (!req.person) throw new UnauthorizedException('Not signed in: this endpoint is for sessions (POST /api/v1/auth/login), not API keys');
  return req.person;
}

export function clientOf(req: Request): Client {
  const userAgent = req.headers['user-agent'];
  return { address: req.ip ?? req.socket?.remoteAddress ?? 'unknown', userAgent: typeof userAgent === 'string' ? userAgent : undefined };
}
