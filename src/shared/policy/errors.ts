/**
 * The policy error. Its message names the file, the path inside it and what was expected there,
 * e.g. `policy.yaml: tools.send_email.rules[0].rate_limit: expected "N/minute|hour|day" or {max, window}`.
 */
import type { PolicyIssue } from './types'

/** Formats an issue message: `<file>: <path>: expected <what>` (no path part for the whole file). */
export function formatIssue(file: string, path: string, expected: string): string {
  return path === '' ? `${file}: expected ${expected}` : `${file}: ${path}: expected ${expected}`
}

/** An invalid policy. `issues` lists every problem found; the message is the first one's. */
export class PolicyError extends Error {
  override readonly name = 'PolicyError'
  readonly code = 'POLICY_INVALID'
  readonly file: string
  readonly path: string
  readonly expected: string
  readonly line?: number
  readonly column?: number
  readonly issues: PolicyIssue[]

  constructor(issues: [PolicyIssue, ...PolicyIssue[]], options?: { cause?: unknown }) {
    const [first] = issues
    super(first.message, options)
    this.file = first.file
    this.path = first.path
    this.expected = first.expected
    this.line = first.line
    this.column = first.column
    this.issues = issues
  }
}
