/** A unified diff as text: one line per line, additions and removals coloured, never markup. */

function lineClass(line: string): string {
  if (line.startsWith('+++') || line.startsWith('---')) return 'diff-file'
  if (line.startsWith('@@')) return 'diff-hunk'
  if (line.startsWith('+')) return 'diff-add'
  if (line.startsWith('-')) return 'diff-del'
  if (line.startsWith('\\')) return 'diff-meta'
  return 'diff-ctx'
}

/** Shows `diff` (unified format) in a scrollable monospace block. */
export function DiffView({ diff, label }: { diff: string; label: string }) {
  const lines = diff.replace(/\n$/, '').split('\n')
  return (
    <pre className="code diff" aria-label={label} data-testid="plan-diff" tabIndex={0}>
      {lines.map((line, i) => (
        <span key={i} className={lineClass(line)}>
          {line}
          {'\n'}
        </span>
      ))}
    </pre>
  )
}
