/**
 * The policy as text, with a line-number gutter that marks lines with validation errors and a
 * list of the errors (line, column, path, what was expected); choosing one moves the cursor there.
 */
import { useMemo, useRef, useState } from 'react'
import type { ResultOf } from '../../../shared/contract/control-api'

type Issue = ResultOf<'policy.validate'>['errors'][number]

/** Props: the text, its validation issues (undefined while validating), and the change handler. */
export interface PolicyYamlEditorProps {
  text: string
  issues: readonly Issue[] | undefined
  onChange: (text: string) => void
}

/** The editor. */
export function PolicyYamlEditor({ text, issues, onChange }: PolicyYamlEditorProps) {
  const area = useRef<HTMLTextAreaElement>(null)
  const [scroll, setScroll] = useState(0)
  const lineCount = useMemo(() => text.split('\n').length, [text])
  const badLines = useMemo(
    () => new Set((issues ?? []).map((i) => i.line).filter((l): l is number => l !== undefined)),
    [issues],
  )

  const goTo = (line: number | undefined, column: number | undefined): void => {
    const el = area.current
    if (!el || line === undefined) return
    const lines = text.split('\n')
    let offset = 0
    for (let i = 0; i < line - 1 && i < lines.length; i++) offset += lines[i]!.length + 1
    const start = offset + Math.max(0, (column ?? 1) - 1)
    el.focus()
    el.setSelectionRange(start, offset + (lines[line - 1]?.length ?? 0))
    const lineHeight = parseFloat(getComputedStyle(el).lineHeight) || 18
    el.scrollTop = Math.max(0, (line - 3) * lineHeight)
  }

  return (
    <div className="yaml-editor">
      <div className="yaml-frame">
        <div className="gutter" aria-hidden="true">
          <div style={{ transform: `translateY(${-scroll}px)` }}>
            {Array.from({ length: lineCount }, (_, i) => (
              <div key={i} className={badLines.has(i + 1) ? 'bad' : undefined}>
                {i + 1}
              </div>
            ))}
          </div>
        </div>
        <label className="sr-only" htmlFor="policy-yaml">
          Policy YAML
        </label>
        <textarea
          id="policy-yaml"
          ref={area}
          className="code"
          value={text}
          wrap="off"
          spellCheck={false}
          aria-invalid={issues !== undefined && issues.length > 0}
          aria-describedby="policy-errors"
          onChange={(e) => onChange(e.currentTarget.value)}
          onScroll={(e) => setScroll(e.currentTarget.scrollTop)}
        />
      </div>
      <div id="policy-errors" data-testid="policy-errors" aria-live="polite">
        {issues === undefined ? (
          <p className="small muted">Checking…</p>
        ) : issues.length === 0 ? (
          <p className="small text-good">✓ Valid policy</p>
        ) : (
          <ul className="issues">
            {issues.map((i, k) => (
              <li key={k}>
                <button
                  type="button"
                  className="link"
                  onClick={() => goTo(i.line, i.column)}
                  disabled={i.line === undefined}
                >
                  {i.line !== undefined
                    ? `Line ${i.line}${i.column !== undefined ? `, column ${i.column}` : ''}`
                    : 'Policy'}
                </button>
                : {i.path ? <span className="mono">{i.path}: </span> : null}expected {i.expected}
              </li>
            ))}
          </ul>
        )}
      </div>
    </div>
  )
}
