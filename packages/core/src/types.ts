import type { ParsedPattern } from './regex/compact.js';

/** One attribute value of an evaluation context. */
export type ContextValue = string | number | boolean;

/** The unit being evaluated: `key` identifies it (a user, a device, a tenant). */
export interface Context {
  key?: ContextValue;
  [attribute: string]: ContextValue | null | undefined;
}

export const Operators = [
  'in', 'notIn', 'contains', 'startsWith', 'endsWith', 'matches',
  'numEq', 'numGt', 'numGte', 'numLt', 'numLte',
  'before', 'after',
  'semverEq', 'semverGt', 'semverGte', 'semverLt', 'semverLte',
  'inCidr', 'exists',
] as const;
export type Operator = (typeof Operators)[number];

export interface Condition {
  attribute: string;
  operator: Operator;
  values?: ContextValue[];
  negate?: boolean;
  caseInsensitive?: boolean;
  /** `matches`, client keys only: `values[0]` as the server parsed it (docs/protocol.md "Parsed
   *  patterns"), which is what the browser SDK matches with. Ignored everywhere else. */
  parsed?: ParsedPattern;
}

export interface Variant {
  key: string;
  value?: unknown;
  weight?: number;
}

export interface SplitArm {
  variant: string;
  weight: number;
}

export interface Rollout {
  /** 0 to 100, at most three decimals. */
  percentage: number;
  /** Context attribute whose value is the bucketing unit; defaults to `key`. */
  bucketBy?: string;
  /** Defaults to the flag's salt. */
  salt?: string;
}

export interface Rule {
  id: string;
  conditions?: Condition[];
  cohorts?: string[];
  rollout?: Rollout;
  variant?: string;
  split?: SplitArm[];
}

export interface Prerequisite {
  flag: string;
  /** Whether the prerequisite must be on (default) or off. */
  enabled?: boolean;
  variants?: string[];
}

export interface Flag {
  key: string;
  version?: number;
  enabled: boolean;
  /** Defaults to the flag's key in `Ruleset.flags`. */
  salt?: string;
  variants?: Variant[];
  prerequisites?: Prerequisite[];
  rules?: Rule[];
}

export interface Cohort {
  key: string;
  included?: string[];
  excluded?: string[];
  conditions?: Condition[];
}

/** One environment's whole state, as the SDKs receive it. Treated as immutable once evaluated. */
export interface Ruleset {
  environment: string;
  revision: number;
  flags: Record<string, Flag>;
  cohorts: Record<string, Cohort>;
}

export const Reasons = {
  DISABLED: 'DISABLED',
  PREREQUISITE_FAILED: 'PREREQUISITE_FAILED',
  DEFAULT: 'DEFAULT',
  RULE_MATCH: 'RULE_MATCH',
  NO_MATCH: 'NO_MATCH',
  FLAG_NOT_FOUND: 'FLAG_NOT_FOUND',
  ERROR: 'ERROR',
} as const;
export type Reason = (typeof Reasons)[keyof typeof Reasons];

export const ErrorCodes = {
  /** The flag breaks the schema (wrong types, percentage outside 0–100, bad weights, unknown variant). */
  INVALID_FLAG: 'INVALID_FLAG',
  /** A cohort the flag refers to breaks the schema. */
  INVALID_COHORT: 'INVALID_COHORT',
  /** The ruleset or the context is not an object. */
  INVALID_INPUT: 'INVALID_INPUT',
  /** Anything else that went wrong inside evaluation. */
  GENERAL: 'GENERAL',
} as const;
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export interface Result {
  readonly enabled: boolean;
  readonly reason: Reason;
  readonly variant?: string;
  readonly value?: unknown;
  readonly ruleId?: string;
  readonly errorCode?: ErrorCode;
  /** For `ERROR` results: what is wrong, with the field path. */
  readonly errorMessage?: string;
}

export interface EvaluateOptions {
  /** Fixes the clock for `before`/`after` (epoch milliseconds or a Date). */
  now?: number | { getTime(): number };
}
