/** Plain-text tables for the CLI's listings. */

/** Rows under a header, in columns padded to their widest cell (the last column unpadded). */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd() + '\n'
  return line(header) + rows.map(line).join('')
}
