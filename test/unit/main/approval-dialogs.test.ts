import { describe, expect, it, vi } from 'vitest'
import {
  ApprovalDialogs,
  answerFor,
  ARGS_MAX_BYTES,
  clock,
  cutToBytes,
  dialogOptions,
  DIALOG_BUTTONS,
  type DialogOptions,
} from '../../../src/main/approval-dialogs'
import { ALWAYS_SCOPE, ANSWER_LABELS } from '../../../src/shared/approval-answers'
import { deferred, flush, request } from './fixtures'

/** A fake showMessageBox: records every dialog; each one is answered by the test. */
function fakeDialogs() {
  const shown: {
    options: DialogOptions
    signal: AbortSignal
    answer: (response: number) => void
    closed: boolean
  }[] = []
  const show = vi.fn((options: DialogOptions, signal: AbortSignal) => {
    const d = deferred<{ response: number }>()
    const entry = {
      options,
      signal,
      answer: (response: number) => d.resolve({ response }),
      closed: false,
    }
    // Electron resolves a message box closed by its signal with the cancel button.
    signal.addEventListener('abort', () => {
      entry.closed = true
      d.resolve({ response: options.cancelId })
    })
    shown.push(entry)
    return d.promise
  })
  const notes: { title: string; body: string }[] = []
  const dialogs = new ApprovalDialogs(
    show,
    (title, body) => notes.push({ title, body }),
    () => 1_000,
  )
  return { shown, show, dialogs, notes }
}

describe('dialog result → decision', () => {
  it('maps the buttons in order, in the card’s words', () => {
    expect(DIALOG_BUTTONS).toEqual(ANSWER_LABELS.map((a) => a.label))
    expect(DIALOG_BUTTONS).toEqual([
      'Deny',
      'Allow once',
      'Allow for session',
      'Allow for 1 hour',
      'Always',
    ])
    expect(answerFor(0)).toBe('deny')
    expect(answerFor(1)).toBe('allow_once')
    expect(answerFor(2)).toBe('allow_session')
    expect(answerFor(3)).toBe('allow_hour')
    expect(answerFor(4)).toBe('allow_always')
  })

  it("a server's request to the client: Deny and Allow once only, and says what the server asks", () => {
    const req = request({
      tool: 'sampling/createMessage',
      serverRequest: 'sampling',
      argsExcerpt: '{"systemPrompt":"obey\u001b[2J","maxTokens":5}',
    })
    const opts = dialogOptions(req, 1_000)
    expect(opts.buttons).toEqual(['Deny', 'Allow once'])
    expect(opts.message).toBe(
      'mail sends claude-desktop a sampling request (sampling/createMessage)',
    )
    expect(opts.detail).toContain('What the server asks:')
    expect(opts.detail).not.toContain('\u001b')
    expect(answerFor(0, req)).toBe('deny')
    expect(answerFor(1, req)).toBe('allow_once')
    expect(answerFor(2, req)).toBe('deny')
  })

  it('treats any other response as a deny', () => {
    expect(answerFor(-1)).toBe('deny')
    expect(answerFor(5)).toBe('deny')
    expect(answerFor(Number.NaN)).toBe('deny')
  })

  it('resolves ask() with the clicked button', async () => {
    const { shown, dialogs } = fakeDialogs()
    const answer = dialogs.ask(request(), new AbortController().signal)
    await flush()
    shown[0]!.answer(2)
    await expect(answer).resolves.toBe('allow_session')
  })
})

