import { BadGatewayException, BadRequestException, ForbiddenException, Inject, Injectable, Logger, UnauthorizedException } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { stringifySetCookie } from 'cookie';
import * as client from 'openid-client';
import type { AviaryRequest, Role } from '../common/actor.js';
import { readCookie, setSessionCookies } from '../common/session-cookies.js';
import { APP_CONFIG, type AppConfig, type OidcConfig } from '../config/config.js';
import { type Client, PeopleService } from './people.service.js';

/** The state, nonce and PKCE verifier of a sign-in in progress, in an HttpOnly cookie for its callback only. */
const FLOW_COOKIE = 'aviary_oidc';
const FLOW_PATH = '/api/v1/auth/oidc';
const FLOW_TTL_S = 600;
const RANK: Record<Role, number> = { viewer: 0, editor: 1, admin: 2 };

interface Flow {
  state: string;
  nonce: string;
  verifier: string;
}

/**
 * Single sign-on with OpenID Connect through `openid-client` (certified, maintained; it checks the
 * ID token's signature, issuer, audience, nonce and expiry, the `state`, and the `iss` response
 * parameter): the authorization code flow with PKCE. The provider's metadata is discovered on
 * the first sign-in and kept; a failed discovery is retried on the next.
 */
@Injectable()
export class OidcService {
  private readonly logger = new Logger('SingleSignOn');
  private configuration?: Promise<client.Configuration>;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly people: PeopleService,
  ) {}

  private get settings(): OidcConfig {
    const oidc = this.config.people.oidc;
    if (!oidc) throw new ForbiddenException('Single sign-on is not configured here (AVIARY_OIDC_ISSUER is unset)');
    return oidc;
  }

  private get flowCookie() {
    return { path: FLOW_PATH, httpOnly: true, sameSite: 'lax', secure: this.config.publicUrl.startsWith('https:') } as const;
  }

  private get redirectUri(): string {
    return `${this.config.publicUrl}${FLOW_PATH}/callback`;
  }

  /** Where the browser goes to sign in; the flow's secrets go into a cookie for the callback. */
  async start(res: ServerResponse): Promise<string> {
    const configuration = await this.discovered();
    const flow: Flow = { state: client.randomState(), nonce: client.randomNonce(), verifier: client.randomPKCECodeVerifier() };
    const url = client.buildAuthorizationUrl(configuration, {
      redirect_uri: this.redirectUri,
      scope: 'openid email profile',
      state: flow.state,
      nonce: flow.nonce,
      code_challenge: await client.calculatePKCECodeChallenge(flow.verifier),
      code_challenge_method: 'S256',
    });
    const value = Buffer.from(JSON.stringify(flow)).toString('base64url');
    res.setHeader('Set-Cookie', stringifySetCookie({ name: FLOW_COOKIE, value, maxAge: FLOW_TTL_S, ...this.flowCookie }));
    return url.href;
  }

  /** The provider's answer: checked, the person found or created with the role their claim maps to, signed in. */
  async finish(req: AviaryRequest & { ip?: string }, res: ServerResponse, clientInfo: Client): Promise<string> {
    const settings = this.settings;
    const flow = readFlow(readCookie(req, FLOW_COOKIE));
    if (!flow) throw new BadRequestException(`No sign-in in progress (the ${FLOW_COOKIE} cookie is missing or expired): start again at ${FLOW_PATH}/login`);
    const configuration = await this.discovered();
    const query = (req.originalUrl ?? req.url ?? '').split('?')[1] ?? '';
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(configuration, new URL(`${this.redirectUri}?${query}`), {
        pkceCodeVerifier: flow.verifier,
        expectedState: flow.state,
        expectedNonce: flow.nonce,
        idTokenExpected: true,
      });
    } catch (err) {
      throw refusal(err);
    }
    const idClaims = tokens.claims()!;
    let claims: Record<string, unknown> = idClaims;
    // Providers often keep email and groups for the userinfo endpoint unless asked otherwise.
    if (typeof claims.email !== 'string' || (settings.roleClaim && claims[settings.roleClaim] === undefined)) {
      try {
        claims = { ...(await client.fetchUserInfo(configuration, tokens.access_token, idClaims.sub)), ...idClaims };
      } catch (err) {
        throw refusal(err);
      }
    }
    const email = claims.email;
    if (typeof email !== 'string' || claims.email_verified === false) {
      throw new ForbiddenException('The OpenID provider gave no verified email for this account; Aviary needs one');
    }
    const role = this.roleFor(claims);
    if (!role) {
      throw new ForbiddenException(`No role for this account: its ${settings.roleClaim} claim maps to none in AVIARY_OIDC_ROLE_MAP, and AVIARY_OIDC_DEFAULT_ROLE is none`);
    }
    const name = typeof claims.name === 'string' && claims.name !== '' ? claims.name.slice(0, 200) : email.split('@')[0];
    const session = await this.people.signInWithOidc({ subject: `${idClaims.iss} ${idClaims.sub}`, email, name, role }, clientInfo);
    setSessionCookies(res, session, this.flowCookie.secure);
    res.appendHeader('Set-Cookie', stringifySetCookie({ name: FLOW_COOKIE, value: '', maxAge: 0, ...this.flowCookie }));
    return `${this.config.publicUrl}/`;
  }

  /** The highest role any value of the role claim maps to; else the default role. */
  private roleFor(claims: Record<string, unknown>): Role | undefined {
    const { roleClaim, roleMap, defaultRole } = this.settings;
    const raw = roleClaim ? claims[roleClaim] : undefined;
    const values = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
    let best: Role | undefined;
    for (const value of values) {
      const role = typeof value === 'string' ? roleMap.get(value) : undefined;
      if (role && (best === undefined || RANK[role] > RANK[best])) best = role;
    }
    return best ?? defaultRole;
  }

  private discovered(): Promise<client.Configuration> {
    const { issuer, clientId, clientSecret } = this.settings;
    this.configuration ??= client
      .discovery(new URL(issuer), clientId, clientSecret ? { client_secret: clientSecret } : undefined, undefined, {
        // An http:// issuer is only accepted on loopback (a provider on the same machine, tests).
        execute: isLoopbackHttp(issuer) ? [client.allowInsecureRequests] : [],
      })
      .catch((err: Error) => {
        this.configuration = undefined;
        this.logger.warn(`Discovery of ${issuer} failed: ${err.message}`);
        throw new BadGatewayException(`The OpenID provider ${issuer} (AVIARY_OIDC_ISSUER) could not be used: ${err.message}`);
      });
    return this.configuration;
  }
}

