export { createClient } from './client.js';
export type { AviaryClient, AviaryEvents, ClientOptions, Logger } from './client.js';
export { AviaryError } from './errors/aviary-error.js';
export type { ChangeEvent, ConnectionStatus, KillEvent, ReadyEvent, SdkErrorCode, StatusEvent } from '@aviary/core/protocol';
export { Reasons } from '@aviary/core';
export type { Context, ContextValue, ErrorCode as EvaluationErrorCode, Reason, Result, Ruleset } from '@aviary/core';
