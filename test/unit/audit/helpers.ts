/** Shared helpers of the audit tests: temp dirs, inputs, a clock and a fault-injecting fs. */
import * as fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { AuditInput } from '../../../src/shared/contract/audit-record'
import type { AuditFs } from '../../../src/gateway/audit'

/** A fresh temp directory and its cleanup. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-audit-'))
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) }
}

/** A call record input; `i` varies the call id. */
export function input(i: number, extra: Partial<AuditInput> = {}): AuditInput {
  return {
    kind: 'call',
    callId: `c${i}`,
    session: 's1',
    client: 'claude-desktop',
    server: 'files',
    tool: 'read_file',
    args: { path: `/tmp/f${i}.txt` },
    decision: 'allow',
    decidedBy: 'policy',
    ...extra,
  }
}

/** A settable clock. */
export function clock(iso: string): {
  now: () => number
  set: (iso: string) => void
  add: (ms: number) => void
} {
  let t = Date.parse(iso)
  return {
    now: () => t,
    set: (next) => {
      t = Date.parse(next)
    },
    add: (ms) => {
      t += ms
    },
  }
}

/** An errno error like node's. */
export function errno(code: string, message: string, syscall = 'write'): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`${code}: ${message}, ${syscall}`)
  err.code = code
  err.syscall = syscall
  return err
}

/** Call counts of a {@link countingFs}. */
export interface FsCounts {
  writeSync: number
  fdatasyncSync: number
  fdatasync: number
  closeSync: number
}

/** node:fs with call counters and overridable methods, for fault injection. */
export function countingFs(overrides: Partial<AuditFs> = {}): { fs: AuditFs; counts: FsCounts } {
  const counts: FsCounts = { writeSync: 0, fdatasyncSync: 0, fdatasync: 0, closeSync: 0 }
  const real: AuditFs = fs
  const wrapped: AuditFs = {
    openSync: (p, f, m) => real.openSync(p, f, m),
    closeSync: (fd) => {
      counts.closeSync++
      real.closeSync(fd)
    },
    writeSync: (fd, b, o, l) => {
      counts.writeSync++
      return real.writeSync(fd, b, o, l)
    },
    readSync: (fd, b, o, l, p) => real.readSync(fd, b, o, l, p),
    fstatSync: (fd) => real.fstatSync(fd),
    ftruncateSync: (fd, len) => real.ftruncateSync(fd, len),
    fdatasyncSync: (fd) => {
      counts.fdatasyncSync++
      real.fdatasyncSync(fd)
    },
    fdatasync: (fd, cb) => {
      counts.fdatasync++
      real.fdatasync(fd, cb)
    },
    fsyncSync: (fd) => real.fsyncSync(fd),
    mkdirSync: (p, o) => real.mkdirSync(p, o),
    chmodSync: (p, m) => real.chmodSync(p, m),
    readdirSync: (p) => real.readdirSync(p),
    unlinkSync: (p) => real.unlinkSync(p),
  }
  const merged: AuditFs = { ...wrapped }
  for (const [k, v] of Object.entries(overrides)) {
    if (v !== undefined) Object.assign(merged, { [k]: v })
  }
  return { fs: merged, counts }
}

/** The lines of a file (without the final empty string). */
export function lines(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8')
  const parts = text.split('\n')
  if (parts.at(-1) === '') parts.pop()
  return parts
}
