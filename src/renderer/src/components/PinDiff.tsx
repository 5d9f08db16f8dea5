/**
 * What changed in a tool since it was pinned: each changed field, the pinned text and the new
 * text side by side, line by line. Server-written text: shown as text, control characters made
 * visible.
 */
import type { FieldChange } from '../../../shared/tool-pins'
import { sideBySide } from '../../../shared/tool-pins'
import { visibleText } from '../format'

const LABEL: Record<FieldChange['field'], string> = {
  description: 'Description',
  inputSchema: 'Input schema',
  annotations: 'Annotations',
}

/** The side-by-side diff of a tool's changed fields; `before`/`after` label the two columns. */
export function PinDiff({
  changes,
  before = 'Pinned',
  after = 'Now',
}: {
  changes: readonly FieldChange[]
  before?: string
  after?: string
}) {
  return (
    <div className="pin-diff" data-testid="pin-diff">
      {changes.map((c) => (
        <table key={c.field} className="pin-diff-table">
          <caption>{LABEL[c.field]}</caption>
          <thead>
            <tr>
              <th scope="col">{before}</th>
              <th scope="col">{after}</th>
            </tr>
          </thead>
          <tbody>
            {sideBySide(c.old, c.new).map((row, i) => (
              <tr key={i} data-kind={row.kind}>
                <td className={row.kind === 'same' ? 'mono' : 'mono diff-del'}>
                  {visibleText(row.left)}
                </td>
                <td className={row.kind === 'same' ? 'mono' : 'mono diff-add'}>
                  {visibleText(row.right)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ))}
    </div>
  )
}
