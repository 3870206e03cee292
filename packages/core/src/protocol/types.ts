import type { Cohort, Flag, Ruleset } from '../types.js';

/**
 * A `change` or `kill` event's data (docs/protocol.md): whole flags and cohorts to upsert, `null`
 * to remove one; since protocol 2, membership deltas of cohorts the client holds. Every map may be
 * absent. `revision` is the event's `id:` repeated.
 */
export interface RulesetPatch {
  revision?: number;
  flags?: Record<string, Flag | null>;
  cohorts?: Record<string, Cohort | null>;
  members?: Record<string, MembersPatch>;
}

/**
 * A change to one cohort's member lists (protocol 2): `include` keys end up in `included` only,
 * `exclude` keys in `excluded` only, `remove` keys in neither. A key is in at most one of them.
 */
export interface MembersPatch {
  include?: string[];
  exclude?: string[];
  remove?: string[];
}

/** One server-sent event as a client received it: its type (`undefined` for the default `message`), `id:` and `data:`. */
export interface StreamMessage {
  event?: string;
  id?: string;
  data: string;
}

/** What a client holds, as far as the protocol is concerned. Never mutated: every update makes a new one. */
export interface ProtocolState {
  /** The ruleset being served: the server's, or a bootstrap or stored one until the server's arrives. */
  readonly ruleset: Ruleset | undefined;
  /**
   * The revision the server has brought this client to. `undefined` until the server's first whole
   * ruleset, which is then taken whatever its revision (a patch before it means a reload).
   */
  readonly revision: number | undefined;
  /** A revision was missed: resume without `Last-Event-ID` and drop patches until a whole ruleset arrives. */
  readonly reload: boolean;
}

/** How a client currently gets its updates. */
export type ConnectionStatus = 'streaming' | 'polling' | 'offline';

/** The `ready` event: a ruleset is in place. */
export interface ReadyEvent {
  revision: number;
}

/** The `change` event: the served ruleset changed at `revision` (one event per revision). */
export interface ChangeEvent {
  revision: number;
  /** Flags added, changed or removed, sorted. */
  flags: string[];
  /** Cohorts added, changed or removed, sorted (flags that use them may answer differently too). */
  cohorts: string[];
}

/** The `kill` event: flags that were on are switched off at `revision`. Emitted before the `change` of the same update. */
export interface KillEvent {
  revision: number;
  /** Sorted. */
  flags: string[];
}

/** The `status` event: the connection status changed. */
export interface StatusEvent {
  status: ConnectionStatus;
  previous: ConnectionStatus;
}

/** The events both SDKs emit, with their payloads; `E` is the SDK's error class. */
export interface SdkEvents<E> {
  ready: ReadyEvent;
  change: ChangeEvent;
  kill: KillEvent;
  /** Something went wrong talking to the server; evaluation goes on with the last good ruleset. */
  error: E;
  status: StatusEvent;
}

/**
 * What an SDK's `error` event reports, as `error.code`. Distinct from `@aviary/core`'s `ErrorCodes`,
 * which say why one evaluation answered `ERROR`.
 */
export const SdkErrorCodes = {
  /** Options the client cannot work without are missing or malformed. */
  CONFIGURATION: 'CONFIGURATION',
  /** The server refused the key (401 unknown or missing, 403 a key of the wrong kind). */
  AUTHENTICATION: 'AUTHENTICATION',
  /** The server could not be reached, answered an unexpected status, or closed the stream. */
  CONNECTION: 'CONNECTION',
  /** The stream was silent past the heartbeat timeout and is reopened. */
  HEARTBEAT_TIMEOUT: 'HEARTBEAT_TIMEOUT',
  /** The server sent something that does not follow docs/protocol.md. */
  PROTOCOL: 'PROTOCOL',
} as const;
export type SdkErrorCode = (typeof SdkErrorCodes)[keyof typeof SdkErrorCodes];

/** What one update did to the ruleset. */
export interface RulesetDiff {
  /** Flags added, changed or removed, sorted. */
  flags: string[];
  /** Cohorts added, changed or removed, sorted. */
  cohorts: string[];
  /** Flags that were on and are now switched off (`enabled: false`), sorted. */
  killed: string[];
}

/** The outcome of applying a batch of messages to a state. */
export interface Applied {
  state: ProtocolState;
  /** To emit in this order: every kill of the batch, then one change per revision that changed anything. */
  events: (['kill', KillEvent] | ['change', ChangeEvent])[];
  /** Messages that break the protocol, each worth a `PROTOCOL` error (emit after `events`). */
  problems: string[];
  /** This batch showed a missed revision and no whole ruleset followed: reconnect now, without `Last-Event-ID`. */
  needsReload: boolean;
}
