/**
 * Property: for generated JSONC documents (nested objects, inline or one member per line, 2/4
 * spaces or tabs, LF or CRLF, trailing commas or none, line and block comments), a member edit
 * through src/clients/formats/json-edit (replace a value, insert a member after another, remove
 * one) gives a document that parses, in the document's own dialect, to the expected object, and
 * that still holds every comment except those that were part of the edited member. The same,
 * member by member, on the real client configs the adapter tests use.
 */
import fc from 'fast-check'
import { visit } from 'jsonc-parser'
import { describe, expect, it } from 'vitest'
import { removeMember, renderJson, setMember } from '../../../src/clients/formats/json-edit'
import {
  members,
  nodeValue,
  objectAt,
  parseJsonTree,
  type JsonDialect,
  type JsonNode,
} from '../../../src/clients/formats/jsonc'
import { CASES, fixture } from './helpers'

type Value = string | number | boolean | null | Arr | Obj
interface Arr {
  items: string[]
  multiline: boolean
  trailingComma: boolean
}
interface Member {
  key: string
  value: Value
  /** A `// …` comment after the member on its line (one member per line only). */
  trailing: boolean
  /** A `/* … *\/` comment before the member (inline objects), or a comment line above it. */
  leading: boolean
}
interface Obj {
  members: Member[]
  multiline: boolean
  trailingComma: boolean
}

const key = fc.stringMatching(/^[a-z]{1,5}$/)
const scalar: fc.Arbitrary<Value> = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.record({
    items: fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }),
    multiline: fc.boolean(),
    trailingComma: fc.boolean(),
  }),
)
const isObj = (v: Value): v is Obj => v !== null && typeof v === 'object' && 'members' in v
const isArr = (v: Value): v is Arr => v !== null && typeof v === 'object' && 'items' in v
const { obj } = fc.letrec<{ obj: Obj; value: Value }>((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, scalar, tie('obj')),
  obj: fc.record({
    members: fc
      .uniqueArray(
        fc.record({ key, value: tie('value'), trailing: fc.boolean(), leading: fc.boolean() }),
        { selector: (m) => m.key, maxLength: 4 },
      )
      .map((ms) => ms as Member[]),
    multiline: fc.boolean(),
    trailingComma: fc.boolean(),
  }),
}))

interface Layout {
  indent: string
  eol: string
}

/** The rendered text and, for each comment, the path of the member it belongs to. */
interface Rendered {
  text: string
  comments: { text: string; owner: string[] }[]
}

function render(root: Obj, layout: Layout): Rendered {
  const comments: Rendered['comments'] = []
  const comment = (style: 'line' | 'block', owner: string[]): string => {
    const id = `c${comments.length}`
    const text = style === 'line' ? `// ${id}` : `/* ${id} */`
    comments.push({ text, owner })
    return text
  }
  const value = (v: Value, path: string[], depth: number): string => {
    if (isObj(v)) return object(v, path, depth)
    if (!isArr(v)) return JSON.stringify(v)
    const items = v.items.map((i) => JSON.stringify(i))
    if (!v.multiline || items.length === 0) return `[${items.join(', ')}]`
    const pad = layout.indent.repeat(depth + 1)
    const tail = v.trailingComma ? ',' : ''
    return `[${layout.eol}${pad}${items.join(`,${layout.eol}${pad}`)}${tail}${layout.eol}${layout.indent.repeat(depth)}]`
  }
  const object = (o: Obj, path: string[], depth: number): string => {
    if (o.members.length === 0) return '{}'
    const comma = (i: number): string =>
      i < o.members.length - 1 || (o.trailingComma && o.multiline) ? ',' : ''
    if (!o.multiline) {
      const parts = o.members.map((m) => {
        const lead = m.leading ? `${comment('block', path)} ` : ''
        return `${lead}${JSON.stringify(m.key)}: ${value(m.value, [...path, m.key], depth)}`
      })
      return `{ ${parts.join(', ')} }`
    }
    const pad = layout.indent.repeat(depth + 1)
    const lines = o.members.map((m, i) => {
      const above = m.leading ? `${pad}${comment('line', path)}${layout.eol}` : ''
      const own = [...path, m.key]
      const v = value(m.value, own, depth + 1)
      const after = m.trailing ? ` ${comment('line', own)}` : ''
      return `${above}${pad}${JSON.stringify(m.key)}: ${v}${comma(i)}${after}`
    })
    return `{${layout.eol}${lines.join(layout.eol)}${layout.eol}${layout.indent.repeat(depth)}}`
  }
  return { text: object(root, [], 0), comments }
}

/** Every object path in the document with its members' keys. */
function objects(o: Obj, path: string[] = []): { path: string[]; keys: string[] }[] {
  return [
    { path, keys: o.members.map((m) => m.key) },
    ...o.members.flatMap((m) => (isObj(m.value) ? objects(m.value, [...path, m.key]) : [])),
  ]
}

function plain(o: Obj): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const m of o.members)
    out[m.key] = isObj(m.value) ? plain(m.value) : isArr(m.value) ? m.value.items : m.value
  return out
}

function usesTrailingCommas(o: Obj): boolean {
  return (
    (o.multiline && o.trailingComma && o.members.length > 0) ||
    o.members.some(
      (m) =>
        (isObj(m.value) && usesTrailingCommas(m.value)) ||
        (isArr(m.value) && m.value.multiline && m.value.trailingComma && m.value.items.length > 0),
    )
  )
}

type Edit =
  | { op: 'set'; value: string | string[] | Record<string, string> }
  | { op: 'remove' }
  | { op: 'insert'; value: string[]; after: number }

