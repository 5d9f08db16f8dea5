import { describe, expect, it } from 'vitest'
import type { CallRow } from '../../../src/shared/contract/control-api'
import { applyLive, matchesFilter, mergeRow } from '../../../src/renderer/src/call-log'

const row = (seq: number, extra: Partial<CallRow> = {}): CallRow => ({
  seq,
  ts: new Date(1_700_000_000_000 + seq * 1000).toISOString(),
  callId: `c${seq}`,
  session: 's',
  client: 'agent',
  server: 'fs',
  tool: 'read',
  decision: 'allow',
  ...extra,
})

describe('call-log', () => {
  it('puts new calls on top and updates a listed call in place when its outcome arrives', () => {
    const rows = [row(3), row(2), row(1)]
    const next = applyLive(
      rows,
      [row(4), { ...row(2), seq: 99, outcome: 'ok', latencyMs: 12, args: undefined }],
      {},
    )
    expect(next.map((r) => r.callId)).toEqual(['c4', 'c3', 'c2', 'c1'])
    expect(next[2]).toMatchObject({ seq: 2, outcome: 'ok', latencyMs: 12 })
    expect(rows[1]!.outcome).toBeUndefined() // not mutated
  })

  it('returns the same array when nothing changes, and drops rows outside the filter', () => {
    const rows = [row(1)]
    expect(applyLive(rows, [], {})).toBe(rows)
    expect(applyLive(rows, [row(2, { server: 'other' })], { server: 'fs' })).toBe(rows)
  })

  it('merges a call and its outcome arriving in one batch', () => {
    const next = applyLive(
      [],
      [row(5, { args: { a: 1 } }), { ...row(5), seq: 6, outcome: 'is_error' }],
      {},
    )
    expect(next).toHaveLength(1)
    expect(next[0]).toMatchObject({ seq: 5, outcome: 'is_error', args: { a: 1 } })
  })

  it('matches filters like the audit query', () => {
    const r = row(1, { args: { path: '/etc/passwd' }, reason: 'Nope' })
    expect(matchesFilter(r, { text: 'PASSWD' })).toBe(true)
    expect(matchesFilter(r, { text: 'nope' })).toBe(true)
    expect(matchesFilter(r, { text: 'zzz' })).toBe(false)
    expect(matchesFilter(r, { tool: 'rea' })).toBe(false)
    expect(matchesFilter(r, { decision: 'deny' })).toBe(false)
    expect(matchesFilter(r, { since: r.ts, until: Date.parse(r.ts) })).toBe(true)
    expect(matchesFilter(r, { since: Date.parse(r.ts) + 1 })).toBe(false)
  })

  it('keeps the listed seq and time on merge', () => {
    expect(
      mergeRow(row(1), { ...row(1), seq: 7, ts: 'later', decision: 'approved' }),
    ).toMatchObject({ seq: 1, decision: 'approved' })
  })
})
