import { applyDecorators } from '@nestjs/common';
import { plainToInstance, Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength, validateSync } from 'class-validator';

/** A pragmatic email shape: something@domain.tld, no spaces, at most 254 characters. */
export const EMAIL = /^(?=.{3,254}$)[^\s@]+@[^\s@]+\.[^\s@]+$/;
export const MIN_PASSWORD_LENGTH = 12;
/** scrypt hashes any length; a bound keeps a megabyte password from costing more than a login. */
export const MAX_PASSWORD_LENGTH = 1024;

/** An optional whole number read from the environment (`''` counts as unset), within [min, max]. */
function IntegerVariable(message: string, min: number, max?: number): PropertyDecorator {
  return applyDecorators(
    IsOptional(),
    Transform(({ value }) => (value === undefined || value === '' ? undefined : Number(value))),
    IsInt({ message }),
    Min(min),
    ...(max === undefined ? [] : [Max(max)]),
  );
}

/** The environment variables the server reads, validated once at boot. */
class EnvSchema {
  @IntegerVariable('must be an integer port number', 0, 65535)
  PORT?: number;

  @IsOptional()
  @IsString()
  HOST?: string;

  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/\S+$/, { message: 'must be a postgres:// connection URL' })
  DATABASE_URL?: string;

  @IsOptional()
  @Matches(/^rediss?:\/\/\S+$/, { message: 'must be a redis:// or rediss:// URL' })
  REDIS_URL?: string;

  @IsOptional()
  @Matches(/^ava_[A-Za-z0-9_-]{16,200}$/, {
    message: 'must start with "ava_" followed by at least 16 characters from A-Z, a-z, 0-9, "_" and "-"',
  })
  AVIARY_ADMIN_TOKEN?: string;

  @IsOptional()
  @IsString()
  AVIARY_DATA_DIR?: string;

  @IntegerVariable('must be an integer', 1, 100)
  AVIARY_DB_POOL_SIZE?: number;

  @IntegerVariable('must be an integer number of milliseconds (0: do not retry)', 0, 3_600_000)
  AVIARY_DB_CONNECT_RETRY_MS?: number;

  @IntegerVariable('must be an integer number of milliseconds', 100, 600_000)
  AVIARY_DB_CONNECT_TIMEOUT_MS?: number;

  @IntegerVariable('must be an integer number of milliseconds (0: no limit)', 0, 3_600_000)
  AVIARY_DB_STATEMENT_TIMEOUT_MS?: number;

  @IntegerVariable('must be an integer number of milliseconds (0: no limit)', 0, 3_600_000)
  AVIARY_DB_QUERY_TIMEOUT_MS?: number;

  @IntegerVariable('must be an integer number of milliseconds (0: no limit)', 0, 3_600_000)
  AVIARY_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS?: number;

  @IntegerVariable('must be an integer number of megabytes', 1, 256)
  AVIARY_MAX_BODY_MB?: number;

  @IntegerVariable('must be an integer number of milliseconds', 100, 600_000)
  AVIARY_REVISION_CHECK_MS?: number;

  @IntegerVariable('must be an integer number of milliseconds', 100, 600_000)
  AVIARY_STREAM_HEARTBEAT_MS?: number;

  @IntegerVariable('must be an integer number of milliseconds', 10, 60_000)
  AVIARY_SCHEDULER_INTERVAL_MS?: number;

  @IntegerVariable('must be a whole number of days', 1, 3650)
  AVIARY_RETENTION_DAYS?: number;

  @IsOptional()
  @IsIn(['error', 'warn', 'log', 'debug', 'verbose'])
  LOG_LEVEL?: 'error' | 'warn' | 'log' | 'debug' | 'verbose';

  @IsOptional()
  @IsIn(['json', 'pretty'])
  LOG_FORMAT?: 'json' | 'pretty';

  @IsOptional()
  @Matches(/^(\*|https?:\/\/[^\s,/]+)(\s*,\s*(\*|https?:\/\/[^\s,/]+))*$/, {
    message: 'must be a comma-separated list of origins such as https://app.example.com (scheme and host, no path), or *',
  })
  AVIARY_CORS_ORIGINS?: string;

  @IntegerVariable('must be an integer number of requests (0 turns the limit off)', 0)
  AVIARY_RATE_LIMIT_ADMIN?: number;

  @IntegerVariable('must be an integer number of requests (0 turns the limit off)', 0)
  AVIARY_RATE_LIMIT_SDK_METRICS?: number;

  @IntegerVariable('must be an integer number of seconds', 1, 86_400)
  AVIARY_RATE_LIMIT_WINDOW_S?: number;

  @IsOptional()
  @Matches(/^(true|false|\d{1,2}|[A-Za-z0-9.:/,\s]+)$/, {
    message: 'must be true, false, a number of proxy hops, or a list of trusted proxy addresses/subnets (loopback, uniquelocal, 10.0.0.0/8, ...)',
  })
  AVIARY_TRUST_PROXY?: string;

  @IntegerVariable('must be an integer number of milliseconds', 100, 600_000)
  AVIARY_SHUTDOWN_TIMEOUT_MS?: number;

  @IntegerVariable('must be an integer number of failed authentications (0 turns the limit off)', 0)
  AVIARY_AUTH_FAILURE_LIMIT?: number;

  @IntegerVariable('must be an integer number of milliseconds', 100, 600_000)
  AVIARY_HTTP_HEADERS_TIMEOUT_MS?: number;

  @IntegerVariable('must be an integer number of milliseconds', 100, 3_600_000)
  AVIARY_HTTP_REQUEST_TIMEOUT_MS?: number;

  @IntegerVariable('must be an integer number of milliseconds', 100, 600_000)
  AVIARY_HTTP_KEEP_ALIVE_TIMEOUT_MS?: number;

  @IsOptional()
  @IsIn(['true', 'false'], { message: 'must be true or false' })
  AVIARY_WEBHOOK_ALLOW_PRIVATE?: string;

  @IntegerVariable('must be an integer number of milliseconds', 10, 3_600_000)
  AVIARY_WEBHOOK_RETRY_BASE_MS?: number;

  @IntegerVariable('must be an integer number of milliseconds', 50, 60_000)
  AVIARY_WEBHOOK_POLL_MS?: number;

  @IsOptional()
  @Matches(/^[A-Za-z0-9+/_-]{43}=?$/, { message: 'must be 32 random bytes in base64 (e.g. `openssl rand -base64 32`)' })
  AVIARY_SECRET_KEY?: string;

  @IsOptional()
  @Matches(/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/, { message: 'must be an http:// or https:// URL such as https://flags.example.com (no query or fragment)' })
  AVIARY_PUBLIC_URL?: string;

  @IsOptional()
  @Matches(EMAIL, { message: 'must be an email address' })
  AVIARY_ADMIN_EMAIL?: string;

  @IsOptional()
  @IsString()
  @MinLength(MIN_PASSWORD_LENGTH, { message: `must be at least ${MIN_PASSWORD_LENGTH} characters` })
  @MaxLength(MAX_PASSWORD_LENGTH, { message: `must be at most ${MAX_PASSWORD_LENGTH} characters` })
  AVIARY_ADMIN_PASSWORD?: string;

  @IntegerVariable('must be an integer number of milliseconds (at least 1000)', 1000, 365 * 86_400_000)
  AVIARY_SESSION_IDLE_TIMEOUT_MS?: number;

  @IntegerVariable('must be an integer number of milliseconds (at least 1000)', 1000, 365 * 86_400_000)
  AVIARY_SESSION_MAX_AGE_MS?: number;

  @IsOptional()
  @IsIn(['true', 'false'], { message: 'must be true or false' })
  AVIARY_PASSWORD_LOGIN?: string;

  @IsOptional()
  @Matches(/^https?:\/\/\S+$/, { message: 'must be the issuer URL of an OpenID provider, such as https://login.example.com/realms/main' })
  AVIARY_OIDC_ISSUER?: string;

  @IsOptional()
  @IsString()
  @MaxLength(500)
  AVIARY_OIDC_CLIENT_ID?: string;

  @IsOptional()
  @IsString()
  @MaxLength(2000)
  AVIARY_OIDC_CLIENT_SECRET?: string;

  @IsOptional()
  @Matches(/^[A-Za-z0-9_.:/-]{1,200}$/, { message: 'must be the name of a claim, such as groups' })
  AVIARY_OIDC_ROLE_CLAIM?: string;

  @IsOptional()
  @Matches(/^[^=,\s][^=,]*=(viewer|editor|admin)(\s*,\s*[^=,\s][^=,]*=(viewer|editor|admin))*$/, {
    message: 'must be a comma-separated list of claim-value=role, each role viewer, editor or admin (admins=admin,devs=editor)',
  })
  AVIARY_OIDC_ROLE_MAP?: string;

  @IsOptional()
  @IsIn(['viewer', 'editor', 'admin', 'none'], { message: 'must be viewer, editor, admin, or none (refuse people no mapping matches)' })
  AVIARY_OIDC_DEFAULT_ROLE?: string;
}

