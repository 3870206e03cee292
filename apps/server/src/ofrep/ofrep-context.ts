import type { Context } from '@aviary/core';
import { OfrepErrorCodes, type OfrepErrorCode } from './ofrep-result.js';

/** Why a request cannot be evaluated, in OFREP's terms. */
export interface ContextProblem {
  errorCode: OfrepErrorCode;
  errorDetails: string;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The Aviary context of an OFREP request body `{ context: { targetingKey, ... } }`: `targetingKey`
 * becomes `key` (the schema requires it; send "" for an anonymous user), primitive attributes pass
 * through, nested objects and arrays are dropped (an Aviary condition compares primitives only),
 * as Aviary's own OpenFeature providers drop them.
 */
export function toContext(body: unknown): { context: Context } | { problem: ContextProblem } {
  if (!isObject(body)) return problem(OfrepErrorCodes.PARSE_ERROR, 'The request body must be an object { "context": { ... } }');
  if (!isObject(body.context)) return problem(OfrepErrorCodes.INVALID_CONTEXT, 'context must be an object');
  const { targetingKey, ...attributes } = body.context;
  if (targetingKey === undefined) return problem(OfrepErrorCodes.TARGETING_KEY_MISSING, 'context.targetingKey is missing');
  if (typeof targetingKey !== 'string') return problem(OfrepErrorCodes.INVALID_CONTEXT, 'context.targetingKey must be a string');
  const context: Context = {};
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') context[name] = value;
  }
  context.key = targetingKey;
  return { context };
}

const problem = (errorCode: OfrepErrorCode, errorDetails: string) => ({ problem: { errorCode, errorDetails } });