function isLoopbackHttp(issuer: string): boolean {
  const url = new URL(issuer);
  return url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
}

function readFlow(cookie: string | undefined): Flow | undefined {
  if (!cookie) return undefined;
  try {
    const flow = JSON.parse(Buffer.from(cookie, 'base64url').toString('utf8')) as Partial<Flow>;
    return typeof flow.state === 'string' && typeof flow.nonce === 'string' && typeof flow.verifier === 'string' ? (flow as Flow) : undefined;
  } catch {
    return undefined;
  }
}

/** What went wrong, for the person and their admin: a check openid-client made, or the provider's own refusal. */
function refusal(err: unknown): Error {
  const e = err as { code?: string; error?: string; error_description?: string; message?: string; cause?: { message?: string } };
  if (e.error) return new UnauthorizedException(`The OpenID provider refused the sign-in: ${e.error}${e.error_description ? ` (${e.error_description})` : ''}`);
  // openid-client's own checks (state, iss, nonce, the ID token): the detail is in the cause.
  if (e.code?.startsWith('OAUTH_')) return new BadRequestException(`The sign-in response failed a check: ${e.cause?.message ?? e.message}`);
  return new BadGatewayException(`The OpenID provider could not be reached or answered nonsense: ${e.message ?? String(err)}`);
}