export interface AppConfig {
  port: number;
  host: string;
  /** Unset: the server runs an embedded PGlite in `dataDir`. */
  databaseUrl?: string;
  redisUrl?: string;
  adminToken?: string;
  dataDir: string;
  dbPoolSize: number;
  /** How long start-up keeps retrying a Postgres it cannot reach (0: fail at once). */
  dbConnectRetryMs: number;
  /** Limits on every connection to `DATABASE_URL` (not the embedded database); 0 is no limit. */
  dbTimeouts: DatabaseTimeouts;
  maxBodyBytes: number;
  /** How often each instance's rollout scheduler looks for due plan steps and guard checks. */
  schedulerIntervalMs: number;
  logLevel: 'error' | 'warn' | 'log' | 'debug' | 'verbose';
  /** Metric buckets and change-log rows older than this are deleted (the change log keeps its last 1,000 revisions per environment). */
  retentionDays: number;
  /** How often each instance compares its revisions with Postgres. */
  revisionCheckMs: number;
  /** How often open streams get a comment line, so proxies keep them open. */
  heartbeatMs: number;
  /** Unset: pretty when stdout is a terminal, JSON lines otherwise. */
  logFormat?: 'json' | 'pretty';
  /** Origins browsers may call from (`*` for any); empty: no CORS headers at all. */
  corsOrigins: string[];
  /** Requests per window: per admin key on `/api/v1`, per key and address on `POST /sdk/v1/metrics`; 0 is no limit. */
  rateLimit: { admin: number; sdkMetrics: number; authFailures: number; windowMs: number };
  /** Node's HTTP server timeouts (streams are exempt from the idle and request timeouts). */
  http: { headersTimeoutMs: number; requestTimeoutMs: number; keepAliveTimeoutMs: number };
  /** Express `trust proxy`: which proxies' `X-Forwarded-For` names the client. */
  trustProxy: boolean | number | string;
  /** How long a SIGTERM waits for in-flight requests before the process exits anyway. */
  shutdownTimeoutMs: number;
  webhooks: {
    /** Whether targets on loopback, private, link-local and metadata addresses are allowed. */
    allowPrivate: boolean;
    /** The first retry's delay; each next one doubles, up to an hour. */
    retryBaseMs: number;
    /** How often each instance's worker looks for due deliveries (also woken by its own writes). */
    pollMs: number;
  };
  /** Encrypts stored webhook secrets; unset: a key generated at first use and kept in Postgres. */
  secretKey?: Buffer;
  /** The base of every link the server makes (setup, invites, single sign-on); no trailing slash. */
  publicUrl: string;
  people: PeopleConfig;
}

