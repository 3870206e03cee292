import { AviaryError, SdkErrorCodes } from './aviary-error.js';

/** The server refused the SDK key (401: unknown or missing, 403: a key of the wrong kind). Not retried. */
export class AuthenticationError extends AviaryError {
  readonly code = SdkErrorCodes.AUTHENTICATION;
  readonly status: number;

  constructor(status: number, url: string, serverMessage?: string) {
    const problem =
      status === 403
        ? 'the SDK key is of the wrong kind for this endpoint (403 Forbidden); @aviary/node needs a server key (avs_…)'
        : 'the SDK key was rejected as unknown or missing (401 Unauthorized); check the `sdkKey` option';
    const detail = serverMessage ? ` Server said: "${serverMessage}".` : '';
    super(
      `Aviary: ${problem}. Request: GET ${url}.${detail} The client stops connecting and serves its bootstrap ruleset or your fallback values.`,
      { fatal: true },
    );
    this.status = status;
  }
}
