/**
 * The file-system port of the client tools: reading a client's config file as bytes, its mode,
 * and an atomic same-mode write (temp file in the same directory, fsync, rename, following a
 * symlinked config to its target). Tests use the node implementation on temp directories.
 */
import fs from 'node:fs'
import path from 'node:path'
import type { DirLister } from './adapters/adapter'
import { ClientConfigError } from './errors'
import { writeFileAtomic } from '../node/atomic-write'

/** What the client tools do to files. */
export interface ClientFs extends DirLister {
  /** The file's bytes, or undefined when it does not exist. Throws ClientConfigError (UNREADABLE). */
  read(file: string): Buffer | undefined
  /** Mode bits and owner, or undefined when the file does not exist. */
  stat(file: string): { mode: number; uid: number; gid: number } | undefined
  /** Whether the current user may write the file (its mode has a write bit and access allows it). */
  writable(file: string): boolean
  /** Writes `data` to `file` atomically with `mode` (the target of a symlink is replaced, not the link). */
  writeAtomic(file: string, data: string | Buffer, mode: number): void
  /** Creates a directory (and parents) with `mode`. */
  mkdirp(dir: string, mode: number): void
}

/** The ClientFs over node:fs. */
export function nodeClientFs(): ClientFs {
  return {
    list(dir) {
      try {
        return fs.readdirSync(dir)
      } catch {
        return []
      }
    },
    read(file) {
      try {
        return fs.readFileSync(file)
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code
        if (code === 'ENOENT' || code === 'ENOTDIR') return undefined
        throw new ClientConfigError(
          `${file}: cannot read (${code ?? (err as Error).message}); check its permissions and run again`,
          'UNREADABLE',
          file,
          { cause: err },
        )
      }
    },
    stat(file) {
      try {
        const st = fs.statSync(file)
        return { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid }
      } catch {
        return undefined
      }
    },
    writable(file) {
      try {
        const st = fs.statSync(file)
        if ((st.mode & 0o222) === 0) return false
        fs.accessSync(file, fs.constants.W_OK)
        return true
      } catch {
        return false
      }
    },
    writeAtomic(file, data, mode) {
      let target = file
      try {
        target = fs.realpathSync(file)
      } catch {
        // a new file: write where it was named
      }
      const dir = path.dirname(target)
      let owner: fs.Stats | undefined
      try {
        owner = fs.statSync(target)
      } catch {
        owner = undefined
      }
      try {
        writeFileAtomic(target, data, {
          mode,
          beforeRename: (tmp) => {
            fs.chmodSync(tmp, mode)
            if (
              owner &&
              typeof process.getuid === 'function' &&
              process.getuid() === 0 &&
              (owner.uid !== 0 || owner.gid !== 0)
            ) {
              // Run with sudo: keep the file the user's.
              fs.chownSync(tmp, owner.uid, owner.gid)
            }
          },
        })
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message
        throw new ClientConfigError(
          `${file}: cannot write (${code}); check that you may write to ${dir}, then run again; the file is unchanged`,
          'UNWRITABLE',
          file,
          { cause: err },
        )
      }
    },
    mkdirp(dir, mode) {
      fs.mkdirSync(dir, { recursive: true, mode })
    },
  }
}
