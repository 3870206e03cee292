export { evaluate, evaluator, MAX_PREREQUISITE_DEPTH, type Evaluate } from './evaluate.js';
export { sourcePatterns, type PatternCompiler } from './conditions/compile.js';
export { parsePattern, parsedPatterns, withParsedFlag, withParsedPatterns, type ParsedPattern } from './regex/compact.js';
export { bucket } from './hash.js';
export { MemberSet, compactCohort, compactCohorts, COMPACT_FROM, isHeld, type HeldMembers } from './members.js';
export { validateFlag, validateCohort, validateConditions, patternProblem } from './validate.js';
export type { Issue, ValidateOptions } from './validate.js';
export { MAX_PATTERN_LENGTH, MAX_MATCHED_LENGTH } from './conditions/compile.js';
export { Operators, Reasons, ErrorCodes } from './types.js';
export type {
  Cohort,
  Condition,
  Context,
  ContextValue,
  ErrorCode,
  EvaluateOptions,
  Flag,
  Operator,
  Prerequisite,
  Reason,
  Result,
  Rollout,
  Rule,
  Ruleset,
  SplitArm,
  Variant,
} from './types.js';
