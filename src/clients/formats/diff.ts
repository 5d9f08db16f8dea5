/**
 * A unified line diff (Myers' O(ND) algorithm), as `diff -u` prints it: what `--dry-run` and
 * the Clients screen show before anything is written.
 */

type Op = { kind: ' ' | '-' | '+'; line: string }

function splitLines(text: string): string[] {
  if (text === '') return []
  const lines = text.split('\n')
  if (lines[lines.length - 1] === '') lines.pop()
  else lines[lines.length - 1] += '\n\\ No newline at end of file'
  return lines.map((l) => l.replace(/\r$/, ''))
}

function editScript(a: string[], b: string[]): Op[] {
  const n = a.length
  const m = b.length
  const max = n + m
  const offset = max + 1
  const v = new Int32Array(2 * max + 3)
  const trace: Int32Array[] = []
  let done = false
  for (let d = 0; d <= max && !done; d++) {
    trace.push(v.slice())
    for (let k = -d; k <= d; k += 2) {
      let x =
        k === -d || (k !== d && (v[offset + k - 1] ?? 0) < (v[offset + k + 1] ?? 0))
          ? (v[offset + k + 1] ?? 0)
          : (v[offset + k - 1] ?? 0) + 1
      let y = x - k
      while (x < n && y < m && a[x] === b[y]) {
        x++
        y++
      }
      v[offset + k] = x
      if (x >= n && y >= m) {
        done = true
        break
      }
    }
  }
  const ops: Op[] = []
  let x = n
  let y = m
  for (let d = trace.length - 1; d >= 0; d--) {
    const vd = trace[d] as Int32Array
    const k = x - y
    const prevK =
      k === -d || (k !== d && (vd[offset + k - 1] ?? 0) < (vd[offset + k + 1] ?? 0)) ? k + 1 : k - 1
    const prevX = vd[offset + prevK] ?? 0
    const prevY = prevX - prevK
    while (x > prevX && y > prevY) {
      x--
      y--
      ops.push({ kind: ' ', line: a[x] as string })
    }
    if (d > 0) {
      if (x === prevX) ops.push({ kind: '+', line: b[--y] as string })
      else ops.push({ kind: '-', line: a[--x] as string })
    }
  }
  return ops.reverse()
}

/** The unified diff of two texts with `context` lines around changes; '' when they are equal. */
export function unifiedDiff(
  before: string,
  after: string,
  fromLabel: string,
  toLabel: string,
  context = 3,
): string {
  if (before === after) return ''
  const ops = editScript(splitLines(before), splitLines(after))
  const out: string[] = [`--- ${fromLabel}`, `+++ ${toLabel}`]
  let i = 0
  while (i < ops.length) {
    while (i < ops.length && ops[i]?.kind === ' ') i++
    if (i >= ops.length) break
    const start = Math.max(0, i - context)
    let end = i
    // Extend the hunk while changes are within 2 * context lines of each other.
    for (let j = i; j < ops.length; j++) {
      if (ops[j]?.kind !== ' ') end = j
      else if (j - end > 2 * context) break
    }
    const stop = Math.min(ops.length, end + context + 1)
    let aLine = 1
    let bLine = 1
    for (let j = 0; j < start; j++) {
      if (ops[j]?.kind !== '+') aLine++
      if (ops[j]?.kind !== '-') bLine++
    }
    const hunk = ops.slice(start, stop)
    const aLen = hunk.filter((o) => o.kind !== '+').length
    const bLen = hunk.filter((o) => o.kind !== '-').length
    const span = (line: number, len: number): string =>
      len === 1 ? `${line}` : `${len ? line : line - 1},${len}`
    out.push(`@@ -${span(aLine, aLen)} +${span(bLine, bLen)} @@`)
    for (const o of hunk) out.push(o.kind + o.line)
    i = stop
  }
  return out.join('\n') + '\n'
}