export interface PeopleConfig {
  /** The first admin, created on start when no person exists (AVIARY_ADMIN_EMAIL + AVIARY_ADMIN_PASSWORD). */
  bootstrapAdmin?: { email: string; password: string };
  sessionIdleMs: number;
  sessionMaxAgeMs: number;
  /** Whether POST /api/v1/auth/login is open (AVIARY_PASSWORD_LOGIN). */
  passwordLogin: boolean;
  /** Single sign-on; unset without AVIARY_OIDC_ISSUER. */
  oidc?: OidcConfig;
}

export interface OidcConfig {
  issuer: string;
  clientId: string;
  clientSecret?: string;
  /** Unset: everyone gets `defaultRole`. */
  roleClaim?: string;
  /** Claim value → role; the highest role any value maps to wins. */
  roleMap: ReadonlyMap<string, 'viewer' | 'editor' | 'admin'>;
  /** For people no mapping matches; undefined: they are refused. */
  defaultRole?: 'viewer' | 'editor' | 'admin';
}

/** pg's limits, each guarding against one way a database can stop answering. */
export interface DatabaseTimeouts {
  /** Opening a connection, or waiting for a free one in the pool (pg `connectionTimeoutMillis`). */
  connectMs: number;
  /** One statement, enforced by Postgres, which cancels it (`statement_timeout`). */
  statementMs: number;
  /** One query, enforced by the server process: the answer never came (pg `query_timeout`). */
  queryMs: number;
  /** A transaction left open with nothing running, ended by Postgres (`idle_in_transaction_session_timeout`). */
  idleInTransactionMs: number;
}

