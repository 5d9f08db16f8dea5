/**
 * Tool pins: the first definition of each tool a server lists (name, description, input schema,
 * annotations) is kept with its hash and date in `pins/<server>.json` (0600, written atomically).
 * A later list with a different definition does not move the pin: the new definition is kept
 * beside it as `current` until a person accepts it, and the call gate refuses (or asks about)
 * calls of that tool meanwhile. Tools first seen after a server's first list are pinned on sight
 * and flagged as new until accepted. Used by the gateway, and by the CLI when no gateway runs.
 */
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { canonicalJson } from '../../shared/canonical-json'
import { toolDefinition, type PinView, type ToolDefinition } from '../../shared/tool-pins'
import { writeFileAtomic } from '../../node/atomic-write'

/** At most this many tools are pinned per server: a hostile server cannot fill the disk. */
const MAX_TOOLS = 5000
/** A definition larger than this (canonical JSON) is pinned by its hash; its text is cut. */
const MAX_DEFINITION_BYTES = 256 * 1024

interface Seen {
  hash: string
  seenAt: string
  definition: ToolDefinition
}

interface Pin {
  hash: string
  pinnedAt: string
  definition: ToolDefinition
  /** Pinned on sight after the server's first list; cleared by accept. */
  new?: boolean
  /** The definition the server lists now, when it differs from the pin. */
  current?: Seen
}

/** What the pin of a tool says about a call of it. */
export type PinCheck =
  | { kind: 'ok' }
  | {
      kind: 'changed'
      pinnedAt: string
      pinned: ToolDefinition
      current: ToolDefinition
      /** The hash of the current definition (what an approval accepts). */
      hash: string
    }

/** Servers with tools to review, for the window's banner. */
export interface PinSummary {
  server: string
  changed: string[]
  added: string[]
}

/** Thrown by accept for a tool that has no pin. */
export class PinError extends Error {
  override name = 'PinError'
  readonly code = 'NO_PIN'
}

/** The hash of a definition (sha256 of its canonical JSON). */
export function definitionHash(def: ToolDefinition): string {
  return createHash('sha256').update(canonicalJson(def)).digest('hex')
}

/** Tool pins of every server, kept in one directory. */
export class PinStore {
  private readonly servers = new Map<string, Map<string, Pin>>()
  /** Whether a server already had pins when its current list started (its later tools are new). */
  private readonly listHadPins = new Map<string, boolean>()
  /** Servers whose pins file was damaged: everything they list again is flagged as new. */
  private readonly damaged = new Set<string>()

  constructor(
    private readonly dir: string,
    private readonly now: () => number = Date.now,
    private readonly log: (message: string) => void = () => undefined,
  ) {}

  /**
   * Sees one page of a server's tools/list (`first`: a list without a cursor). Unknown tools are
   * pinned; a tool whose definition differs from its pin keeps the pin and records the new one.
   * Returns true when what needs review changed (a tool changed, changed back, or is new).
   */
  observe(server: string, tools: readonly unknown[], first: boolean): boolean {
    const pins = this.load(server)
    if (first || !this.listHadPins.has(server))
      this.listHadPins.set(server, pins.size > 0 || this.damaged.has(server))
    const flagNew = this.listHadPins.get(server) === true
    const at = new Date(this.now()).toISOString()
    let write = false
    let review = false
    for (const t of tools) {
      const listed = toolDefinition(t)
      if (!listed) continue
      const def = capped(listed)
      const hash = definitionHash(listed)
      const pin = pins.get(def.name)
      if (!pin) {
        if (pins.size >= MAX_TOOLS) continue
        pins.set(def.name, {
          hash,
          pinnedAt: at,
          definition: def,
          ...(flagNew ? { new: true } : {}),
        })
        write = true
        if (flagNew) review = true
      } else if (pin.hash === hash) {
        if (pin.current) {
          delete pin.current
          write = review = true
        }
      } else if (pin.current?.hash !== hash) {
        pin.current = { hash, seenAt: at, definition: def }
        write = review = true
      }
    }
    if (write) this.save(server, pins)
    return review
  }

  /** Whether a call of `tool` may run as pinned, or the server lists a changed definition. */
  check(server: string, tool: string): PinCheck {
    const pin = this.load(server).get(tool)
    if (!pin?.current) return { kind: 'ok' }
    return {
      kind: 'changed',
      pinnedAt: pin.pinnedAt,
      pinned: pin.definition,
      current: pin.current.definition,
      hash: pin.current.hash,
    }
  }

  /** Every pin of a server, changed and new ones first, then by name. */
  view(server: string): PinView[] {
    const order = { changed: 0, new: 1, pinned: 2 }
    return [...this.load(server).entries()]
      .map(([name, p]): PinView => {
        const state = p.current ? 'changed' : p.new ? 'new' : 'pinned'
        return {
          name,
          state,
          pinnedAt: p.pinnedAt,
          hash: p.hash,
          pinned: p.definition,
          ...(p.current ? { current: p.current.definition, seenAt: p.current.seenAt } : {}),
        }
      })
      .sort((a, b) => order[a.state] - order[b.state] || a.name.localeCompare(b.name))
  }

