/**
 * In-memory rate-limit and state counters. The engine reads them through `CounterView`; the
 * session reserves what a decision asks for, then commits (the call succeeded) or rolls back
 * (it failed), so a failed call does not use up quota. The clock is always passed in.
 *
 * Deciding and reserving must happen in the same synchronous turn, so no other decision can read
 * the counters in between.
 */
import type { CounterView, Reservation } from './types'

interface Bucket {
  committed: number
  reserved: number
  windowEnd: number
}

interface Entry {
  at: number
  amount: number
  windowMs: number
}

interface Pending {
  reservation: Reservation
  /** The sliding entry this reservation added (removed on rollback). */
  entry?: Entry
}

/** Counters kept in memory: calendar buckets per (key, window start) and sliding entries per key. */
export class CounterStore implements CounterView {
  private readonly buckets = new Map<string, Bucket>()
  private readonly entries = new Map<string, Entry[]>()
  private readonly pending = new Map<number, Pending[]>()
  private nextToken = 1

  /** Committed + reserved amount for a calendar window counter. */
  calendar(key: string, windowStart: number): number {
    const b = this.buckets.get(bucketKey(key, windowStart))
    return b ? b.committed + b.reserved : 0
  }

  /** Committed + reserved amount for a sliding counter within (now - windowMs, now]. */
  sliding(key: string, now: number, windowMs: number): number {
    let sum = 0
    for (const e of this.entries.get(key) ?? [])
      if (e.at > now - windowMs && e.at <= now) sum += e.amount
    return sum
  }

  /** The earliest time the sliding amount within the window drops to `limit` or below. */
  slidingFreeAt(key: string, now: number, windowMs: number, limit: number): number | undefined {
    const live = (this.entries.get(key) ?? [])
      .filter((e) => e.at > now - windowMs && e.at <= now)
      .sort((a, b) => a.at - b.at)
    let sum = live.reduce((s, e) => s + e.amount, 0)
    for (const e of live) {
      if (sum <= limit) break
      sum -= e.amount
      if (sum <= limit) return e.at + windowMs
    }
    return undefined
  }

  /** Reserves every increment of a decision at once; returns the token for `commit`/`rollback`. */
  reserve(reservations: readonly Reservation[]): number {
    const token = this.nextToken++
    const pending: Pending[] = []
    for (const r of reservations) {
      if (r.kind === 'calendar') {
        const k = bucketKey(r.key, r.windowStart)
        const b = this.buckets.get(k) ?? { committed: 0, reserved: 0, windowEnd: r.windowEnd }
        b.reserved += r.amount
        this.buckets.set(k, b)
        pending.push({ reservation: r })
      } else {
        const entry: Entry = { at: r.at, amount: r.amount, windowMs: r.windowMs }
        const list = this.entries.get(r.key) ?? []
        list.push(entry)
        this.entries.set(r.key, list)
        pending.push({ reservation: r, entry })
      }
    }
    this.pending.set(token, pending)
    return token
  }

  /** Makes a reservation permanent. Unknown or already settled tokens are ignored; returns whether it applied. */
  commit(token: number): boolean {
    const pending = this.pending.get(token)
    if (!pending) return false
    this.pending.delete(token)
    for (const { reservation: r } of pending) {
      if (r.kind !== 'calendar') continue // a sliding entry already counts; it simply stays
      const b = this.buckets.get(bucketKey(r.key, r.windowStart))
      if (!b) continue // pruned meanwhile: its window is over
      b.reserved -= r.amount
      b.committed += r.amount
    }
    return true
  }

  /** Gives a reservation back. Unknown or already settled tokens are ignored; returns whether it applied. */
  rollback(token: number): boolean {
    const pending = this.pending.get(token)
    if (!pending) return false
    this.pending.delete(token)
    for (const { reservation: r, entry } of pending) {
      if (r.kind === 'calendar') {
        const b = this.buckets.get(bucketKey(r.key, r.windowStart))
        if (b) b.reserved -= r.amount
      } else {
        const list = this.entries.get(r.key)
        const i = list && entry ? list.indexOf(entry) : -1
        if (list && i >= 0) list.splice(i, 1)
      }
    }
    return true
  }

  /** Forgets calendar windows that have ended and sliding entries older than their window. */
  prune(now: number): void {
    for (const [k, b] of this.buckets) if (b.windowEnd <= now) this.buckets.delete(k)
    for (const [key, list] of this.entries) {
      const kept = list.filter((e) => e.at + e.windowMs > now)
      if (kept.length === 0) this.entries.delete(key)
      else if (kept.length !== list.length) this.entries.set(key, kept)
    }
    // A token never settled (its session vanished) is dropped once nothing it reserved still counts.
    for (const [token, pending] of this.pending) {
      if (
        pending.every(
          ({ reservation: r }) => (r.kind === 'calendar' ? r.windowEnd : r.at + r.windowMs) <= now,
        )
      )
        this.pending.delete(token)
    }
  }
}

function bucketKey(key: string, windowStart: number): string {
  return `${key}@${windowStart}`
}
