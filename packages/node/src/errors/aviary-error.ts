import type { SdkErrorCode } from '@aviary/core/protocol';

export { SdkErrorCodes, type SdkErrorCode } from '@aviary/core/protocol';

/** Base of every error the SDK reports through its `error` event. It never throws them into user code. */
export abstract class AviaryError extends Error {
  /** What went wrong, as a stable string a caller can switch on (the same codes as `@aviary/browser`'s). */
  abstract readonly code: SdkErrorCode;
  /** True when the SDK has stopped talking to the server because of it (retrying cannot help). */
  readonly fatal: boolean;

  protected constructor(message: string, options?: { cause?: unknown; fatal?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.fatal = options?.fatal ?? false;
  }
}
