import { plainToInstance, Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, validateSync } from 'class-validator';

/** The environment variables the server reads, validated once at boot. */
class EnvSchema {
  @IsOptional()
  @Transform(({ value }) => (value === undefined || value === '' ? undefined : Number(value)))
  @IsInt({ message: 'must be an integer port number' })
  @Min(0)
  @Max(65535)
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

  @IsOptional()
  @Transform(({ value }) => (value === undefined || value === '' ? undefined : Number(value)))
  @IsInt({ message: 'must be an integer' })
  @Min(1)
  @Max(100)
  AVIARY_DB_POOL_SIZE?: number;

  @IsOptional()
  @Transform(({ value }) => (value === undefined || value === '' ? undefined : Number(value)))
  @IsInt({ message: 'must be an integer number of megabytes' })
  @Min(1)
  @Max(256)
  AVIARY_MAX_BODY_MB?: number;

  @IsOptional()
  @Transform(({ value }) => (value === undefined || value === '' ? undefined : Number(value)))
  @IsInt({ message: 'must be an integer number of milliseconds' })
  @Min(100)
  @Max(600_000)
  AVIARY_REVISION_CHECK_MS?: number;

  @IsOptional()
  @Transform(({ value }) => (value === undefined || value === '' ? undefined : Number(value)))
  @IsInt({ message: 'must be an integer number of milliseconds' })
  @Min(100)
  @Max(600_000)
  AVIARY_STREAM_HEARTBEAT_MS?: number;

  @IsOptional()
  @Transform(({ value }) => (value === undefined || value === '' ? undefined : Number(value)))
  @IsInt({ message: 'must be an integer number of milliseconds' })
  @Min(10)
  @Max(60_000)
  AVIARY_SCHEDULER_INTERVAL_MS?: number;

  @IsOptional()
  @IsIn(['error', 'warn', 'log', 'debug', 'verbose'])
  LOG_LEVEL?: 'error' | 'warn' | 'log' | 'debug' | 'verbose';
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
  maxBodyBytes: number;
  /** How often each instance's rollout scheduler looks for due plan steps and guard checks. */
  schedulerIntervalMs: number;
  logLevel: 'error' | 'warn' | 'log' | 'debug' | 'verbose';
  /** How often each instance compares its revisions with Postgres. */
  revisionCheckMs: number;
  /** How often open streams get a comment line, so proxies keep them open. */
  heartbeatMs: number;
}

/** Only these are read, so unrelated variables of the process are never looked at. */
const VARIABLES = [
  'PORT', 'HOST', 'DATABASE_URL', 'REDIS_URL', 'AVIARY_ADMIN_TOKEN', 'AVIARY_DATA_DIR',
  'AVIARY_DB_POOL_SIZE', 'AVIARY_MAX_BODY_MB', 'AVIARY_SCHEDULER_INTERVAL_MS', 'LOG_LEVEL', 'AVIARY_REVISION_CHECK_MS', 'AVIARY_STREAM_HEARTBEAT_MS',
] as const;

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
      errors.map((e) => `${e.property}: ${Object.values(e.constraints ?? {}).join('; ')} (got ${JSON.stringify(env[e.property])})`),
    );
  }
  return {
    port: parsed.PORT ?? 4000,
    host: parsed.HOST ?? '0.0.0.0',
    databaseUrl: parsed.DATABASE_URL,
    redisUrl: parsed.REDIS_URL,
    adminToken: parsed.AVIARY_ADMIN_TOKEN,
    dataDir: parsed.AVIARY_DATA_DIR ?? './.aviary',
    dbPoolSize: parsed.AVIARY_DB_POOL_SIZE ?? 10,
    maxBodyBytes: (parsed.AVIARY_MAX_BODY_MB ?? 16) * 1024 * 1024,
    schedulerIntervalMs: parsed.AVIARY_SCHEDULER_INTERVAL_MS ?? 1000,
    logLevel: parsed.LOG_LEVEL ?? 'log',
    revisionCheckMs: parsed.AVIARY_REVISION_CHECK_MS ?? 2000,
    heartbeatMs: parsed.AVIARY_STREAM_HEARTBEAT_MS ?? 15_000,
  };
}
