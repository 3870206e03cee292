import { AviaryError, SdkErrorCodes } from './aviary-error.js';

/** The stream stayed silent longer than the heartbeat timeout; the client treats it as dead and reconnects. */
export class HeartbeatTimeoutError extends AviaryError {
  readonly code = SdkErrorCodes.HEARTBEAT_TIMEOUT;
  readonly timeoutMs: number;

  constructor(timeoutMs: number) {
    super(`Aviary: the stream was silent for ${timeoutMs} ms; reconnecting.`);
    this.timeoutMs = timeoutMs;
  }
}
