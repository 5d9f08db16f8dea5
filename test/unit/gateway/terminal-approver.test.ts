import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { ApprovalCenter, type PendingApproval } from '../../../src/gateway/approvals/approvals'
import { TerminalApprover, parseReply, promptText } from '../../../src/cli/terminal-approver'
import { excerpt } from '../../../src/shared/text'
import { waitFor } from '../../helpers/harness'

const req = (over: Partial<PendingApproval> = {}): PendingApproval => ({
  id: '1',
  session: 's',
  client: 'claude',
  server: 'whatsapp',
  tool: 'logout',
  argsExcerpt: excerpt({ note: 'bye' }),
  argsDigest: 'd',
  requestedAt: 0,
  deadline: 45_000,
  ...over,
})

describe('terminal approvals', () => {
  it('maps replies; anything unknown denies', () => {
    expect(parseReply('y')).toBe('allow_once')
    expect(parseReply(' YES ')).toBe('allow_once')
    expect(parseReply('s')).toBe('allow_session')
    expect(parseReply('always')).toBe('allow_always')
    expect(parseReply('h')).toBe('allow_hour')
    expect(parseReply('hour')).toBe('allow_hour')
    expect(parseReply('')).toBe('deny')
    expect(parseReply('sure')).toBe('deny')
  })

  it('shows client, server, tool, the seconds left and escaped args', () => {
    const text = promptText(
      req({ client: 'evil\u001b[2J', argsExcerpt: excerpt({ x: 'a\u001b]0;pwned\u0007b\u202e' }) }),
      15_000,
    )
    expect(text).toContain('wants to run "logout" on "whatsapp"')
    expect(text).toContain('(30 s)')
    // The answers every approver offers, with the same labels, Deny first.
    expect(text).toContain(
      '[N] Deny  [y] Allow once  [s] Allow for session  [h] Allow for 1 hour  [a] Always  (30 s)',
    )
    for (const c of ['\u001b', '\u0007', '\u202e']) expect(text).not.toContain(c)
    expect(text).toContain('\\u001b')
  })

  it("a server's request to the client: what it asks, and Deny or Allow once only", () => {
    const text = promptText(
      req({
        tool: 'sampling/createMessage',
        serverRequest: 'sampling',
        argsExcerpt: excerpt({ systemPrompt: 'obey\u001b[2J', maxTokens: 5 }),
      }),
      15_000,
    )
    expect(text).toContain('"whatsapp" sends claude a sampling request (sampling/createMessage)')
    expect(text).toContain('what it asks: {"systemPrompt":"obey\\u001b[2J","maxTokens":5}')
    expect(text).toContain('[N] Deny  [y] Allow once  (30 s)')
    expect(text).not.toContain('[s]')
  })

  it('asks one prompt at a time and skips a withdrawn one', async () => {
    const input = new PassThrough()
    const output = new PassThrough()
    let shown = ''
    output.on('data', (c: Buffer) => (shown += c.toString()))
    const t = new TerminalApprover(input, output, () => 0)
    const first = t.ask(req({ tool: 'one' }), new AbortController().signal)
    const withdrawn = new AbortController()
    const second = t.ask(req({ tool: 'two' }), withdrawn.signal)
    const third = t.ask(req({ tool: 'three' }), new AbortController().signal)
    // One prompt at a time: "one" is shown, the others wait their turn.
    await waitFor(() => shown.includes('"one"'))
    expect(shown).not.toContain('"two"')
    withdrawn.abort()
    input.write('y\n')
    await expect(first).resolves.toBe('allow_once')
    await expect(second).resolves.toBeUndefined()
    // Prompts are shown in order, so once "three" is up, the withdrawn "two" was skipped.
    await waitFor(() => shown.includes('"three"'))
    expect(shown).not.toContain('"two"')
    input.write('n\n')
    await expect(third).resolves.toBe('deny')
  })
})

describe('terminal "always" asks to confirm, stating its scope', () => {
  /** The path `airlock serve` wires: the terminal approver added to the gateway's ApprovalCenter. */
  function wired() {
    const input = new PassThrough()
    const output = new PassThrough()
    let shown = ''
    output.on('data', (c: Buffer) => (shown += c.toString()))
    const center = new ApprovalCenter()
    center.addApprover(new TerminalApprover(input, output))
    const ask = () =>
      center.request(
        {
          session: 's',
          client: 'claude',
          server: 'whatsapp',
          tool: 'logout',
          argsExcerpt: '{}',
          argsDigest: 'd',
        },
        60_000,
        new AbortController().signal,
      )
    /** Waits until the output shows `text` (the prompt is written when readline asks). */
    const until = async (text: string): Promise<void> => {
      for (let i = 0; i < 500 && !shown.includes(text); i++)
        await new Promise((r) => setTimeout(r, 10))
      expect(shown).toContain(text)
    }
    return { input, ask, until, shown: () => shown }
  }

  it('"a" then "y": always, after the scope was stated', async () => {
    const t = wired()
    const outcome = t.ask()
    await t.until('Answer:')
    t.input.write('a\n')
    await t.until('[y] yes, always')
    expect(t.shown()).toContain(
      'Always allow "logout" on "whatsapp": any arguments, from every client, until you revoke it',
    )
    t.input.write('y\n')
    await expect(outcome).resolves.toEqual({ answer: 'allow_always', by: 'terminal' })
  })

  it('"h": allow for 1 hour, no confirmation', async () => {
    const t = wired()
    const outcome = t.ask()
    await t.until('Answer:')
    t.input.write('h\n')
    await expect(outcome).resolves.toEqual({ answer: 'allow_hour', by: 'terminal' })
  })

  it('"a" then anything but yes goes back to the question; it can then be answered otherwise', async () => {
    const t = wired()
    const outcome = t.ask()
    await t.until('Answer:')
    t.input.write('always\n')
    await t.until('[y] yes, always')
    t.input.write('\n')
    await t.until('(not always: answer again)')
    expect(t.shown().split('Answer:').length).toBe(3) // asked a second time
    t.input.write('y\n')
    await expect(outcome).resolves.toEqual({ answer: 'allow_once', by: 'terminal' })
  })

  it('a request withdrawn while the confirmation waits ends the prompt; the next request is asked', async () => {
    const input = new PassThrough()
    const output = new PassThrough()
    let shown = ''
    output.on('data', (c: Buffer) => (shown += c.toString()))
    const t = new TerminalApprover(input, output, () => 0)
    const ctl = new AbortController()
    const answer = t.ask(req(), ctl.signal)
    input.write('a\n')
    for (let i = 0; i < 500 && !shown.includes('[y] yes, always'); i++)
      await new Promise((r) => setTimeout(r, 10))
    ctl.abort()
    await expect(answer).resolves.toBeUndefined()
    expect(shown).toContain('(answered elsewhere, timed out or withdrawn)')
    const next = t.ask(req({ tool: 'next' }), new AbortController().signal)
    for (let i = 0; i < 500 && !shown.includes('"next"'); i++)
      await new Promise((r) => setTimeout(r, 10))
    input.write('n\n')
    await expect(next).resolves.toBe('deny')
  })
})
