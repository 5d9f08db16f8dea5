/**
 * The format pieces under the adapters: the JSON(C) parser and its ranges, member edits that
 * keep commas and comments right, the TOML locator, the unified diff, and shim detection.
 */
import { describe, expect, it } from 'vitest'
import { unifiedDiff } from '../../../src/clients/formats/diff'
import { removeMember, renderJson, setMember } from '../../../src/clients/formats/json-edit'
import {
  isStrictJson,
  JsonSyntaxError,
  members,
  nodeValue,
  parseJsonTree,
  type JsonDialect,
} from '../../../src/clients/formats/jsonc'
import { placeholders, shimServer } from '../../../src/clients/shim-command'
import { scanToml } from '../../../src/clients/formats/toml-scan'

describe('JSON(C) parser', () => {
  it('gives the same value as JSON.parse, with ranges', () => {
    const text =
      '\ufeff{"a": [1, -2.5e3, true, null, "x\\u00e9\\n"], "b": {"__proto__": 1}, "a": 2}'
    const tree = parseJsonTree(text, 'json')
    const value = nodeValue(tree)
    expect(value).toEqual(JSON.parse(text.slice(1)))
    expect(Object.keys(value as object)).toEqual(['a', 'b'])
    expect(Object.getPrototypeOf((value as { b: object }).b)).toBe(Object.prototype)
    const b = members(tree)[1]?.value
    expect(text.slice(b?.offset, (b?.offset ?? 0) + (b?.length ?? 0))).toBe('{"__proto__": 1}')
  })

  it('refuses nesting deeper than the parser can recurse, with a message', () => {
    const deep = '['.repeat(100_000)
    expect(() => parseJsonTree(deep, 'jsonc')).toThrow('nested too deeply')
    expect(() => parseJsonTree(`${'['.repeat(400)}${']'.repeat(400)}`, 'json')).not.toThrow()
  })

  it.each<[JsonDialect, string, boolean]>([
    ['json', '{"a": 1 // c\n}', false],
    ['json-comments', '{"a": 1 // c\n}', true],
    ['json-comments', '{"a": 1,}', false],
    ['jsonc', '{"a": [1, 2,], /* x */ "b": 2,}', true],
    ['jsonc', '{"a": 1,,}', false],
    ['jsonc', "{'a': 1}", false],
    ['jsonc', '{"a": "tab\there"}', false],
    ['jsonc', '', false],
    ['jsonc', '{"a": 1} x', false],
    ['json', '\ufeff{"a": 1}', true],
  ])('%s accepts %j: %s', (dialect, text, ok) => {
    if (ok) expect(() => parseJsonTree(text, dialect)).not.toThrow()
    else expect(() => parseJsonTree(text, dialect)).toThrow(JsonSyntaxError)
  })

  it('reports the offset of the error', () => {
    try {
      parseJsonTree('{\n  "a": 1\n  "b": 2\n}', 'json')
      expect.unreachable()
    } catch (err) {
      expect((err as JsonSyntaxError).offset).toBe(13)
      expect((err as Error).message).toBe('expected "," or "}" after the value of "a", found """')
    }
  })

  it.each<[JsonDialect, string, number, string]>([
    ['json', '{"a": 1,}', 7, 'trailing comma before "}" (the client does not allow it)'],
    ['jsonc', '{"a": [1,,]}', 9, 'expected a value, found ","'],
    ['json', '{"a": 1 // c\n}', 8, 'comments are not allowed in this file'],
    ['jsonc', "{'a': 1}", 1, 'expected a "quoted" property name or "}", found "\'"'],
    ['jsonc', '{"a" 1}', 5, 'expected ":" after "a", found "1"'],
    ['jsonc', '{"a": [1 2]}', 9, 'expected "," or "]" in the array, found "2"'],
    ['jsonc', '{"a": 1} x', 9, 'unexpected "x" after the end of the document'],
    ['jsonc', '{"a": 1 /* c', 8, 'unterminated /* comment'],
    ['jsonc', '{"a": "x', 6, 'unterminated string'],
    ['jsonc', '  ', 2, 'the file is empty; expected a JSON object'],
  ])('%s: %j fails at %i with words', (dialect, text, offset, message) => {
    const err = (() => {
      try {
        parseJsonTree(text, dialect)
      } catch (e) {
        return e as JsonSyntaxError
      }
      throw new Error('no error')
    })()
    expect(err).toBeInstanceOf(JsonSyntaxError)
    expect(err.offset).toBe(offset)
    expect(err.message).toContain(message)
  })

  it('isStrictJson', () => {
    expect(isStrictJson('{"a": 1}\n')).toBe(true)
    expect(isStrictJson('{"a": 1,}')).toBe(false)
  })
})

