/** Where the SDK writes what it does. Any object with some of these methods will do (`console`, pino, winston). */
export interface Logger {
  error(message: string, ...details: unknown[]): void;
  warn(message: string, ...details: unknown[]): void;
  info(message: string, ...details: unknown[]): void;
  debug(message: string, ...details: unknown[]): void;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'none';

const levels: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'none'];

/** A logger writing to `console` with an `[aviary]` prefix, from `level` up (default `warn`). */
export function createConsoleLogger(level: LogLevel = 'warn'): Logger {
  const threshold = levels.indexOf(level);
  const at =
    (l: Exclude<LogLevel, 'none'>) =>
    (message: string, ...details: unknown[]): void => {
      if (levels.indexOf(l) >= threshold) console[l](`[aviary] ${message}`, ...details);
    };
  return { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}

/** Fills the methods a caller's logger lacks, and keeps a throwing logger from breaking the SDK. */
export function toLogger(candidate: unknown, fallback: Logger): Logger {
  if (typeof candidate !== 'object' || candidate === null) return fallback;
  const source = candidate as Partial<Record<keyof Logger, unknown>>;
  const method = (name: keyof Logger) => {
    const fn = source[name];
    if (typeof fn !== 'function') return () => undefined;
    return (message: string, ...details: unknown[]) => {
      try {
        (fn as (...args: unknown[]) => void).call(candidate, message, ...details);
      } catch {
        // A broken logger must not break evaluation or the connection.
      }
    };
  };
  return { error: method('error'), warn: method('warn'), info: method('info'), debug: method('debug') };
}
