/**
 * The one atomic file write: a temp file beside the target (created exclusively, mode 0600 unless
 * told), written, fsynced, closed, then renamed over the target, and the directory fsynced so the
 * rename survives a crash. A reader sees the old file or the new one, never half of one; on any
 * failure the temp file is removed and the target is unchanged.
 */
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

/** What goes into the file: its text or bytes, or a producer that writes it in chunks. */
export type AtomicContent =
  string | Uint8Array | ((write: (chunk: string | Uint8Array) => void) => void)

/** Options of `writeFileAtomic`. */
export interface AtomicWriteOptions {
  /** The new file's mode (default 0600: most of what Airlock writes holds secrets or arguments). */
  mode?: number
  /** Called with the temp file's path after it is written and synced, before the rename (chown, chmod). */
  beforeRename?: (tmp: string) => void
}

/**
 * Writes `content` to `file` atomically (see the file header). Throws the file system's error
 * (with its `code`) when the temp file cannot be created, written or renamed.
 */
export function writeFileAtomic(
  file: string,
  content: AtomicContent,
  options: AtomicWriteOptions = {},
): void {
  const dir = path.dirname(file)
  const tmp = path.join(
    dir,
    `.${path.basename(file)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`,
  )
  const fd = fs.openSync(tmp, 'wx', options.mode ?? 0o600)
  try {
    try {
      const write = (chunk: string | Uint8Array): void => {
        const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk
        let off = 0
        while (off < buf.length) off += fs.writeSync(fd, buf, off, buf.length - off)
      }
      if (typeof content === 'function') content(write)
      else write(content)
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
    options.beforeRename?.(tmp)
    fs.renameSync(tmp, file)
  } catch (err) {
    fs.rmSync(tmp, { force: true })
    throw err
  }
  syncDir(dir)
}

/** fsyncs a directory so that a rename in it is durable; a no-op where that is not possible (Windows). */
function syncDir(dir: string): void {
  if (process.platform === 'win32') return
  let fd: number | undefined
  try {
    fd = fs.openSync(dir, 'r')
    fs.fsyncSync(fd)
  } catch {
    // Some file systems refuse fsync on a directory; the file itself is synced.
  } finally {
    if (fd !== undefined) fs.closeSync(fd)
  }
}
