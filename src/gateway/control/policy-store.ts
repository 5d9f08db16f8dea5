/**
 * Where saved policies live: inside the data directory (`<home>/policies/<server>.yaml|json`, or
 * a policy file already in the data directory). A server whose policy is a file elsewhere (a checkout's `examples/everything.yaml`) or inline in
 * config.json gets its own copy there on its first save: edits never write outside the data
 * directory. Every save is kept as a version under `<home>/policies/.history/<server>/` (the
 * newest {@link HISTORY_KEEP}), so that a person can see what changed and undo it.
 */
import fs from 'node:fs'
import path from 'node:path'

/** How many saved versions are kept per server. */
export const HISTORY_KEEP = 50

/** One saved version of a server's policy. */
export interface PolicyVersion {
  /** `<savedAt>-<n>`: opaque to callers, checked on every read. */
  id: string
  savedAt: number
  bytes: number
}

const VERSION_ID = /^(\d{1,15})-(\d{1,6})$/

/** Whether `file` is inside `dir` (after resolving both; no `..` escape). */
export function isInside(dir: string, file: string): boolean {
  const rel = path.relative(path.resolve(dir), path.resolve(file))
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel)
}

/** Files and folders of the data directory that are never a policy. */
const NOT_POLICIES = new Set([
  'config.json',
  'grants.json',
  'secrets.json',
  'audit',
  'logs',
  'tools',
  'node_modules',
])

/**
 * The file a save of `server`'s policy writes: the file it already uses when that is a policy
 * file inside the data directory `home` (a .yaml, .yml or .json that is not one of the gateway's
 * own files, and not a link out), else `<home>/policies/<server>.<ext>` (`.json` when the current
 * file is JSON).
 */
export function policyTarget(home: string, server: string, current?: string): string {
  if (current !== undefined && isInside(home, current) && !isLinkOut(home, current)) {
    const top = path.relative(path.resolve(home), path.resolve(current)).split(path.sep)[0] ?? ''
    if (/\.(ya?ml|json)$/i.test(current) && !NOT_POLICIES.has(top)) return current
  }
  const ext = current !== undefined && /\.json$/i.test(current) ? '.json' : '.yaml'
  return path.join(home, 'policies', `${server}${ext}`)
}

function isLinkOut(dir: string, file: string): boolean {
  try {
    return !isInside(fs.realpathSync(dir), fs.realpathSync(file))
  } catch {
    return false // not there yet: it will be created inside
  }
}

/** The saved versions of every server's policy. The clock is a parameter. */
export class PolicyHistory {
  private seq = 0

  constructor(
    private readonly dir: string,
    private readonly now: () => number = Date.now,
    private readonly keep = HISTORY_KEEP,
  ) {}

  private serverDir(server: string): string {
    // Server names are checked by the config schema ([A-Za-z0-9._-], not starting with a dot).
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(server))
      throw new Error(`"${server.slice(0, 64)}" is not a server name`)
    return path.join(this.dir, server)
  }

  /** The versions of `server`'s policy, newest first. */
  list(server: string): PolicyVersion[] {
    let names: string[]
    try {
      names = fs.readdirSync(this.serverDir(server))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw err
    }
    const out: PolicyVersion[] = []
    for (const name of names) {
      const m = VERSION_ID.exec(name)
      if (!m) continue
      let bytes = 0
      try {
        bytes = fs.statSync(path.join(this.serverDir(server), name)).size
      } catch {
        continue
      }
      out.push({ id: name, savedAt: Number(m[1]), bytes })
    }
    return out.sort((a, b) => b.savedAt - a.savedAt || seqOf(b.id) - seqOf(a.id))
  }

  /** The text of one version; throws when there is no such version. */
  read(server: string, id: string): string {
    if (!VERSION_ID.test(id)) throw new Error(`"${id.slice(0, 40)}" is not a policy version id`)
    try {
      return fs.readFileSync(path.join(this.serverDir(server), id), 'utf8')
    } catch (err) {
      throw new Error(
        `no saved version "${id}" of the policy of "${server}" (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); list them with policy.history`,
        { cause: err },
      )
    }
  }

  /** Keeps `text` as the newest version (not when it equals the newest already kept). */
  record(server: string, text: string): void {
    const dir = this.serverDir(server)
    const newest = this.list(server)[0]
    if (newest && this.read(server, newest.id) === text) return
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
    const id = `${this.now()}-${++this.seq}`
    const file = path.join(dir, id)
    const tmp = `${file}.${process.pid}.tmp`
    fs.writeFileSync(tmp, text, { mode: 0o600 })
    fs.renameSync(tmp, file)
    for (const old of this.list(server).slice(this.keep)) {
      try {
        fs.unlinkSync(path.join(dir, old.id))
      } catch {
        // Already gone: nothing to trim.
      }
    }
  }

  /** Forgets a removed server's versions. */
  forget(server: string): void {
    fs.rmSync(this.serverDir(server), { recursive: true, force: true })
  }
}

function seqOf(id: string): number {
  return Number(VERSION_ID.exec(id)?.[2] ?? 0)
}
