import { describe, expect, it } from 'vitest'
import { CounterStore } from '../../../src/shared/policy/counters'
import type { Reservation } from '../../../src/shared/policy/types'

const cal = (key: string, amount = 1, windowStart = 0, windowEnd = 60_000): Reservation => ({
  kind: 'calendar',
  key,
  windowStart,
  windowEnd,
  amount,
})
const sl = (key: string, at: number, amount = 1, windowMs = 10_000): Reservation => ({
  kind: 'sliding',
  key,
  at,
  windowMs,
  amount,
})

describe('CounterStore', () => {
  it('counts reserved amounts at once, keeps them on commit and drops them on rollback', () => {
    const s = new CounterStore()
    const a = s.reserve([cal('k', 2), sl('z', 1_000)])
    const b = s.reserve([cal('k', 3), sl('z', 2_000)])
    expect(s.calendar('k', 0)).toBe(5)
    expect(s.sliding('z', 2_000, 10_000)).toBe(2)
    expect(s.commit(a)).toBe(true)
    expect(s.rollback(b)).toBe(true)
    expect(s.calendar('k', 0)).toBe(2)
    expect(s.sliding('z', 2_000, 10_000)).toBe(1)
  })

  it('settles a token only once and ignores unknown tokens', () => {
    const s = new CounterStore()
    const t = s.reserve([cal('k')])
    expect(s.commit(t)).toBe(true)
    expect(s.rollback(t)).toBe(false)
    expect(s.commit(999)).toBe(false)
    expect(s.calendar('k', 0)).toBe(1)
  })

  it('keeps calendar windows apart', () => {
    const s = new CounterStore()
    s.commit(s.reserve([cal('k', 1, 0, 60_000), cal('k', 4, 60_000, 120_000)]))
    expect(s.calendar('k', 0)).toBe(1)
    expect(s.calendar('k', 60_000)).toBe(4)
    expect(s.calendar('other', 0)).toBe(0)
  })

  it('counts sliding entries within (now - window, now]', () => {
    const s = new CounterStore()
    s.commit(s.reserve([sl('z', 1_000), sl('z', 5_000, 2)]))
    expect(s.sliding('z', 10_999, 10_000)).toBe(3)
    expect(s.sliding('z', 11_000, 10_000)).toBe(2) // the entry at 1 000 has just left
    expect(s.sliding('z', 500, 10_000)).toBe(0) // not yet
  })

  it('tells when a sliding counter frees up', () => {
    const s = new CounterStore()
    s.commit(s.reserve([sl('z', 1_000), sl('z', 3_000), sl('z', 6_000)]))
    expect(s.slidingFreeAt('z', 7_000, 10_000, 2)).toBe(11_000)
    expect(s.slidingFreeAt('z', 7_000, 10_000, 1)).toBe(13_000)
    expect(s.slidingFreeAt('z', 7_000, 10_000, 3)).toBeUndefined()
  })

  it('prunes ended windows and aged entries, and tolerates settling pruned reservations', () => {
    const s = new CounterStore()
    s.commit(
      s.reserve([
        cal('old', 1, 0, 60_000),
        cal('new', 1, 60_000, 120_000),
        sl('z', 1_000),
        sl('z', 2_000),
      ]),
    )
    // In flight: one part in the first minute, one in a long sliding window that outlives it.
    const late = s.reserve([cal('old', 1, 0, 60_000), sl('long', 2_000, 1, 100_000)])
    s.prune(11_500) // the sliding entry at 1 000 (10 s window) has aged out, the one at 2 000 has not
    expect(s.sliding('z', 5_000, 10_000)).toBe(1)
    expect(s.calendar('old', 0)).toBe(2)
    s.prune(60_000) // the first minute has ended
    expect(s.calendar('old', 0)).toBe(0)
    expect(s.calendar('new', 60_000)).toBe(1)
    expect(s.sliding('long', 60_000, 100_000)).toBe(1)
    expect(s.rollback(late)).toBe(true)
    expect(s.sliding('long', 60_000, 100_000)).toBe(0)
    expect(s.calendar('old', 0)).toBe(0)
  })

  it('drops tokens nobody settled once all they reserved has expired', () => {
    const s = new CounterStore()
    const t = s.reserve([cal('k', 1, 0, 60_000)])
    s.prune(60_000)
    expect(s.commit(t)).toBe(false)
  })
})
