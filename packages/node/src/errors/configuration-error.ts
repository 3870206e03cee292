import { AviaryError, SdkErrorCodes } from './aviary-error.js';

/** An option the client cannot work without (`url`, `sdkKey`) is missing or malformed. */
export class ConfigurationError extends AviaryError {
  readonly code = SdkErrorCodes.CONFIGURATION;

  constructor(message: string) {
    super(message, { fatal: true });
  }
}
