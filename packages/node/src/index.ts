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
export { type RulesetPatch } from './ruleset.js';
export {
  AuthenticationError,
  AviaryError,
  AviaryErrorCodes,
  ConfigurationError,
  ConnectionError,
  HeartbeatTimeoutError,
  ProtocolError,
  type AviaryErrorCode,
} from './errors/index.js';
export {
  Reasons,
  ErrorCodes,
  type Context,
  type ContextValue,
  type ErrorCode,
  type Reason,
  type Result,
  type Ruleset,
  type Flag,
  type Cohort,
} from '@aviary/core';
