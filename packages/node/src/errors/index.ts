export { AviaryError, SdkErrorCodes, type SdkErrorCode } from './aviary-error.js';
export { AuthenticationError } from './authentication-error.js';
export { ConfigurationError } from './configuration-error.js';
export { ConnectionError } from './connection-error.js';
export { HeartbeatTimeoutError } from './heartbeat-timeout-error.js';
export { ProtocolError } from './protocol-error.js';
