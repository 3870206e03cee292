import { AviaryError, AviaryErrorCodes } from './aviary-error.js';

/** An option the client cannot work without (`url`, `sdkKey`) is missing or malformed. */
export class ConfigurationError extends AviaryError {
  readonly code = AviaryErrorCodes.INVALID_OPTIONS;

  constructor(message: string) {
    super(message, { fatal: true });
  }
}
