import type { Flag, Result, Rule } from '@aviary/core';

/** The five reasons the OFREP schema allows (it has no DEFAULT). */
export const OfrepReasons = {
  STATIC: 'STATIC',
  TARGETING_MATCH: 'TARGETING_MATCH',
  SPLIT: 'SPLIT',
  DISABLED: 'DISABLED',
  UNKNOWN: 'UNKNOWN',
} as const;
export type OfrepReason = (typeof OfrepReasons)[keyof typeof OfrepReasons];

/** OFREP's error codes: the four of `evaluationFailure` and the one of `flagNotFound`. */
export const OfrepErrorCodes = {
  PARSE_ERROR: 'PARSE_ERROR',
  TARGETING_KEY_MISSING: 'TARGETING_KEY_MISSING',
  INVALID_CONTEXT: 'INVALID_CONTEXT',
  GENERAL: 'GENERAL',
  FLAG_NOT_FOUND: 'FLAG_NOT_FOUND',
} as const;
export type OfrepErrorCode = (typeof OfrepErrorCodes)[keyof typeof OfrepErrorCodes];

/** OFREP metadata values are primitives only. */
export type OfrepMetadata = Record<string, string | number | boolean>;

/** `evaluationSuccess`; without `value` it is OFREP's code-default form (the caller's default applies). */
export interface OfrepSuccess {
  key: string;
  reason: OfrepReason;
  variant?: string;
  value?: unknown;
  metadata: OfrepMetadata;
}

/** `evaluationFailure` or `flagNotFound`. */
export interface OfrepFailure {
  key: string;
  errorCode: OfrepErrorCode;
  errorDetails?: string;
  metadata?: OfrepMetadata;
}

export type OfrepEvaluation = { status: 200; body: OfrepSuccess } | { status: 400 | 404; body: OfrepFailure };

/** Whether a weighted split over more than one live arm picked the result's variant. */
function chosenBySplit(flag: Flag, result: Result): boolean {
  if (result.variant === undefined) return false;
  let rule: Rule | undefined;
  if (result.ruleId !== undefined) {
    rule = flag.rules?.find((r) => r.id === result.ruleId);
    if (rule?.variant !== undefined) return false;
  }
  const weights = rule?.split?.map((arm) => arm.weight) ?? (flag.variants ?? []).map((v) => v.weight ?? 0);
  return weights.filter((weight) => weight > 0).length > 1;
}

function reasonOf(flag: Flag, result: Result): OfrepReason {
  switch (result.reason) {
    case 'DISABLED':
      return OfrepReasons.DISABLED;
    case 'RULE_MATCH':
      return chosenBySplit(flag, result) ? OfrepReasons.SPLIT : OfrepReasons.TARGETING_MATCH;
    case 'DEFAULT':
      return chosenBySplit(flag, result) ? OfrepReasons.SPLIT : OfrepReasons.STATIC;
    // Off for this context because of its rules or prerequisites: a targeting decision.
    case 'NO_MATCH':
    case 'PREREQUISITE_FAILED':
      return OfrepReasons.TARGETING_MATCH;
    default:
      return OfrepReasons.UNKNOWN;
  }
}

function errorCodeOf(result: Result): OfrepErrorCode {
  switch (result.errorCode) {
    case 'INVALID_FLAG':
    case 'INVALID_COHORT':
      return OfrepErrorCodes.PARSE_ERROR;
    case 'INVALID_INPUT':
      return OfrepErrorCodes.INVALID_CONTEXT;
    default:
      return OfrepErrorCodes.GENERAL;
  }
}

/**
 * One `@aviary/core` result in OFREP's terms (docs/ofrep.md "Mapping"): a flag without variants
 * answers true/false; an on result with a variant answers the variant's value (its key when it has
 * none); an off result of a flag with variants has no value, so the caller's default applies.
 * `metadata`: Aviary's own reason, the rule, the flag's version and (single evaluations) the revision.
 */
export function toOfrep(key: string, flag: Flag | undefined, result: Result, revision?: number): OfrepEvaluation {
  if (flag === undefined || result.reason === 'FLAG_NOT_FOUND') {
    return { status: 404, body: { key, errorCode: OfrepErrorCodes.FLAG_NOT_FOUND, errorDetails: `Flag '${key}' was not found` } };
  }
  // Bulk answers carry the revision once, at the top: per flag it would change every flag's entry.
  const metadata: OfrepMetadata = revision === undefined ? { aviaryReason: result.reason } : { revision, aviaryReason: result.reason };
  if (flag.version !== undefined) metadata.flagVersion = flag.version;
  if (result.reason === 'ERROR') {
    return { status: 400, body: { key, errorCode: errorCodeOf(result), errorDetails: result.errorMessage ?? 'evaluation failed', metadata } };
  }
  if (result.ruleId !== undefined) metadata.ruleId = result.ruleId;
  const body: OfrepSuccess = { key, reason: reasonOf(flag, result), metadata };
  if (result.enabled) {
    if (result.variant !== undefined) body.variant = result.variant;
    // OFREP's object type is a JSON object: an array value answers in code-default form.
    if (!Array.isArray(result.value)) body.value = result.value ?? result.variant ?? true;
  } else if (!flag.variants?.length) {
    body.value = false;
  }
  return { status: 200, body };
}