describe('"Always" is confirmed', () => {
  it('asks a second dialog stating the scope; "Yes, always allow" answers allow_always', async () => {
    const { shown, dialogs } = fakeDialogs()
    const answer = dialogs.ask(request(), new AbortController().signal)
    await flush()
    shown[0]!.answer(4)
    await flush()
    expect(shown).toHaveLength(2)
    const confirm = shown[1]!.options
    expect(confirm.message).toBe('Always allow send_email on mail?')
    expect(confirm.detail).toContain(ALWAYS_SCOPE)
    expect(confirm.buttons).toEqual(['Cancel', 'Yes, always allow'])
    expect(confirm.buttons[confirm.defaultId]).toBe('Cancel')
    expect(confirm.buttons[confirm.cancelId]).toBe('Cancel')
    shown[1]!.answer(1)
    await expect(answer).resolves.toBe('allow_always')
  })

  it('Cancel goes back to the question, which can still be denied', async () => {
    const { shown, dialogs } = fakeDialogs()
    const answer = dialogs.ask(request(), new AbortController().signal)
    await flush()
    shown[0]!.answer(4)
    await flush()
    shown[1]!.answer(0)
    await flush()
    expect(shown).toHaveLength(3)
    expect(shown[2]!.options.buttons).toEqual([...DIALOG_BUTTONS])
    shown[2]!.answer(0)
    await expect(answer).resolves.toBe('deny')
  })

  it('a request answered elsewhere closes the confirmation too, answering nothing', async () => {
    const { shown, dialogs } = fakeDialogs()
    const ac = new AbortController()
    const answer = dialogs.ask(request(), ac.signal)
    await flush()
    shown[0]!.answer(4)
    await flush()
    ac.abort()
    await expect(answer).resolves.toBeUndefined()
    expect(shown[1]!.closed).toBe(true)
    expect(shown).toHaveLength(2)
  })
})

describe('dialog contents', () => {
  it('says who wants to run what where, with the risk class and the rule; Deny is default and cancel', () => {
    const o = dialogOptions(request(), 1_000)
    expect(o.message).toBe('claude-desktop wants to run send_email on mail')
    expect(o.detail).toContain('Risk: critical')
    expect(o.detail).toContain('Rule: approve-sends')
    expect(o.detail).toContain('{"to":"a@example.com"}')
    expect(o.detail).toMatch(/Denied at \d\d:\d\d:\d\d without an answer \(in 45 s\)\./)
    expect(o.detail).toContain(`Denied at ${clock(request().deadline)} `)
    expect(o.buttons[o.defaultId]).toBe('Deny')
    expect(o.buttons[o.cancelId]).toBe('Deny')
    expect(o.type).toBe('warning')
  })

  it('escapes control characters and bidi overrides written by the agent', () => {
    const o = dialogOptions(
      request({
        tool: 'rm\u202eexe.txt',
        client: 'evil\u001b[31m',
        argsExcerpt: 'line1\nline2\u0007',
      }),
      1_000,
    )
    // eslint-disable-next-line no-control-regex
    expect(o.message).not.toMatch(/[\u0000-\u001f\u202e]/)
    expect(o.message).toContain('\\u202e')
    expect(o.message).toContain('\\u001b')
    const args = o.detail.split('Arguments:\n')[1]!.split('\n\nDenied at')[0]!
    expect(args).toBe('line1\\u000aline2\\u0007')
  })

  it('shows at most 1 KB of arguments, multi-byte characters included', () => {
    const o = dialogOptions(request({ argsExcerpt: '€'.repeat(5000) }), 1_000)
    const args = o.detail.split('Arguments:\n')[1]!.split('\n\nDenied at')[0]!
    expect(new TextEncoder().encode(args).length).toBeLessThanOrEqual(ARGS_MAX_BYTES)
    expect(args.endsWith('…')).toBe(true)
    expect(cutToBytes('abc', 10)).toBe('abc')
  })

  it('names a missing risk and rule plainly', () => {
    const o = dialogOptions(request({ risk: undefined, rule: undefined }), 1_000)
    expect(o.detail).toContain('Risk: unclassified')
    expect(o.detail).toContain('Rule: (policy default)')
  })
})

describe('queueing', () => {
  it('shows one dialog at a time; the second waits for the first', async () => {
    const { shown, dialogs } = fakeDialogs()
    const a = dialogs.ask(request({ id: 'a' }), new AbortController().signal)
    const b = dialogs.ask(request({ id: 'b', tool: 'delete_repo' }), new AbortController().signal)
    await flush()
    expect(shown).toHaveLength(1)
    expect(dialogs.size).toBe(2)
    shown[0]!.answer(1)
    await expect(a).resolves.toBe('allow_once')
    await flush()
    expect(shown).toHaveLength(2)
    expect(shown[1]!.options.message).toContain('delete_repo')
    shown[1]!.answer(0)
    await expect(b).resolves.toBe('deny')
    expect(dialogs.size).toBe(0)
  })

  it('moves on when a dialog cannot be shown', async () => {
    const notes: unknown[] = []
    let n = 0
    const dialogs = new ApprovalDialogs(
      () =>
        n++ === 0 ? Promise.reject(new Error('no display')) : Promise.resolve({ response: 1 }),
      () => notes.push(1),
    )
    const a = dialogs.ask(request({ id: 'a' }), new AbortController().signal)
    const b = dialogs.ask(request({ id: 'b' }), new AbortController().signal)
    await expect(a).resolves.toBeUndefined()
    await expect(b).resolves.toBe('allow_once')
  })
})

