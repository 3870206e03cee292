import type { LoggerService, LogLevel } from '@nestjs/common';
import { pino, type DestinationStream, type Level, type Logger } from 'pino';
import { currentRequestId } from '../common/request-id.js';
import type { AppConfig } from '../config/config.js';

export type { Logger } from 'pino';

/** Nest's level names (LOG_LEVEL) in pino's terms. */
const PINO_LEVEL: Record<AppConfig['logLevel'], Level> = { error: 'error', warn: 'warn', log: 'info', debug: 'debug', verbose: 'trace' };

/** Anything shaped like an Aviary key (admin `ava_`, server `avs_`, client `avc_`). */
const KEY_PATTERN = /\bav[asc]_[A-Za-z0-9_-]{6,}/g;

/** Field paths whose values never reach a log line. */
const REDACTED_PATHS = [
  'authorization', 'cookie', 'token', 'secret', 'password', 'adminToken', 'clientKey',
  '*.authorization', '*.cookie', '*.token', '*.secret', '*.password', '*.adminToken', '*.clientKey',
  'req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'headers.cookie',
];

/** Replaces key-shaped strings (and the configured admin token) with their prefix and `***`. */
export function scrubSecrets(text: string, extra: readonly string[] = []): string {
  let out = text.replace(KEY_PATTERN, (key) => `${key.slice(0, 4)}***`);
  for (const secret of extra) if (secret.length >= 8) out = out.split(secret).join('***');
  return out;
}

/** Query parameters the API takes, whose values may be logged; any other value is hidden. */
const LOGGABLE_PARAMETERS: ReadonlySet<string> = new Set([
  'limit', 'cursor', 'tag', 'includeRevoked', 'list', 'action', 'resourceType', 'resource', 'environment', 'actor',
  'since', 'until', 'source', 'key', 'lastEventId',
]);

/** A URL as it may be logged: the values of query parameters the API does not take (a key sent
 *  under a wrong name, say) and of `clientKey` hidden. */
export function loggableUrl(url: string): string {
  const query = url.indexOf('?');
  if (query < 0) return url;
  const hash = url.indexOf('#', query);
  const search = url.slice(query + 1, hash < 0 ? undefined : hash);
  const shown = search
    .split('&')
    .map((pair) => {
      const equals = pair.indexOf('=');
      if (equals < 0) return pair.length > 64 ? '***' : pair;
      return LOGGABLE_PARAMETERS.has(pair.slice(0, equals)) ? pair : `${pair.slice(0, equals)}=***`;
    })
    .join('&');
  return `${url.slice(0, query)}?${shown}`;
}

export interface LoggerOptions {
  level: AppConfig['logLevel'];
  /** Unset: pretty on a terminal, JSON lines otherwise. */
  format?: 'json' | 'pretty';
  /** Scrubbed from every line even when it does not look like a key. */
  secrets?: readonly string[];
  /** Where lines go (tests); default stdout. */
  destination?: DestinationStream;
}

/** The server's pino logger: JSON lines (or a readable form on a terminal), the request id of the
 *  request being served on every line, keys and tokens scrubbed. */
export function createLogger(options: LoggerOptions): Logger {
  const secrets = options.secrets ?? [];
  const scrub = (value: unknown): unknown => (typeof value === 'string' ? scrubSecrets(value, secrets) : value);
  const pretty = (options.format ?? (process.stdout.isTTY ? 'pretty' : 'json')) === 'pretty';
  const destination = options.destination ?? (pretty ? prettyStream(process.stdout, Boolean(process.stdout.isTTY)) : pino.destination({ sync: true }));
  return pino(
    {
      level: PINO_LEVEL[options.level],
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) => {
          const out: Record<string, unknown> = {};
          for (const [key, value] of Object.entries(object)) out[key] = scrub(value);
          return out;
        },
      },
      serializers: {
        err: (err: Error) => {
          const serialized = pino.stdSerializers.err(err);
          return { ...serialized, message: scrub(serialized.message), stack: scrub(serialized.stack) };
        },
      },
      mixin: () => {
        const reqId = currentRequestId();
        return reqId === undefined ? {} : { reqId };
      },
      hooks: {
        logMethod(args, method) {
          return method.apply(this, args.map(scrub) as Parameters<typeof method>);
        },
      },
    },
    destination,
  );
}

