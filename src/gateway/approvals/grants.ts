/**
 * Remembered approvals. Scopes: `call` (this exact call — server, tool and args digest — used
 * once), `session` (this tool in this agent session), `tool` (this tool until a time), and
 * `always` (persisted to grants.json). The clock is a parameter.
 */
import { createHash, randomUUID } from 'node:crypto'
import fs from 'node:fs'
import { canonicalJson } from '../../shared/canonical-json'
import { writeFileAtomic } from '../../node/atomic-write'

/** A remembered approval. */
export interface Grant {
  id: string
  scope: 'call' | 'session' | 'tool' | 'always'
  server: string
  tool: string
  session?: string
  digest?: string
  /** Epoch ms after which the grant no longer applies. */
  until?: number
  createdAt: number
  /** Who allowed a call's retry late (a `call` grant from Activity or a late answer). */
  by?: string
}

/** Digest of a call's arguments, independent of key order. */
export function argsDigest(args: unknown): string {
  return createHash('sha256')
    .update(canonicalJson(args ?? {}))
    .digest('hex')
}

/** The grant table. `file` persists the `always` grants; `onChange` hears every add, use and revoke. */
export class Grants {
  private grants: Grant[] = []

  constructor(
    private readonly file?: string,
    private readonly onChange: () => void = () => undefined,
  ) {
    if (file) {
      try {
        const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as Grant[]
        this.grants = saved.filter((g) => g.scope === 'always' && typeof g.tool === 'string')
      } catch {
        // No file yet (or unreadable): start with no persisted grants; fail closed.
      }
    }
  }

  /** Adds a grant and returns it. */
  add(g: Omit<Grant, 'id' | 'createdAt'>, now: number): Grant {
    const grant: Grant = { ...g, id: randomUUID(), createdAt: now }
    this.grants.push(grant)
    if (grant.scope === 'always') this.persist()
    this.onChange()
    return grant
  }

  /**
   * The grant that covers this call, if any. A `call` grant is consumed (single use).
   */
  match(
    q: { server: string; tool: string; session: string; digest: string },
    now: number,
  ): Grant | undefined {
    this.grants = this.grants.filter((g) => g.until === undefined || g.until > now)
    const g = this.grants.find(
      (g) =>
        g.server === q.server &&
        g.tool === q.tool &&
        (g.scope === 'always' ||
          g.scope === 'tool' ||
          (g.scope === 'session' && g.session === q.session) ||
          (g.scope === 'call' && g.digest === q.digest)),
    )
    if (g?.scope === 'call') {
      this.grants = this.grants.filter((x) => x !== g)
      this.onChange()
    }
    return g
  }

  /** Drops the session-scoped grants of an ended session. */
  endSession(session: string): void {
    const before = this.grants.length
    this.grants = this.grants.filter((g) => !(g.scope === 'session' && g.session === session))
    if (this.grants.length < before) this.onChange()
  }

  /** The grants still in force at `now` (an expired one is dropped). */
  list(now: number = Date.now()): Grant[] {
    this.grants = this.grants.filter((g) => g.until === undefined || g.until > now)
    return [...this.grants]
  }

  /** Revokes a grant by id; returns whether one was removed. */
  revoke(id: string): boolean {
    const before = this.grants.length
    const was = this.grants.find((g) => g.id === id)
    this.grants = this.grants.filter((g) => g.id !== id)
    if (was?.scope === 'always') this.persist()
    if (was) this.onChange()
    return this.grants.length < before
  }

  private persist(): void {
    if (!this.file) return
    writeFileAtomic(
      this.file,
      JSON.stringify(
        this.grants.filter((g) => g.scope === 'always'),
        null,
        2,
      ),
    )
  }
}
