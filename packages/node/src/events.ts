import type { SdkEvents } from '@aviary/core/protocol';
import type { AviaryError } from './errors/aviary-error.js';

export type { ChangeEvent, ConnectionStatus, KillEvent, ReadyEvent, StatusEvent } from '@aviary/core/protocol';

/** The client's events and their payloads: the same as `@aviary/browser`'s. */
export type AviaryEvents = SdkEvents<AviaryError>;