describe('JSON member edits', () => {
  const eol = '\n'
  it.each([
    [
      'the last member, multi-line',
      '{\n  "a": 1,\n  "env": {\n    "X": "1"\n  }\n}',
      '{\n  "a": 1\n}',
    ],
    [
      'a middle member with a trailing comment',
      '{\n  "a": 1,\n  "env": {}, // secret\n  "b": 2\n}',
      '{\n  "a": 1,\n  "b": 2\n}',
    ],
    ['the first member', '{\n  "env": {},\n  "a": 1\n}', '{\n  "a": 1\n}'],
    ['inline, in the middle', '{"a": 1, "env": {}, "b": 2}', '{"a": 1, "b": 2}'],
    ['inline, last', '{"a": 1, "env": {}}', '{"a": 1}'],
    [
      'the last member with a JSONC trailing comma',
      '{\n\t"a": 1,\n\t"env": {},\n}',
      '{\n\t"a": 1,\n}',
    ],
    ['duplicates too', '{"env": 1, "a": 1, "env": 2}', '{"a": 1}'],
    ['nothing when absent', '{"a": 1}', '{"a": 1}'],
  ])('removes %s', (_, before, after) => {
    expect(removeMember(before, [], 'env')).toBe(after)
  })

  it.each([
    [
      'after its anchor, indented like it',
      '{\n    "command": "x",\n    "env": {}\n}',
      '{\n    "command": "x",\n    "args": ["a"],\n    "env": {}\n}',
    ],
    [
      'after a last anchor, adding the comma',
      '{\r\n  "command": "x"\r\n}',
      '{\r\n  "command": "x",\r\n  "args": ["a"]\r\n}',
    ],
    [
      'after a comment on the anchor line',
      '{\n  "command": "x", // run\n  "b": 1\n}',
      '{\n  "command": "x", // run\n  "args": ["a"],\n  "b": 1\n}',
    ],
    ['inline', '{"command": "x", "b": 1}', '{"command": "x", "args": ["a"], "b": 1}'],
  ])('inserts %s', (_, before, after) => {
    const eolOf = before.includes('\r\n') ? '\r\n' : eol
    expect(
      setMember(
        before,
        [],
        'args',
        (like, t) => renderJson(t, ['a'], eolOf, like),
        ['command'],
        eolOf,
      ),
    ).toBe(after)
  })

  it('replaces a multi-line array keeping its shape', () => {
    const text = '{\n  "args": [\n    "-y",\n    "pkg",\n  ]\n}'
    expect(
      setMember(text, [], 'args', (like, t) => renderJson(t, ['a', 'b'], eol, like), [], eol),
    ).toBe('{\n  "args": [\n    "a",\n    "b",\n  ]\n}')
  })
})

describe('TOML locator', () => {
  it('finds headers and pairs with full paths, inside inline tables too', () => {
    const text = [
      'top = 1 # c',
      '[mcp_servers.a]',
      'command = """multi',
      'line"""',
      'args = [\'x\', "y", [1, 2]] # t',
      'when = 1979-05-27 07:32:00Z',
      '[mcp_servers."b.c"]',
      'x = { k = 1, "n" = { z = true } }',
      '[[arr]]',
      'q = 2',
    ].join('\n')
    const scan = scanToml(text)
    expect(scan.headers.map((h) => [h.path.join('/'), h.array])).toEqual([
      ['mcp_servers/a', false],
      ['mcp_servers/b.c', false],
      ['arr', true],
    ])
    const byPath = new Map(scan.pairs.map((p) => [p.path.join('/'), p]))
    expect([...byPath.keys()]).toEqual([
      'top',
      'mcp_servers/a/command',
      'mcp_servers/a/args',
      'mcp_servers/a/when',
      'mcp_servers/b.c/x/k',
      'mcp_servers/b.c/x/n/z',
      'mcp_servers/b.c/x/n',
      'mcp_servers/b.c/x',
      'arr/q',
    ])
    const cmd = byPath.get('mcp_servers/a/command')
    expect(text.slice(cmd?.valueStart, cmd?.valueEnd)).toBe('"""multi\nline"""')
    const args = byPath.get('mcp_servers/a/args')
    expect(text.slice(args?.valueStart, args?.lineEnd)).toBe('[\'x\', "y", [1, 2]] # t')
    expect(
      text.slice(
        byPath.get('mcp_servers/a/when')?.valueStart,
        byPath.get('mcp_servers/a/when')?.valueEnd,
      ),
    ).toBe('1979-05-27 07:32:00Z')
    expect(byPath.get('mcp_servers/b.c/x/k')?.comma).toBeDefined()
  })
})

describe('unified diff', () => {
  it('prints hunks like diff -u', () => {
    const a = 'a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n'
    const b = 'a\nB\nc\nd\ne\nf\ng\nh\ni\nj\nk\n'
    expect(unifiedDiff(a, b, 'x', 'y', 1)).toBe(
      '--- x\n+++ y\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n@@ -10 +10,2 @@\n j\n+k\n',
    )
    expect(unifiedDiff(a, a, 'x', 'y')).toBe('')
    expect(unifiedDiff('x', 'y\n', 'a', 'b')).toBe(
      '--- a\n+++ b\n@@ -1 +1 @@\n-x\n\\ No newline at end of file\n+y\n',
    )
  })
})

describe('shim detection and placeholders', () => {
  it.each<[string, string[], string | undefined]>([
    ['/usr/bin/node', ['/opt/airlock/bin/airlock.js', 'connect', 'github'], 'github'],
    [
      'C:\\Program Files\\nodejs\\node.exe',
      ['C:\\airlock\\bin\\airlock.js', 'connect', 'fs'],
      'fs',
    ],
    ['airlock', ['connect', 'mem'], 'mem'],
    ['/usr/local/bin/airlock.cmd', ['connect', 'mem'], 'mem'],
    ['npx', ['-y', 'airlock@latest', 'connect', 'x'], 'x'],
    ['npx', ['-y', '@modelcontextprotocol/server-memory'], undefined],
    ['node', ['/opt/airlock/bin/airlock.js', 'serve'], undefined],
    ['uvx', ['mcp-server-connect', 'connect', 'x'], undefined],
  ])('%s %j → %s', (command, args, server) => {
    expect(shimServer(command, args)).toBe(server)
  })

  it('finds ${VAR}, ${input:id} and ${{ secrets.X }}', () => {
    expect(
      placeholders(['${HOME}/x', 'a ${input:tok} b', '${{ secrets.K }}', undefined, '${HOME}']),
    ).toEqual(['${HOME}', '${input:tok}', '${{ secrets.K }}'])
  })
})