/** Only these are read, so unrelated variables of the process are never looked at. */
export const VARIABLES = [
  'PORT', 'HOST', 'DATABASE_URL', 'REDIS_URL', 'AVIARY_ADMIN_TOKEN', 'AVIARY_DATA_DIR',
  'AVIARY_DB_POOL_SIZE', 'AVIARY_MAX_BODY_MB', 'AVIARY_SCHEDULER_INTERVAL_MS', 'LOG_LEVEL', 'AVIARY_REVISION_CHECK_MS', 'AVIARY_STREAM_HEARTBEAT_MS',
  'LOG_FORMAT', 'AVIARY_CORS_ORIGINS', 'AVIARY_RATE_LIMIT_ADMIN', 'AVIARY_RATE_LIMIT_SDK_METRICS', 'AVIARY_RATE_LIMIT_WINDOW_S',
  'AVIARY_TRUST_PROXY', 'AVIARY_SHUTDOWN_TIMEOUT_MS', 'AVIARY_RETENTION_DAYS', 'AVIARY_AUTH_FAILURE_LIMIT',
  'AVIARY_HTTP_HEADERS_TIMEOUT_MS', 'AVIARY_HTTP_REQUEST_TIMEOUT_MS', 'AVIARY_HTTP_KEEP_ALIVE_TIMEOUT_MS',
  'AVIARY_DB_CONNECT_RETRY_MS', 'AVIARY_DB_CONNECT_TIMEOUT_MS', 'AVIARY_DB_STATEMENT_TIMEOUT_MS', 'AVIARY_DB_QUERY_TIMEOUT_MS',
  'AVIARY_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS', 'AVIARY_PUBLIC_URL', 'AVIARY_ADMIN_EMAIL', 'AVIARY_ADMIN_PASSWORD',
  'AVIARY_SESSION_IDLE_TIMEOUT_MS', 'AVIARY_SESSION_MAX_AGE_MS', 'AVIARY_PASSWORD_LOGIN', 'AVIARY_OIDC_ISSUER', 'AVIARY_OIDC_CLIENT_ID',
  'AVIARY_OIDC_CLIENT_SECRET', 'AVIARY_OIDC_ROLE_CLAIM', 'AVIARY_OIDC_ROLE_MAP', 'AVIARY_OIDC_DEFAULT_ROLE',
  'AVIARY_WEBHOOK_ALLOW_PRIVATE', 'AVIARY_WEBHOOK_RETRY_BASE_MS', 'AVIARY_WEBHOOK_POLL_MS', 'AVIARY_SECRET_KEY',
] as const;

/** Never echoed in an error message. */
const SECRETS: ReadonlySet<string> = new Set(['AVIARY_ADMIN_TOKEN', 'AVIARY_ADMIN_PASSWORD', 'AVIARY_OIDC_CLIENT_SECRET', 'AVIARY_SECRET_KEY']);

