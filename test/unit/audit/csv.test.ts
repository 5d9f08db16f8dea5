import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { AuditLog, csvCell, exportAudit } from '../../../src/gateway/audit'
import { input, tempDir } from './helpers'

describe('csvCell', () => {
  it('quotes per RFC 4180', () => {
    expect(csvCell('plain')).toBe('plain')
    expect(csvCell('a,b')).toBe('"a,b"')
    expect(csvCell('say "hi"')).toBe('"say ""hi"""')
    expect(csvCell('two\nlines')).toBe('"two\nlines"')
    expect(csvCell('cr\rhere')).toBe('"cr\rhere"')
    expect(csvCell(undefined)).toBe('')
    expect(csvCell(42)).toBe('42')
    expect(csvCell(-3)).toBe('-3')
  })

  it('guards against formula injection', () => {
    expect(csvCell('=HYPERLINK("http://x")')).toBe(`"'=HYPERLINK(""http://x"")"`)
    expect(csvCell('+1+1')).toBe("'+1+1")
    expect(csvCell('-2+3')).toBe("'-2+3")
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)")
    expect(csvCell('\tcmd')).toBe("'\tcmd")
    expect(csvCell('\rcmd')).toBe(`"'\rcmd"`)
    expect(csvCell('a=b')).toBe('a=b')
  })
})

describe('CSV export of hostile records', () => {
  let dir: string
  let cleanup: () => void
  beforeEach(() => {
    ;({ dir, cleanup } = tempDir())
  })
  afterEach(() => cleanup())

  it('escapes and guards every text cell', async () => {
    const log = AuditLog.open({ dir })
    log.append(
      input(1, {
        tool: '=cmd|"/c calc"!A1',
        reason: 'line one\nline, two',
        client: '@evil',
        args: { q: '=1+1' },
      }),
    )
    await log.close()
    let out = ''
    exportAudit(dir, {}, 'csv', (c) => (out += c))
    expect(out).toContain(`,"'=cmd|""/c calc""!A1",`)
    expect(out).toContain(`,"line one\nline, two",`)
    expect(out).toContain(`,'@evil,`)
    // args JSON starts with "{": no guard needed, but quoted for its quotes and commas.
    expect(out).toContain(`,"{""q"":""=1+1""}",`)
  })
})
