/**
 * What went wrong, as the `error` event reports it (a plain union: a runtime object would cost bytes).
 * - `CONNECTION`: the stream or a request could not reach the server, or it answered an unexpected status;
 * - `AUTHENTICATION`: the server refused the client key (401/403);
 * - `PROTOCOL`: the server sent something that is not a ruleset or a patch.
 */
export type ErrorCode = 'CONNECTION' | 'AUTHENTICATION' | 'PROTOCOL';

/** Every error the client emits; it never throws into the caller's code. */
export class AviaryError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}