export const APP_CONFIG = Symbol('APP_CONFIG');

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** The one reader of `process.env`: validates it and answers the typed config, or throws a
 *  `ConfigError` whose message names each bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  const known = Object.fromEntries(
    VARIABLES.map((name) => [name, env[name] === '' ? undefined : env[name]]),
  );
  const parsed = plainToInstance(EnvSchema, known);
  const errors = validateSync(parsed, { forbidUnknownValues: false });
  if (errors.length > 0) {
    throw new ConfigError(
      errors.map((e) => `${e.property}: ${Object.values(e.constraints ?? {}).join('; ')} (got ${shown(e.property, env[e.property])})`),
    );
  }
  const dbTimeouts = databaseTimeouts(parsed);
  const port = parsed.PORT ?? 4000;
  return {
    port,
    host: parsed.HOST ?? '0.0.0.0',
    databaseUrl: parsed.DATABASE_URL,
    redisUrl: parsed.REDIS_URL,
    adminToken: parsed.AVIARY_ADMIN_TOKEN,
    dataDir: parsed.AVIARY_DATA_DIR ?? './.aviary',
    dbPoolSize: parsed.AVIARY_DB_POOL_SIZE ?? 10,
    dbConnectRetryMs: parsed.AVIARY_DB_CONNECT_RETRY_MS ?? 30_000,
    dbTimeouts,
    maxBodyBytes: (parsed.AVIARY_MAX_BODY_MB ?? 16) * 1024 * 1024,
    schedulerIntervalMs: parsed.AVIARY_SCHEDULER_INTERVAL_MS ?? 1000,
    retentionDays: parsed.AVIARY_RETENTION_DAYS ?? 30,
    logLevel: parsed.LOG_LEVEL ?? 'log',
    revisionCheckMs: parsed.AVIARY_REVISION_CHECK_MS ?? 2000,
    heartbeatMs: parsed.AVIARY_STREAM_HEARTBEAT_MS ?? 15_000,
    logFormat: parsed.LOG_FORMAT,
    corsOrigins: (parsed.AVIARY_CORS_ORIGINS ?? '').split(',').map((o) => o.trim()).filter((o) => o !== ''),
    rateLimit: {
      admin: parsed.AVIARY_RATE_LIMIT_ADMIN ?? 6000,
      sdkMetrics: parsed.AVIARY_RATE_LIMIT_SDK_METRICS ?? 600,
      authFailures: parsed.AVIARY_AUTH_FAILURE_LIMIT ?? 30,
      windowMs: (parsed.AVIARY_RATE_LIMIT_WINDOW_S ?? 60) * 1000,
    },
    http: {
      headersTimeoutMs: parsed.AVIARY_HTTP_HEADERS_TIMEOUT_MS ?? 10_000,
      requestTimeoutMs: parsed.AVIARY_HTTP_REQUEST_TIMEOUT_MS ?? 30_000,
      // Longer than the idle timeout of common load balancers (60 s), so they never reuse a closed connection.
      keepAliveTimeoutMs: parsed.AVIARY_HTTP_KEEP_ALIVE_TIMEOUT_MS ?? 65_000,
    },
    trustProxy: trustProxy(parsed.AVIARY_TRUST_PROXY),
    shutdownTimeoutMs: parsed.AVIARY_SHUTDOWN_TIMEOUT_MS ?? 10_000,
    webhooks: {
      allowPrivate: parsed.AVIARY_WEBHOOK_ALLOW_PRIVATE === 'true',
      retryBaseMs: parsed.AVIARY_WEBHOOK_RETRY_BASE_MS ?? 1000,
      pollMs: parsed.AVIARY_WEBHOOK_POLL_MS ?? 1000,
    },
    secretKey: parsed.AVIARY_SECRET_KEY === undefined ? undefined : Buffer.from(parsed.AVIARY_SECRET_KEY, 'base64'),
    publicUrl: (parsed.AVIARY_PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/+$/, ''),
    people: peopleConfig(parsed),
  };
}

/** Sign-in settings; the pairs that only make sense together are checked together. */
function peopleConfig(parsed: EnvSchema): PeopleConfig {
  const problems: string[] = [];
  const { AVIARY_ADMIN_EMAIL: email, AVIARY_ADMIN_PASSWORD: password } = parsed;
  if ((email === undefined) !== (password === undefined)) {
    problems.push(`${email === undefined ? 'AVIARY_ADMIN_EMAIL' : 'AVIARY_ADMIN_PASSWORD'}: must be set together with ${email === undefined ? 'AVIARY_ADMIN_PASSWORD' : 'AVIARY_ADMIN_EMAIL'}`);
  } else if (email !== undefined && password!.toLowerCase() === email.toLowerCase()) {
    problems.push('AVIARY_ADMIN_PASSWORD: must not be the email address');
  }
  const idle = parsed.AVIARY_SESSION_IDLE_TIMEOUT_MS ?? 12 * 3_600_000;
  const maxAge = parsed.AVIARY_SESSION_MAX_AGE_MS ?? 7 * 86_400_000;
  if (idle > maxAge) problems.push(`AVIARY_SESSION_IDLE_TIMEOUT_MS: must not be longer than AVIARY_SESSION_MAX_AGE_MS (${maxAge}) (got ${idle})`);
  const oidc = oidcConfig(parsed, problems);
  const passwordLogin = parsed.AVIARY_PASSWORD_LOGIN !== 'false';
  if (!passwordLogin && !oidc) problems.push('AVIARY_PASSWORD_LOGIN: false needs single sign-on (AVIARY_OIDC_ISSUER), else nobody can sign in');
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    bootstrapAdmin: email !== undefined ? { email, password: password! } : undefined,
    sessionIdleMs: idle,
    sessionMaxAgeMs: maxAge,
    passwordLogin,
    oidc,
  };
}

