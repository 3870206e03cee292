export { createClient } from './client.js';
export type { AviaryClient, ClientEvents, ClientOptions, Logger, Status } from './client.js';
export { AviaryError } from './errors/aviary-error.js';
export type { ErrorCode } from './errors/aviary-error.js';
export { Reasons } from '@aviary/core';
export type { Context, ContextValue, Reason, Result, Ruleset } from '@aviary/core';
