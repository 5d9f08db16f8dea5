import { describe, expect, it } from 'vitest'
import { LineSplitter } from '../../../src/node/framing/line-splitter'

function split(chunks: string[], max?: number): { lines: string[]; overflows: number[] } {
  const lines: string[] = []
  const overflows: number[] = []
  const s = new LineSplitter(
    (l) => lines.push(l.toString()),
    (n) => overflows.push(n),
    max,
  )
  for (const c of chunks) s.push(Buffer.from(c))
  return { lines, overflows }
}

describe('LineSplitter', () => {
  it('splits lines across and within chunks, skipping empty lines', () => {
    expect(split(['{"a":1}\n{"b"', ':2}\n\n{"c":3}\n{"d"']).lines).toEqual([
      '{"a":1}',
      '{"b":2}',
      '{"c":3}',
    ])
  })

  it('joins a line spread over many chunks, byte for byte', () => {
    const big = 'x'.repeat(100_000)
    const chunks = big.match(/.{1,997}/g)!.concat(['\n'])
    expect(split(chunks).lines).toEqual([big])
  })

  it('keeps multi-byte characters split between chunks intact', () => {
    const buf = Buffer.from('{"t":"é😀"}\n')
    const lines: string[] = []
    const s = new LineSplitter((l) => lines.push(l.toString('utf8')))
    for (let i = 0; i < buf.length; i++) s.push(buf.subarray(i, i + 1))
    expect(lines).toEqual(['{"t":"é😀"}'])
  })

  it('drops a line over the cap, reports it once, and resumes after its newline', () => {
    const { lines, overflows } = split(
      ['{"ok":1}\n', 'y'.repeat(30), 'y'.repeat(30), 'y\n{"ok":2}\n'],
      50,
    )
    expect(lines).toEqual(['{"ok":1}', '{"ok":2}'])
    expect(overflows).toHaveLength(1)
    expect(overflows[0]).toBeGreaterThan(50)
  })
})