const perConfig = new WeakMap<AppConfig, Logger>();

/** One logger per loaded configuration, shared by `main.ts` (Nest's own logs) and the modules. */
export function loggerFor(config: AppConfig): Logger {
  let logger = perConfig.get(config);
  if (logger === undefined) {
    logger = createLogger({ level: config.logLevel, format: config.logFormat, secrets: config.adminToken ? [config.adminToken] : [] });
    perConfig.set(config, logger);
  }
  return logger;
}

/** Nest's start-up chatter (one line per module and route): debug, not info. */
const BOOT_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer']);

/** Nest's logger on top of pino, so the framework's own lines are JSON too. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...rest: unknown[]): void {
    this.write(BOOT_CONTEXTS.has(String(rest[rest.length - 1])) ? 'debug' : 'info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('trace', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest);
  }

  setLogLevels(levels: LogLevel[]): void {
    const order: LogLevel[] = ['verbose', 'debug', 'log', 'warn', 'error', 'fatal'];
    const lowest = order.find((level) => levels.includes(level));
    if (lowest !== undefined) this.logger.level = lowest === 'fatal' ? 'fatal' : PINO_LEVEL[lowest];
  }

  /** Nest passes `(message, context)` or, for errors, `(message, stack, context)`. */
  private write(level: Level, message: unknown, rest: unknown[]): void {
    if (!this.logger.isLevelEnabled(level)) return;
    const params = [...rest];
    const context = params.length > 0 && typeof params[params.length - 1] === 'string' ? (params.pop() as string) : undefined;
    const fields: Record<string, unknown> = context === undefined ? {} : { context };
    if (level === 'error' || level === 'fatal') {
      const stack = params.find((p) => typeof p === 'string' && /\n\s+at /.test(p));
      if (stack !== undefined) fields.stack = stack;
    }
    if (message instanceof Error) {
      this.logger[level]({ ...fields, err: message }, message.message);
    } else if (typeof message === 'object' && message !== null) {
      this.logger[level]({ ...fields, ...(message as object) });
    } else {
      this.logger[level](fields, String(message));
    }
  }
}

const LEVEL_TAG: Record<string, string> = { trace: 'TRACE', debug: 'DEBUG', info: 'INFO ', warn: 'WARN ', error: 'ERROR', fatal: 'FATAL' };
const LEVEL_COLOR: Record<string, string> = { trace: '90', debug: '36', info: '32', warn: '33', error: '31', fatal: '35' };

/** A readable one-line form of each JSON line, for `npm start` on a terminal. */
export function prettyStream(out: NodeJS.WritableStream, color: boolean): DestinationStream {
  return {
    write(line: string): void {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        out.write(line);
        return;
      }
      // The access log's method, route, status and time are already in its message.
      const { time, level, msg, context, reqId, pid: _pid, hostname: _host, err, stack, method: _m, route: _r, status: _s, ms: _ms, ...rest } = entry;
      if (rest.url === _r) delete rest.url;
      const label = String(level);
      const tag = color ? `\u001b[${LEVEL_COLOR[label] ?? '0'}m${LEVEL_TAG[label] ?? label}\u001b[0m` : LEVEL_TAG[label] ?? label;
      const clock = typeof time === 'string' ? time.slice(11, 23) : '';
      const extras = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
      const trace = (err as { stack?: string } | undefined)?.stack ?? (typeof stack === 'string' ? stack : undefined);
      out.write(
        `${clock} ${tag} ${context ? `[${String(context)}] ` : ''}${msg ?? ''}${extras.length ? `  ${extras.join(' ')}` : ''}` +
          `${reqId ? `  (${String(reqId)})` : ''}\n${trace ? `${trace}\n` : ''}`,
      );
    },
  };
}
