/** A labelled form control with an optional hint, linked by id (the hint is a description, not part of the name). */
import { useId, type ReactNode } from 'react'

/** What the control must carry. */
export interface FieldControlProps {
  id: string
  'aria-describedby'?: string
}

/** Renders `label`, the control from `children(props)`, and `hint` below it. */
export function Field({ label, hint, children }: { label: string; hint?: ReactNode; children: (props: FieldControlProps) => ReactNode }) {
  const id = useId()
  const hintId = `${id}-hint`
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children(hint ? { id, 'aria-describedby': hintId } : { id })}
      {hint ? (
        <span className="hint" id={hintId}>
          {hint}
        </span>
      ) : null}
    </div>
  )
}
