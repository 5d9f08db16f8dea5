/**
 * The tools each server listed last, kept in the data directory (`tools/<server>.json`), so the
 * risk floor knows a tool's class when a call arrives — also in a session that never listed
 * them, and after a restart. Fed by every tools/list response that passes a session. A tool's
 * class is never lower than its name alone says (the engine makes sure of that too).
 */
import fs from 'node:fs'
import path from 'node:path'
import { classifyTool, type ToolClass } from '../../shared/risk'
import { toListedTool, type ListedTool } from './tool-inspector'
import { writeFileAtomic } from '../../node/atomic-write'

/** At most this many tools are kept per server: a hostile server cannot fill the disk. */
const MAX_TOOLS = 5000

/** The last listed tools of each server, with their classes. */
export class ToolCatalog {
  private readonly servers = new Map<string, Map<string, { tool: ListedTool; cls: ToolClass }>>()

  /** `dir` holds one JSON file per server; `log` hears about files that cannot be written. */
  constructor(
    private readonly dir: string,
    private readonly log: (message: string) => void = () => undefined,
  ) {}

  /**
   * Records one page of a server's tools/list. The first page (`replace`) starts the list anew;
   * later pages add to it. Entries that are not tools are ignored.
   */
  record(server: string, tools: readonly unknown[], replace: boolean): void {
    const known = replace ? new Map() : this.load(server)
    for (const t of tools) {
      if (known.size >= MAX_TOOLS) break
      const tool = toListedTool(t)
      if (tool) known.set(tool.name, { tool, cls: classifyTool(tool) })
    }
    this.servers.set(server, known)
    this.save(server, known)
  }

  /** The class of `tool` as `server` listed it, or undefined when it was never listed. */
  classOf(server: string, tool: string): ToolClass | undefined {
    return this.load(server).get(tool)?.cls
  }

  /** Whether `server` has listed its tools at least once (in this run or an earlier one). */
  hasList(server: string): boolean {
    return this.load(server).size > 0
  }

  /** The tools `server` listed last. */
  tools(server: string): ListedTool[] {
    return [...this.load(server).values()].map((e) => e.tool)
  }

  /** Forgets a server (removed or renamed). */
  forget(server: string): void {
    this.servers.delete(server)
    fs.rmSync(this.file(server), { force: true })
  }

  private file(server: string): string {
    // Server names are restricted to [A-Za-z0-9._-] by the config schema.
    return path.join(this.dir, `${server}.json`)
  }

  private load(server: string): Map<string, { tool: ListedTool; cls: ToolClass }> {
    let known = this.servers.get(server)
    if (known) return known
    known = new Map()
    try {
      const data = JSON.parse(fs.readFileSync(this.file(server), 'utf8')) as unknown
      const list =
        typeof data === 'object' && data !== null ? (data as { tools?: unknown }).tools : undefined
      if (Array.isArray(list))
        for (const t of list.slice(0, MAX_TOOLS)) {
          const tool = toListedTool(t)
          if (tool) known.set(tool.name, { tool, cls: classifyTool(tool) })
        }
    } catch {
      // No list yet, or an unreadable one: the tools' names decide until the server lists them.
    }
    this.servers.set(server, known)
    return known
  }

  private save(server: string, known: Map<string, { tool: ListedTool }>): void {
    try {
      fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 })
      const file = this.file(server)
      const body = { server, tools: [...known.values()].map((e) => e.tool) }
      writeFileAtomic(file, JSON.stringify(body) + '\n')
    } catch (err) {
      this.log(`could not keep the tools of "${server}": ${(err as Error).message}`)
    }
  }
}
