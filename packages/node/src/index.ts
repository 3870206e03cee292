export {
  createClient,
  type AviaryClient,
  type AviaryEvents,
  type ChangeEvent,
  type ConnectionStatus,
  type KillEvent,
  type ReadyEvent,
  type StatusEvent,
  type TrackOptions,
} from './client.js';
export { type AviaryOptions } from './options.js';
export { createConsoleLogger, type Logger, type LogLevel } from './logger.js';
export { type FetchLike } from './platform/platform.js';
export { type EventCount, type ExposureCount, type MetricsReport } from './metrics.js';
export { type RulesetPatch } from '@aviary/core/protocol';
export {
  AuthenticationError,
  AviaryError,
  ConfigurationError,
  ConnectionError,
  HeartbeatTimeoutError,
  ProtocolError,
  SdkErrorCodes,
  type SdkErrorCode,
} from './errors/index.js';
export {
  Reasons,
  // Why one evaluation answered ERROR; not to be confused with SdkErrorCodes (what the `error` event reports).
  ErrorCodes as EvaluationErrorCodes,
  type Context,
  type ContextValue,
  type ErrorCode as EvaluationErrorCode,
  type Reason,
  type Result,
  type Ruleset,
  type Flag,
  type Cohort,
} from '@aviary/core';
