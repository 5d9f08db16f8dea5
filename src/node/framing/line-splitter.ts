/**
 * Newline framing for JSON-RPC over byte streams, without re-encoding: each complete line is
 * handed out as the original bytes. Chunks are kept in a list until a newline arrives, so a
 * large message costs one concat, not one per chunk.
 */

/** Thrown (via onOverflow) when a single line exceeds the cap. */
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024 * 1024

/** Splits a byte stream into lines (without the trailing "\n"; a trailing "\r" is kept). */
export class LineSplitter {
  private parts: Buffer[] = []
  private size = 0
  private skipping = false

  constructor(
    private readonly onLine: (line: Buffer) => void,
    private readonly onOverflow: (bytes: number) => void = () => {},
    private readonly maxLineBytes = DEFAULT_MAX_LINE_BYTES,
  ) {}

  /** Feeds a chunk; calls onLine for each complete line. */
  push(chunk: Buffer): void {
    let start = 0
    for (;;) {
      const nl = chunk.indexOf(10, start)
      if (nl === -1) break
      if (this.skipping) {
        this.skipping = false
      } else if (this.parts.length === 0) {
        if (nl > start) this.onLine(chunk.subarray(start, nl))
      } else {
        this.parts.push(chunk.subarray(start, nl))
        const line = Buffer.concat(this.parts, this.size + nl - start)
        this.parts = []
        this.size = 0
        if (line.length) this.onLine(line)
      }
      start = nl + 1
    }
    if (start < chunk.length && !this.skipping) {
      const rest = chunk.subarray(start)
      this.parts.push(rest)
      this.size += rest.length
      if (this.size > this.maxLineBytes) {
        this.onOverflow(this.size)
        this.parts = []
        this.size = 0
        this.skipping = true
      }
    }
  }

  /** Bytes buffered without a newline yet. */
  pending(): number {
    return this.size
  }
}
