/**
 * The agent socket handshake, shared by the gateway and the shim (node: builtins only, so the
 * shim stays dependency-free). Mutual challenge–response over a secret kept in a 0600 file:
 *   gateway → {"airlock":1,"challenge":G}
 *   peer    → {"airlock":1,"role":"agent"|"control","server":S,"proof":H("peer",G),"challenge":P}
 *   gateway → {"ok":true,"proof":H("gateway",P)}   or {"ok":false,"error":"…"} and close
 * then newline-delimited JSON-RPC (agent) or control messages (control).
 */
import { createHmac, randomBytes } from 'node:crypto'
import { safeEqual } from './safe-equal'
import fs from 'node:fs'
import path from 'node:path'

/** HMAC-SHA256 proof of the secret over a role tag and a challenge. */
export function proof(secret: Buffer, role: 'peer' | 'gateway', challenge: string): string {
  return createHmac('sha256', secret).update(`airlock/1 ${role} ${challenge}`).digest('hex')
}

/** Whether a hostile `got` is the expected proof (constant time). */
export function proofMatches(expected: string, got: unknown): boolean {
  return safeEqual(expected, got)
}

/** A fresh random challenge. */
export function newChallenge(): string {
  return randomBytes(16).toString('hex')
}

/** Reads the secret file; refuses one that other users can read. */
export function readSecret(file: string): Buffer {
  const st = fs.statSync(file)
  if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
    throw new Error(
      `${file} is readable by other users (mode ${(st.mode & 0o777).toString(8)}); run "chmod 600 ${file}"`,
    )
  }
  return Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'hex')
}

/** Reads the secret, creating it (0600, in a 0700 directory) when missing. */
export function ensureSecret(file: string): Buffer {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 })
  try {
    fs.writeFileSync(file, randomBytes(32).toString('hex') + '\n', { mode: 0o600, flag: 'wx' })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  }
  return readSecret(file)
}
