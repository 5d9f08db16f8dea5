/** Replay (pure): what was decided, read from call records; the draft's counters rebuilt in order. */
import { describe, expect, it } from 'vitest'
import type { AuditRecord } from '../../../src/shared/contract/audit-record'
import { parsePolicy } from '../../../src/shared/policy/parse'
import { recordedVerdict, replayCalls } from '../../../src/shared/policy/replay'

let seq = 0
function rec(fields: Partial<AuditRecord>): AuditRecord {
  seq++
  return {
    seq,
    ts: new Date(Date.UTC(2026, 0, 1, 10, 0, seq)).toISOString(),
    kind: 'call',
    callId: `c${seq}`,
    session: 's1',
    server: 'srv',
    tool: 'echo',
    decision: 'allow',
    decidedBy: 'policy',
    args: {},
    prev: '',
    hash: '',
    ...fields,
  }
}

describe('recordedVerdict', () => {
  it('maps every recorded decision to what the policy said, or leaves it out', () => {
    expect(recordedVerdict(rec({ decision: 'allow' }))).toBe('allow')
    expect(recordedVerdict(rec({ decision: 'approved', decidedBy: 'grant' }))).toBe(
      'require_approval',
    )
    expect(recordedVerdict(rec({ decision: 'denied_by_user', decidedBy: 'user' }))).toBe(
      'require_approval',
    )
    expect(recordedVerdict(rec({ decision: 'timeout', decidedBy: 'timeout' }))).toBe(
      'require_approval',
    )
    expect(
      recordedVerdict(
        rec({
          decision: 'deny',
          decidedBy: 'gateway',
          reason: 'rule "x" requires approval; no approver available',
        }),
      ),
    ).toBe('require_approval')
    expect(recordedVerdict(rec({ decision: 'deny', decidedBy: 'policy' }))).toBe('deny')
    expect(
      recordedVerdict(
        rec({
          decision: 'deny',
          decidedBy: 'gateway',
          reason: 'refused: malformed (x); not forwarded',
        }),
      ),
    ).toBeUndefined()
    expect(recordedVerdict(rec({ decision: 'paused', decidedBy: 'user' }))).toBeUndefined()
    expect(recordedVerdict(rec({ decision: 'hidden' }))).toBe('hidden')
    expect(
      recordedVerdict(
        rec({
          decision: 'approved',
          decidedBy: 'user',
          reason: 'pin mismatch: tool "echo" changed',
        }),
      ),
    ).toBeUndefined()
    expect(recordedVerdict(rec({ decision: 'rate_limited' }))).toBe('rate_limited')
    expect(
      recordedVerdict(rec({ kind: 'outcome', decision: undefined, outcome: 'ok' })),
    ).toBeUndefined()
  })
})

describe('replayCalls', () => {
  it("a draft's rate limit bites from the call that would have exceeded it; skipped records are counted", () => {
    const draft = parsePolicy(
      JSON.stringify({
        version: '1',
        tools: { echo: { rules: [{ name: 'two a minute', rate_limit: { max: 2, window: 60 } }] } },
      }),
      'd.json',
    )
    const records = [
      rec({}),
      rec({ kind: 'outcome', decision: undefined, outcome: 'ok' }),
      rec({}),
      rec({ decision: 'paused', decidedBy: 'user' }),
      rec({ client: 'cursor', args: { message: 'third' } }),
      rec({ session: 's2' }), // another session: its own sliding window
    ]
    const report = replayCalls(records, draft, { riskFloor: 'off' })
    expect(report).toMatchObject({ calls: 4, changed: 1, skipped: 1 })
    expect(report.tools).toEqual([
      {
        server: 'srv',
        tool: 'echo',
        calls: 4,
        unchanged: 3,
        changes: [
          {
            was: 'allow',
            wouldBe: 'rate_limited',
            count: 1,
            examples: [
              {
                seq: records[4]!.seq,
                ts: records[4]!.ts,
                client: 'cursor',
                args: '{"message":"third"}',
                reason: 'rate limit "two a minute" exceeded: 2 per 60s (retry in 56s)',
              },
            ],
          },
        ],
      },
    ])
  })
})
