/** The policy language: types, parser, engine, counters and helpers, in one import. */
export type * from './types'
export { PolicyError, formatIssue } from './errors'
export { parsePolicy, validatePolicy, formatPath } from './parse'
export type { PolicyValidation } from './parse'
export {
  decide,
  calendarWindow,
  rateLimitKey,
  stateKey,
  scopeOf,
  stateRef,
  findCounter,
  DEFAULT_APPROVAL_TIMEOUT_MS,
  GLOBAL_SCOPE,
  floorClass,
  floorGuards,
  floorReason,
} from './engine'
export type { DecideOptions } from './engine'
export { CounterStore } from './counters'
export { isHidden, filterToolsList } from './hide'
export {
  isGlob,
  compileGlob,
  globMatches,
  globSpecificity,
  findToolEntry,
  compileConditionRegex,
  ConditionRegexError,
  REGEX_INPUT_LIMIT,
} from './glob'
export type { ConditionRegex } from './glob'
export { exitCodeFor, describeDecision } from './eval-exit'
export { replayCalls, recordedVerdict, decisionVerdict } from './replay'
export type {
  ReplayChange,
  ReplayExample,
  ReplayOptions,
  ReplayReport,
  ToolReplay,
  Verdict,
} from './replay'
