import { AviaryError, SdkErrorCodes } from './aviary-error.js';

/** The server could not be reached, answered an unexpected status, or closed the stream. Retried with backoff. */
export class ConnectionError extends AviaryError {
  readonly code = SdkErrorCodes.CONNECTION;
  /** HTTP status, when the server answered. */
  readonly status?: number;

  constructor(message: string, options?: { status?: number; cause?: unknown }) {
    super(message, { cause: options?.cause });
    if (options?.status !== undefined) this.status = options.status;
  }
}
