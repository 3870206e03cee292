import { AviaryError, AviaryErrorCodes } from './aviary-error.js';

/** The server sent something that does not follow docs/protocol.md (bad JSON, a ruleset without flags, …). */
export class ProtocolError extends AviaryError {
  readonly code = AviaryErrorCodes.PROTOCOL_ERROR;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
