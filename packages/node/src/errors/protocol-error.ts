import { AviaryError, SdkErrorCodes } from './aviary-error.js';

/** The server sent something that does not follow docs/protocol.md (bad JSON, a ruleset without flags, …). */
export class ProtocolError extends AviaryError {
  readonly code = SdkErrorCodes.PROTOCOL;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
