import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { writeFileAtomic } from '../../../src/node/atomic-write'
import { safeEqual } from '../../../src/node/safe-equal'

const dirs: string[] = []
function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-atomic-'))
  dirs.push(d)
  return d
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true })
})

describe('writeFileAtomic', () => {
  it('replaces the file whole, 0600 by default, and leaves no temp file', () => {
    const dir = tmpDir()
    const file = path.join(dir, 'config.json')
    fs.writeFileSync(file, 'old')
    writeFileAtomic(file, 'new\n')
    expect(fs.readFileSync(file, 'utf8')).toBe('new\n')
    writeFileAtomic(path.join(dir, 'secret'), 's')
    if (process.platform !== 'win32')
      expect(fs.statSync(path.join(dir, 'secret')).mode & 0o777).toBe(0o600)
    expect(fs.readdirSync(dir).sort()).toEqual(['config.json', 'secret'])
  })

  it('writes what a producer writes in chunks', () => {
    const file = path.join(tmpDir(), 'out.csv')
    writeFileAtomic(file, (write) => {
      write('a,b\n')
      write(Buffer.from('1,2\n'))
    })
    expect(fs.readFileSync(file, 'utf8')).toBe('a,b\n1,2\n')
  })

  it('keeps the old file and removes the temp file when the producer fails', () => {
    const dir = tmpDir()
    const file = path.join(dir, 'keep.json')
    fs.writeFileSync(file, 'old')
    expect(() =>
      writeFileAtomic(file, (write) => {
        write('half')
        throw new Error('export failed')
      }),
    ).toThrow('export failed')
    expect(fs.readFileSync(file, 'utf8')).toBe('old')
    expect(fs.readdirSync(dir)).toEqual(['keep.json'])
  })

  it('throws the file system error when the directory is missing', () => {
    const file = path.join(tmpDir(), 'no', 'such', 'file')
    expect(() => writeFileAtomic(file, 'x')).toThrow(/ENOENT/)
  })
})

describe('safeEqual', () => {
  it('is true only for the same string', () => {
    expect(safeEqual('abc', 'abc')).toBe(true)
    expect(safeEqual('abc', 'abd')).toBe(false)
    expect(safeEqual('abc', 'ab')).toBe(false)
  })

  it('treats hostile values as unequal without throwing', () => {
    expect(safeEqual('ab', undefined)).toBe(false)
    expect(safeEqual('ab', 12)).toBe(false)
    // Same length in UTF-16 units, different length in bytes.
    expect(safeEqual('ab', 'é!')).toBe(false)
    expect(safeEqual('abcd', 'éé')).toBe(false)
  })
})
