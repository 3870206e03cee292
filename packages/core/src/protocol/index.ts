/**
 * `@aviary/core/protocol`: the SDK wire protocol of docs/protocol.md, written once for the server and
 * both SDKs. Pure functions over data: no I/O, no timers, no platform globals.
 */
export { applyMessages, initialState, isReset, parseRevision, resumeRevision, toRuleset } from './apply.js';
export { applyPatch, diffRulesets, patchCohort, patchRuleset, sameJson } from './patch.js';
export { SdkErrorCodes } from './types.js';
export type {
  Applied,
  ChangeEvent,
  ConnectionStatus,
  KillEvent,
  MembersPatch,
  ProtocolState,
  ReadyEvent,
  RulesetDiff,
  RulesetPatch,
  SdkErrorCode,
  SdkEvents,
  StatusEvent,
  StreamMessage,
} from './types.js';
