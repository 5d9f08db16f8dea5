/**
 * Hand-over: one gateway per data directory, and the desktop app wins. A headless gateway (one a
 * shim started, or `airlock serve`) that is asked over its control connection stops cleanly: its
 * sessions end, agents' shims answer their calls in flight with a retry hint and reconnect — now
 * to the app's gateway, which takes the data directory once the old one has let go of it.
 */
import fs from 'node:fs'
import { ControlClient } from '../../node/control-client'
import { HAND_OVER_METHOD } from '../../node/control-wire'
import { dataPaths } from '../../node/paths'

/** The Gateway event its host (`airlock serve`) stops on. */
export const HAND_OVER_EVENT = 'hand-over'

/** Who asks for the data directory. */
export interface HandOverRequest {
  /** Said in the old gateway's log, e.g. "the Airlock desktop app". */
  to: string
  pid: number
}

/** Parses a hand-over request from control params; throws naming what is wrong. */
export function parseHandOver(params: Record<string, unknown>): HandOverRequest {
  const { to, pid } = params
  if (typeof to !== 'string' || !to.trim() || !Number.isInteger(pid) || (pid as number) <= 0)
    throw new Error(`${HAND_OVER_METHOD} expects {to: string, pid: positive integer}`)
  return { to: to.slice(0, 64), pid: pid as number }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** The pid the data directory's lock names, if any. */
function lockHolder(home: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(dataPaths(home).pid, 'utf8').trim())
    return Number.isInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

/**
 * Asks the gateway running for `home` to hand over, then waits until it has let go of the data
 * directory (its lock removed or its process gone). Resolves with the old gateway's pid; rejects
 * with a message naming the step that failed.
 */
export async function takeOver(
  home: string,
  me: HandOverRequest,
  opts: { timeoutMs?: number } = {},
): Promise<number> {
  const timeoutMs = opts.timeoutMs ?? 10_000
  const client = await ControlClient.connect(home)
  let old: number
  try {
    old = (await client.handOver({ ...me })).pid
  } catch (err) {
    throw new Error(`the running gateway refused to hand over: ${(err as Error).message}`)
  } finally {
    client.close()
  }
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (!alive(old) || lockHolder(home) !== old) return old
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(
    `the running gateway (pid ${old}) agreed to hand over but still holds ${home} after ${Math.round(timeoutMs / 1000)} s; stop it ("kill ${old}") and Airlock starts its own`,
  )
}
