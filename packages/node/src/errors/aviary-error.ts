/** What went wrong, as a stable string a caller can switch on. */
export const AviaryErrorCodes = {
  INVALID_OPTIONS: 'INVALID_OPTIONS',
  UNAUTHORIZED: 'UNAUTHORIZED',
  CONNECTION_FAILED: 'CONNECTION_FAILED',
  HEARTBEAT_TIMEOUT: 'HEARTBEAT_TIMEOUT',
  PROTOCOL_ERROR: 'PROTOCOL_ERROR',
} as const;
export type AviaryErrorCode = (typeof AviaryErrorCodes)[keyof typeof AviaryErrorCodes];

/** Base of every error the SDK reports through its `error` event. It never throws them into user code. */
export abstract class AviaryError extends Error {
  abstract readonly code: AviaryErrorCode;
  /** True when the SDK has stopped talking to the server because of it (retrying cannot help). */
  readonly fatal: boolean;

  protected constructor(message: string, options?: { cause?: unknown; fatal?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.fatal = options?.fatal ?? false;
  }
}
