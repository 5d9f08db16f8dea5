/**
 * The answers a person gives a pending approval, in the words every approver uses: the window's
 * card, the native dialog and the terminal offer the same answers with the same labels, Deny
 * first (the default). The card also lets a person deny with a message for the agent, which a
 * native message box cannot (it has no text field). "Always" is a considered act: each approver asks to confirm it, stating
 * its scope in the words below.
 */

/** The answers every approver offers, in this order. */
export type StandardAnswer = 'deny' | 'allow_once' | 'allow_session' | 'allow_hour' | 'allow_always'

/** The label of each answer, in the order approvers show them. */
export const ANSWER_LABELS: readonly { answer: StandardAnswer; label: string }[] = [
  { answer: 'deny', label: 'Deny' },
  { answer: 'allow_once', label: 'Allow once' },
  { answer: 'allow_session', label: 'Allow for session' },
  { answer: 'allow_hour', label: 'Allow for 1 hour' },
  { answer: 'allow_always', label: 'Always' },
]

/**
 * The answers offered for a request: a request the server sends the client (sampling,
 * elicitation, roots) is allowed once or denied — no grant applies to it.
 */
export function answersFor(req: {
  serverRequest?: string
}): readonly { answer: StandardAnswer; label: string }[] {
  return req.serverRequest
    ? ANSWER_LABELS.filter((a) => a.answer === 'deny' || a.answer === 'allow_once')
    : ANSWER_LABELS
}

/**
 * What a pending request asks, in one sentence (names already made safe by the caller): a tool
 * call ("claude wants to run "logout" on "chat"") or a server's request to the client.
 */
export function approvalHeadline(req: {
  client: string
  server: string
  tool: string
  serverRequest?: string
}): string {
  return req.serverRequest
    ? `"${req.server}" sends ${req.client} a ${req.serverRequest} request (${req.tool})`
    : `${req.client} wants to run "${req.tool}" on "${req.server}"`
}

/** The label of `answer`. */
export function answerLabel(answer: StandardAnswer): string {
  return ANSWER_LABELS.find((a) => a.answer === answer)?.label ?? answer
}

/** What an "Always" grant covers, stated when it is confirmed. */
export const ALWAYS_SCOPE = 'any arguments, from every client, until you revoke it'

/** The confirmation question for "Always". Tool and server names must already be made safe. */
export function alwaysQuestion(tool: string, server: string): string {
  return `Always allow ${tool} on ${server}: ${ALWAYS_SCOPE} (Tools & policy)?`
}
