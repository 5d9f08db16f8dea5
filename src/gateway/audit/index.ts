/** The audit log: a hash-chained, append-only JSON Lines writer and its readers. */
export { AuditLog, DETAIL_MAX_CHARS, ID_MAX_CHARS } from './audit-log'
export type { AuditFs, AuditLogOptions, AuditTicket, WrittenAt } from './audit-log'
export {
  DEFAULT_QUERY_LIMIT,
  exportAudit,
  followAudit,
  queryAudit,
  readRecords,
  tailAudit,
  verifyAudit,
} from './reader'
export type { FollowOptions, VerifyResult } from './reader'
export { CANONICAL_KEYS, canonicalLine, sha256Hex, splitStoredLine, storedLine } from './canonical'
export { CSV_COLUMNS, csvCell } from './csv'
export {
  AUDIT_BAD_QUERY,
  AUDIT_OPEN_FAILED,
  AUDIT_WRITE_FAILED,
  AuditOpenError,
  AuditQueryError,
  AuditWriteError,
} from './errors'
export { auditFileName, listAuditFiles, parseAuditFileName } from './files'
export type { AuditFile } from './files'
export { capArgs, DEFAULT_ARGS_MAX_BYTES, REDACTED, secretKeyMatcher, truncateText } from './redact'
export { replayAudit } from './replay'
export type { ReplayScope } from './replay'
