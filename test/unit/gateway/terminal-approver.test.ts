import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import type { PendingApproval } from '../../../src/gateway/approvals/approvals'
import { TerminalApprover, parseReply, promptText } from '../../../src/cli/terminal-approver'
import { excerpt } from '../../../src/shared/text'

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
    for (const c of ['\u001b', '\u0007', '\u202e']) expect(text).not.toContain(c)
    expect(text).toContain('\\u001b')
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
    await new Promise((r) => setTimeout(r, 10))
    expect(shown).toContain('"one"')
    expect(shown).not.toContain('"two"')
    withdrawn.abort()
    input.write('y\n')
    await expect(first).resolves.toBe('allow_once')
    await expect(second).resolves.toBeUndefined()
    await new Promise((r) => setTimeout(r, 10))
    expect(shown).not.toContain('"two"')
    expect(shown).toContain('"three"')
    input.write('n\n')
    await expect(third).resolves.toBe('deny')
  })
})