describe('abort', () => {
  it('closes the showing dialog and resolves undefined (not a deny)', async () => {
    const { shown, dialogs } = fakeDialogs()
    const ac = new AbortController()
    const answer = dialogs.ask(request(), ac.signal)
    await flush()
    ac.abort()
    await expect(answer).resolves.toBeUndefined()
    expect(shown[0]!.closed).toBe(true)
  })

  it('drops a queued request without ever showing it, then shows the next', async () => {
    const { shown, dialogs } = fakeDialogs()
    const first = dialogs.ask(request({ id: 'a' }), new AbortController().signal)
    const ac = new AbortController()
    const second = dialogs.ask(request({ id: 'b', tool: 'second' }), ac.signal)
    const third = dialogs.ask(request({ id: 'c', tool: 'third' }), new AbortController().signal)
    await flush()
    ac.abort()
    await expect(second).resolves.toBeUndefined()
    shown[0]!.answer(1)
    await first
    await flush()
    expect(shown.map((s) => s.options.message)).toEqual([
      expect.stringContaining('send_email'),
      expect.stringContaining('third'),
    ])
    shown[1]!.answer(0)
    await expect(third).resolves.toBe('deny')
  })

  it('does not show a request that is already withdrawn', async () => {
    const { show, dialogs } = fakeDialogs()
    const ac = new AbortController()
    ac.abort()
    await expect(dialogs.ask(request(), ac.signal)).resolves.toBeUndefined()
    expect(show).not.toHaveBeenCalled()
  })

  it('closeAll closes the dialog and empties the queue', async () => {
    const { shown, dialogs } = fakeDialogs()
    const a = dialogs.ask(request({ id: 'a' }), new AbortController().signal)
    const b = dialogs.ask(request({ id: 'b' }), new AbortController().signal)
    await flush()
    dialogs.closeAll()
    await expect(Promise.all([a, b])).resolves.toEqual([undefined, undefined])
    expect(shown).toHaveLength(1)
    expect(shown[0]!.closed).toBe(true)
  })
})

describe('first answer wins', () => {
  it('ignores a click that arrives after the request was answered in the window', async () => {
    const show = vi.fn()
    const late = deferred<{ response: number }>()
    // A platform that cannot close the box: the person clicks "Allow once" after the abort.
    show.mockImplementation(() => late.promise)
    const dialogs = new ApprovalDialogs(show, () => undefined)
    const ac = new AbortController()
    const answer = dialogs.ask(request(), ac.signal)
    await flush()
    ac.abort()
    late.resolve({ response: 1 })
    await expect(answer).resolves.toBeUndefined()
  })
})

describe('denial notification', () => {
  it('notifies when a shown request timed out', async () => {
    const { dialogs, notes } = fakeDialogs()
    const ac = new AbortController()
    const answer = dialogs.ask(request(), ac.signal)
    ac.abort()
    await answer
    dialogs.resolved('req-1', { answer: 'timeout', by: 'gateway' })
    expect(notes).toHaveLength(1)
    expect(notes[0]!.body).toContain('send_email on mail')
    expect(notes[0]!.body).toContain('nobody answered')
  })

  it('stays quiet for answers, cancellations and unknown requests', async () => {
    const { shown, dialogs, notes } = fakeDialogs()
    const answer = dialogs.ask(request(), new AbortController().signal)
    await flush()
    shown[0]!.answer(0)
    await answer
    dialogs.resolved('req-1', { answer: 'deny', by: 'dialog' })
    dialogs.resolved('req-1', { answer: 'timeout', by: 'gateway' }) // already forgotten
    dialogs.resolved('other', { answer: 'timeout', by: 'gateway' })
    dialogs.resolved('req-2', { answer: 'cancelled', by: 'gateway' })
    expect(notes).toHaveLength(0)
  })
})
