import * as fs from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  AuditLog,
  canonicalLine,
  sha256Hex,
  storedLine,
  verifyAudit,
} from '../../../src/gateway/audit'
import type { AuditRecord } from '../../../src/shared/contract/audit-record'
import { clock, input, lines, tempDir } from './helpers'

let dir: string
let cleanup: () => void
beforeEach(() => {
  ;({ dir, cleanup } = tempDir())
})
afterEach(() => cleanup())

const NAME = 'audit-2026-11-21.jsonl'
const file = (): string => path.join(dir, NAME)

async function writeRecords(n: number, maxFileBytes?: number): Promise<void> {
  const log = AuditLog.open({
    dir,
    now: clock('2026-11-21T10:00:00Z').now,
    ...(maxFileBytes ? { maxFileBytes } : {}),
  })
  for (let i = 1; i <= n; i++) log.append(input(i))
  await log.close()
}

function rewrite(edit: (ls: string[]) => string[]): void {
  fs.writeFileSync(file(), `${edit(lines(file())).join('\n')}\n`)
}

describe('verifyAudit', () => {
  it('is ok for an empty or missing directory', () => {
    expect(verifyAudit(dir)).toEqual({ ok: true, records: 0, files: 0 })
    expect(verifyAudit(path.join(dir, 'missing'))).toEqual({ ok: true, records: 0, files: 0 })
  })

  it('detects an edited field', async () => {
    await writeRecords(5)
    rewrite((ls) =>
      ls.map((l, i) => (i === 2 ? l.replace('"tool":"read_file"', '"tool":"read_fila"') : l)),
    )
    const v = verifyAudit(dir)
    expect(v.ok).toBe(false)
    expect(v.problem).toBe(
      `${NAME} line 3: hash mismatch for seq 3: the record was changed after it was written`,
    )
    expect(v.records).toBe(2)
  })

  it('detects an edited record whose hash was recomputed, at the next record', async () => {
    await writeRecords(5)
    rewrite((ls) =>
      ls.map((l, i) => {
        if (i !== 2) return l
        const r = JSON.parse(l) as AuditRecord
        // canonicalLine ignores `hash`: it is never part of the hashed bytes.
        const canonical = canonicalLine({ ...r, decision: 'deny' })
        return storedLine(canonical, sha256Hex(canonical)).trimEnd()
      }),
    )
    expect(verifyAudit(dir).problem).toBe(
      `${NAME} line 4: prev of seq 4 is not the hash of seq 3: the chain is broken (a record was replaced)`,
    )
  })

  it('detects a deleted line', async () => {
    await writeRecords(5)
    rewrite((ls) => ls.filter((_, i) => i !== 2))
    expect(verifyAudit(dir).problem).toBe(
      `${NAME} line 3: seq 4 follows seq 2, expected 3: a record was deleted, inserted or moved`,
    )
  })

  it('detects reordered lines', async () => {
    await writeRecords(5)
    rewrite((ls) => [ls[0], ls[2], ls[1], ls[3], ls[4]] as string[])
    expect(verifyAudit(dir).problem).toBe(
      `${NAME} line 2: seq 3 follows seq 1, expected 2: a record was deleted, inserted or moved`,
    )
  })

  it('detects a line that is not a record, an empty line, and a removed hash', async () => {
    await writeRecords(3)
    rewrite((ls) => [ls[0] as string, 'hello', ...ls.slice(1)])
    expect(verifyAudit(dir).problem).toBe(`${NAME} line 2: not a JSON audit record`)
    rewrite((ls) => ls.filter((l) => l !== 'hello').map((l, i) => (i === 1 ? '' : l)))
    expect(verifyAudit(dir).problem).toBe(`${NAME} line 2: empty line`)
    fs.rmSync(file())
    await writeRecords(2)
    rewrite((ls) =>
      ls.map((l, i) =>
        i === 1 ? l.replace(/,"hash":"[0-9a-f]+"\}$/, '}').replace('{', '{"hash":"x",') : l,
      ),
    )
    expect(verifyAudit(dir).problem).toBe(
      `${NAME} line 2: the line does not end with its "hash" member (the line was edited)`,
    )
  })

  it('detects a deleted middle file and a torn line in an older file', async () => {
    await writeRecords(12, 700)
    const names = fs.readdirSync(dir)
    expect(names.length).toBeGreaterThan(2)
    fs.rmSync(path.join(dir, 'audit-2026-11-21.1.jsonl'))
    expect(verifyAudit(dir).problem).toMatch(
      /^audit-2026-11-21\.2\.jsonl line 1: seq \d+ follows seq \d+/,
    )

    fs.rmSync(dir, { recursive: true })
    await writeRecords(12, 700)
    fs.appendFileSync(path.join(dir, NAME), '{"seq":')
    expect(verifyAudit(dir).problem).toMatch(
      /^audit-2026-11-21\.jsonl line \d+: unterminated last line/,
    )
  })

  it('accepts any prev on the first retained record (the anchor)', async () => {
    await writeRecords(4, 700)
    fs.rmSync(path.join(dir, NAME))
    expect(verifyAudit(dir)).toMatchObject({ ok: true })
  })
})
