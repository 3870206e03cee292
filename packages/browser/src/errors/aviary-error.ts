import type { SdkErrorCode } from '@aviary/core/protocol';

/**
 * Every error the client emits (as the `error` event); it never throws into the caller's code.
 * `code` is one of `SdkErrorCodes` of `@aviary/core/protocol` (a type here: a runtime object would
 * cost bytes). This client reports `CONNECTION`, `HEARTBEAT_TIMEOUT`, `AUTHENTICATION` and `PROTOCOL`.
 */
export class AviaryError extends Error {
  constructor(
    readonly code: SdkErrorCode,
    message: string,
  ) {
    super(message);
  }
}