/** Single sign-on: the issuer needs a client id; the other settings need the issuer. */
function oidcConfig(parsed: EnvSchema, problems: string[]): OidcConfig | undefined {
  const issuer = parsed.AVIARY_OIDC_ISSUER;
  const dependent = ['AVIARY_OIDC_CLIENT_ID', 'AVIARY_OIDC_CLIENT_SECRET', 'AVIARY_OIDC_ROLE_CLAIM', 'AVIARY_OIDC_ROLE_MAP', 'AVIARY_OIDC_DEFAULT_ROLE'] as const;
  if (issuer === undefined) {
    for (const name of dependent) if (parsed[name] !== undefined) problems.push(`${name}: needs AVIARY_OIDC_ISSUER`);
    return undefined;
  }
  if (parsed.AVIARY_OIDC_CLIENT_ID === undefined) problems.push('AVIARY_OIDC_CLIENT_ID: must be set with AVIARY_OIDC_ISSUER');
  if (parsed.AVIARY_OIDC_ROLE_MAP !== undefined && parsed.AVIARY_OIDC_ROLE_CLAIM === undefined) {
    problems.push('AVIARY_OIDC_ROLE_MAP: needs AVIARY_OIDC_ROLE_CLAIM, the claim whose values it maps');
  }
  const roleMap = new Map<string, 'viewer' | 'editor' | 'admin'>();
  for (const pair of (parsed.AVIARY_OIDC_ROLE_MAP ?? '').split(',').filter((p) => p.trim() !== '')) {
    const at = pair.lastIndexOf('=');
    roleMap.set(pair.slice(0, at).trim(), pair.slice(at + 1).trim() as 'viewer' | 'editor' | 'admin');
  }
  const defaultRole = parsed.AVIARY_OIDC_DEFAULT_ROLE ?? 'viewer';
  return {
    // Compared exactly with the provider's own: a trailing slash matters.
    issuer,
    clientId: parsed.AVIARY_OIDC_CLIENT_ID ?? '',
    clientSecret: parsed.AVIARY_OIDC_CLIENT_SECRET,
    roleClaim: parsed.AVIARY_OIDC_ROLE_CLAIM,
    roleMap,
    defaultRole: defaultRole === 'none' ? undefined : (defaultRole as OidcConfig['defaultRole']),
  };
}

/**
 * The query timeout (the server process gives up) must be longer than the statement timeout
 * (Postgres cancels): else a statement Postgres would have cancelled cleanly is abandoned instead,
 * and its connection with it.
 */
function databaseTimeouts(parsed: EnvSchema): DatabaseTimeouts {
  const statementMs = parsed.AVIARY_DB_STATEMENT_TIMEOUT_MS ?? 15_000;
  const queryMs = parsed.AVIARY_DB_QUERY_TIMEOUT_MS ?? (statementMs === 0 ? 0 : statementMs + 5000);
  if (parsed.AVIARY_DB_QUERY_TIMEOUT_MS !== undefined && queryMs !== 0 && statementMs !== 0 && queryMs <= statementMs) {
    throw new ConfigError([
      `AVIARY_DB_QUERY_TIMEOUT_MS: must be longer than AVIARY_DB_STATEMENT_TIMEOUT_MS (${statementMs}), so Postgres cancels a slow statement before the server gives up on it (got ${queryMs})`,
    ]);
  }
  return {
    connectMs: parsed.AVIARY_DB_CONNECT_TIMEOUT_MS ?? 5000,
    statementMs,
    queryMs,
    idleInTransactionMs: parsed.AVIARY_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS ?? 10_000,
  };
}

/** How a bad value appears in the error: secrets not at all, passwords in URLs masked. */
function shown(name: string, value: string | undefined): string {
  if (value === undefined) return 'nothing';
  if (SECRETS.has(name)) return `a value of ${value.length} characters, not shown`;
  return JSON.stringify(value.replace(/\/\/([^:/@\s]*):[^@\s]*@/, '//$1:***@'));
}

function trustProxy(value: string | undefined): boolean | number | string {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  return /^\d+$/.test(value) ? Number(value) : value;
}