  /** Servers (among `servers`) with changed or new tools. */
  summary(servers: readonly string[]): PinSummary[] {
    const out: PinSummary[] = []
    for (const server of servers) {
      const changed: string[] = []
      const added: string[] = []
      for (const [name, p] of this.load(server)) {
        if (p.current) changed.push(name)
        else if (p.new) added.push(name)
      }
      if (changed.length || added.length)
        out.push({ server, changed: changed.sort(), added: added.sort() })
    }
    return out
  }

  /**
   * Accepts the current definition of `tool` (every changed or new tool of the server when no
   * tool is named): it becomes the pin, dated now. `hash`, when given, must be the definition
   * the person saw (a definition that changed again since is not accepted). Returns the names
   * accepted; throws a {@link PinError} for a named tool that has no pin.
   */
  accept(server: string, tool?: string, hash?: string): string[] {
    const pins = this.load(server)
    const at = new Date(this.now()).toISOString()
    const names = tool === undefined ? [...pins.keys()] : [tool]
    const accepted: string[] = []
    for (const name of names) {
      const pin = pins.get(name)
      if (!pin) {
        const known = [...pins.keys()].slice(0, 20).join(', ')
        throw new PinError(
          `server "${server}" has no pinned tool "${name}"${known ? ` (its tools: ${known})` : ' (it has listed no tools yet)'}; see "airlock tools list ${server}"`,
        )
      }
      if (pin.current) {
        if (hash !== undefined && pin.current.hash !== hash) continue
        pins.set(name, { hash: pin.current.hash, pinnedAt: at, definition: pin.current.definition })
        accepted.push(name)
      } else if (pin.new) {
        delete pin.new
        accepted.push(name)
      }
    }
    if (accepted.length) this.save(server, pins)
    return accepted
  }

  /** Forgets a server's pins (removed or renamed). */
  forget(server: string): void {
    this.servers.delete(server)
    this.listHadPins.delete(server)
    this.damaged.delete(server)
    fs.rmSync(this.file(server), { force: true })
  }

  /** Moves a server's pins to its new name. */
  rename(from: string, to: string): void {
    if (from === to) return
    this.servers.delete(from)
    this.servers.delete(to)
    this.listHadPins.delete(from)
    this.listHadPins.delete(to)
    try {
      fs.renameSync(this.file(from), this.file(to))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        this.log(`could not move the tool pins of "${from}" to "${to}": ${(err as Error).message}`)
    }
  }

  private file(server: string): string {
    // Server names are restricted to [A-Za-z0-9._-] by the config schema.
    return path.join(this.dir, `${server}.json`)
  }

  private load(server: string): Map<string, Pin> {
    let pins = this.servers.get(server)
    if (pins) return pins
    pins = new Map()
    let text: string | undefined
    try {
      text = fs.readFileSync(this.file(server), 'utf8')
    } catch {
      // No pins yet: the server's first list pins its tools.
    }
    if (text !== undefined) {
      try {
        const data = JSON.parse(text) as unknown
        const list = isRecord(data) ? data.tools : undefined
        if (!Array.isArray(list)) throw new Error('expected {"tools": [...]}')
        for (const e of list.slice(0, MAX_TOOLS)) {
          const pin = toPin(e)
          if (pin) pins.set(pin.definition.name, pin)
        }
      } catch (err) {
        // Fail closed: a damaged file would otherwise re-pin whatever the server lists now.
        // Its tools are re-pinned as new (flagged for review), and the file is kept aside.
        this.log(
          `the tool pins of "${server}" (${this.file(server)}) could not be read (${(err as Error).message}); it was moved aside and the server's tools are pinned again as new`,
        )
        try {
          fs.renameSync(this.file(server), `${this.file(server)}.damaged-${Date.now()}`)
        } catch {
          // Nothing more to do: the next save replaces it.
        }
        this.damaged.add(server)
      }
    }
    this.servers.set(server, pins)
    return pins
  }

  private save(server: string, pins: Map<string, Pin>): void {
    try {
      fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 })
      const tools = [...pins.entries()].map(([name, p]) => ({ name, ...p }))
      writeFileAtomic(this.file(server), JSON.stringify({ server, tools }, null, 1) + '\n')
    } catch (err) {
      this.log(`could not keep the tool pins of "${server}": ${(err as Error).message}`)
    }
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function toPin(e: unknown): Pin | undefined {
  if (!isRecord(e) || typeof e.hash !== 'string' || typeof e.pinnedAt !== 'string') return
  const definition = toolDefinition(e.definition)
  if (!definition) return
  const pin: Pin = { hash: e.hash, pinnedAt: e.pinnedAt, definition }
  if (e.new === true) pin.new = true
  if (isRecord(e.current) && typeof e.current.hash === 'string') {
    const def = toolDefinition(e.current.definition)
    if (def)
      pin.current = {
        hash: e.current.hash,
        seenAt: typeof e.current.seenAt === 'string' ? e.current.seenAt : e.pinnedAt,
        definition: def,
      }
  }
  return pin
}

/** A definition as stored: one over the size cap keeps its name and the start of its text. */
function capped(def: ToolDefinition): ToolDefinition {
  if (canonicalJson(def).length <= MAX_DEFINITION_BYTES) return def
  return {
    name: def.name,
    description: `${(def.description ?? '').slice(0, 4096)} […definition over ${MAX_DEFINITION_BYTES / 1024} KB, cut; its hash covers all of it]`,
  }
}