const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({
    op: fc.constant('set' as const),
    value: fc.oneof(
      fc.string({ maxLength: 8 }),
      fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }),
      fc.dictionary(key, fc.string({ maxLength: 6 }), { maxKeys: 3 }),
    ),
  }),
  fc.constant({ op: 'remove' as const }),
  fc.record({
    op: fc.constant('insert' as const),
    value: fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }),
    after: fc.nat(),
  }),
)

const layout = fc.record({
  indent: fc.constantFrom('  ', '    ', '\t'),
  eol: fc.constantFrom('\n', '\r\n'),
})

describe('JSON member edits keep the document and its comments', () => {
  it('set, insert and remove give the expected object and keep every other comment', () => {
    fc.assert(
      fc.property(obj, layout, edit, fc.nat(), fc.nat(), (doc, lay, e, pickObj, pickKey) => {
        const { text, comments } = render(doc, lay)
        const dialect: JsonDialect = usesTrailingCommas(doc) ? 'jsonc' : 'json-comments'
        const all = objects(doc)
        const target = all[pickObj % all.length] ?? { path: [], keys: [] }
        const expected = plain(doc)
        let parent = expected
        for (const k of target.path) parent = parent[k] as Record<string, unknown>

        let after: string
        let owner: string[] | undefined
        const render1 = (v: string | string[] | Record<string, string>) =>
          typeof v === 'string'
            ? () => JSON.stringify(v)
            : (like: Parameters<typeof renderJson>[3], t: string) => renderJson(t, v, lay.eol, like)
        if (e.op === 'insert' || target.keys.length === 0) {
          const value = e.op === 'insert' ? e.value : ['x']
          let k = 'new'
          while (target.keys.includes(k)) k += 'x'
          const anchor = target.keys[(e.op === 'insert' ? e.after : 0) % (target.keys.length || 1)]
          after = setMember(text, target.path, k, render1(value), anchor ? [anchor] : [], lay.eol)
          parent[k] = value
        } else {
          const k = target.keys[pickKey % target.keys.length] as string
          owner = [...target.path, k]
          if (e.op === 'remove') {
            after = removeMember(text, target.path, k)
            delete parent[k]
          } else {
            after = setMember(text, target.path, k, render1(e.value), [], lay.eol)
            parent[k] = e.value
          }
        }

        // The document parses as the client reads it, to the expected object.
        expect(nodeValue(parseJsonTree(after, dialect))).toEqual(expected)
        expect(objectAt(parseJsonTree(after, dialect), target.path)).toBeDefined()
        // Every comment that was not part of the edited member is still there.
        const owned = (c: { owner: string[] }): boolean =>
          owner !== undefined &&
          c.owner.length >= owner.length &&
          owner.every((k, i) => c.owner[i] === k)
        for (const c of comments) if (!owned(c)) expect(after).toContain(c.text)
        // Line endings and indentation stay the file's.
        if (lay.eol === '\r\n') expect(after.replace(/\r\n/g, '')).not.toContain('\n')
        const indentChar = lay.indent[0] ?? ' '
        for (const m of after.matchAll(/^[ \t]+/gm))
          expect(m[0].replaceAll(indentChar, '')).toBe('')
      }),
      { numRuns: 400 },
    )
  })
})

describe('JSON member edits on the real client configs (test/fixtures/clients)', () => {
  const jsonCases = CASES.filter((c) => c.adapter.format === 'json')
  it.each(jsonCases.map((c) => [c.fixture, c] as const))(
    '%s: removing or replacing any member keeps the rest and every other comment',
    (_, c) => {
      const text = fixture(c.fixture).toString('utf8')
      const eol = text.includes('\r\n') ? '\r\n' : '\n'
      const comments: { offset: number; text: string }[] = []
      visit(text.replace(/^\ufeff/, ' '), {
        onComment: (offset, length) =>
          comments.push({ offset, text: text.slice(offset, offset + length) }),
      })
      // The commented fixtures (VS Code, Gemini CLI, Zed) have line comments.
      expect(comments.length > 0).toBe(/^\s*\/\//m.test(text))
      const root = parseJsonTree(text, 'jsonc')
      const edits: { path: string[]; key: string; prop: JsonNode }[] = []
      const walk = (node: JsonNode, path: string[]): void => {
        for (const m of members(node)) {
          edits.push({ path, key: m.key, prop: m.prop })
          walk(m.value, [...path, m.key])
        }
      }
      walk(root, [])
      expect(edits.length).toBeGreaterThan(10)
      for (const { path, key, prop } of edits) {
        // A member owns the comments inside it and those after it on its last line.
        const lineEnd = text.indexOf('\n', prop.offset + prop.length)
        const ownedEnd = lineEnd < 0 ? text.length : lineEnd
        const others = comments.filter((k) => k.offset < prop.offset || k.offset >= ownedEnd)
        for (const op of ['remove', 'set'] as const) {
          const after =
            op === 'remove'
              ? removeMember(text, path, key)
              : setMember(text, path, key, (like, t) => renderJson(t, ['x'], eol, like), [], eol)
          const expected = nodeValue(root) as Record<string, unknown>
          let parent = expected
          for (const k of path) parent = parent[k] as Record<string, unknown>
          if (op === 'remove') delete parent[key]
          else parent[key] = ['x']
          const where = `${op} ${[...path, key].join('.')}`
          expect(c.adapter.parse(after, c.fixture), where).toEqual(expected)
          for (const k of others) expect(after, `${where} keeps ${k.text}`).toContain(k.text)
        }
      }
    },
  )
})
