/**
 * The one constant-time comparison of secrets (tokens, handshake proofs). The given value is
 * hostile: anything that is not a string, or whose UTF-8 bytes differ in length, is simply unequal
 * (never an exception). Only the length can leak, and Airlock's secrets have a fixed length.
 */
import { timingSafeEqual } from 'node:crypto'

/** Whether `given` is the string `expected`, compared in constant time over their UTF-8 bytes. */
export function safeEqual(expected: string, given: unknown): boolean {
  if (typeof given !== 'string') return false
  const a = Buffer.from(expected, 'utf8')
  const b = Buffer.from(given, 'utf8')
  return a.length === b.length && timingSafeEqual(a, b)
}
