/**
 * Tool pinning, the parts every layer shares: what a tool's pinned definition is, how two
 * definitions differ (per field, and line by line for a side-by-side view), and the words the
 * agent, the audit log and the UI use for a changed tool. Pure: no Node, no Electron.
 */

/** What is pinned of a tool: the fields a model reads (and a rug pull would change). */
export interface ToolDefinition {
  name: string
  description?: string
  inputSchema?: unknown
  annotations?: Record<string, unknown>
}

/** The setting `pinning`: refuse changed tools, ask a person, or do not pin at all. */
export type PinningMode = 'block' | 'approve' | 'off'

/** A tool's pin as the UI and the CLI show it. */
export interface PinView {
  name: string
  /** `changed`: the server lists a different definition; `new`: pinned on sight after the first list. */
  state: 'pinned' | 'changed' | 'new'
  pinnedAt: string
  hash: string
  pinned: ToolDefinition
  /** The definition the server lists now, when it differs from the pin. */
  current?: ToolDefinition
  seenAt?: string
}

/** One field of a definition that changed, as text (JSON pretty-printed for schemas). */
export interface FieldChange {
  field: 'description' | 'inputSchema' | 'annotations'
  old: string
  new: string
}

const FIELDS = ['description', 'inputSchema', 'annotations'] as const

/** The pinned definition of a listed tool, or undefined when the entry is not a tool. */
export function toolDefinition(t: unknown): ToolDefinition | undefined {
  if (typeof t !== 'object' || t === null || Array.isArray(t)) return undefined
  const o = t as Record<string, unknown>
  if (typeof o.name !== 'string' || o.name === '') return undefined
  const def: ToolDefinition = { name: o.name }
  if (typeof o.description === 'string') def.description = o.description
  if (o.inputSchema !== undefined) def.inputSchema = o.inputSchema
  if (typeof o.annotations === 'object' && o.annotations !== null && !Array.isArray(o.annotations))
    def.annotations = o.annotations as Record<string, unknown>
  return def
}

/** The text of one field, as a person reads it ('' when absent). */
export function fieldText(def: ToolDefinition, field: FieldChange['field']): string {
  const v = def[field]
  if (v === undefined) return ''
  return typeof v === 'string' ? v : JSON.stringify(v, null, 2)
}

/** The fields that differ between a pinned and a current definition. */
export function definitionChanges(pinned: ToolDefinition, current: ToolDefinition): FieldChange[] {
  const out: FieldChange[] = []
  for (const field of FIELDS) {
    const a = fieldText(pinned, field)
    const b = fieldText(current, field)
    if (a !== b) out.push({ field, old: a, new: b })
  }
  return out
}

/** The day a pin was made, as the refusal names it (`2026-12-04`). */
export function pinDate(pinnedAt: string): string {
  return pinnedAt.slice(0, 10)
}

/** What the agent reads when a call of a changed tool is refused (after the policy prefix). */
export function changedToolText(tool: string, pinnedAt: string): string {
  return `tool "${tool}" changed since it was pinned on ${pinDate(pinnedAt)}; review it in Airlock`
}

/** One row of a side-by-side view: the old line, the new line, and how they relate. */
export interface DiffRow {
  kind: 'same' | 'changed' | 'removed' | 'added'
  left: string
  right: string
}

/**
 * Aligns two texts line by line (longest common subsequence; a removed line next to an added
 * one is shown as changed), for the side-by-side diff of the CLI and the window. Inputs are
 * capped at 2 000 lines each, so a hostile definition cannot make this quadratic in memory.
 */
export function sideBySide(oldText: string, newText: string): DiffRow[] {
  const a = oldText === '' ? [] : oldText.split('\n').slice(0, 2000)
  const b = newText === '' ? [] : newText.split('\n').slice(0, 2000)
  const n = a.length
  const m = b.length
  // lcs[i][j]: the LCS length of a[i..] and b[j..].
  const lcs: Uint16Array[] = Array.from({ length: n + 1 }, () => new Uint16Array(m + 1))
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      lcs[i]![j] =
        a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!)
  const rows: DiffRow[] = []
  let i = 0
  let j = 0
  let removed: string[] = []
  let added: string[] = []
  const flush = (): void => {
    const k = Math.max(removed.length, added.length)
    for (let x = 0; x < k; x++) {
      const l = removed[x]
      const r = added[x]
      rows.push({
        kind:
          l !== undefined && r !== undefined ? 'changed' : l !== undefined ? 'removed' : 'added',
        left: l ?? '',
        right: r ?? '',
      })
    }
    removed = []
    added = []
  }
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      flush()
      rows.push({ kind: 'same', left: a[i]!, right: b[j]! })
      i++
      j++
    } else if (j >= m || (i < n && lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
      removed.push(a[i++]!)
    } else {
      added.push(b[j++]!)
    }
  }
  flush()
  return rows
}
