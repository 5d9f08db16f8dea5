/** A labelled form control with an optional hint, linked by id (the hint is a description, not part of the name). */
import { useId, type ReactNode } from 'react'

/** What the control must carry. */
export interface FieldControlProps {
  id: string
  'aria-describedby'?: string
}

/** Props of a field; `hiddenLabel` keeps the label for assistive technology only (a table cell). */
export interface FieldProps {
  label: string
  hint?: ReactNode
  className?: string
  hiddenLabel?: boolean
  children: (props: FieldControlProps) => ReactNode
}

/** Renders `label`, the control from `children(props)`, and `hint` below it. */
export function Field({ label, hint, className, hiddenLabel = false, children }: FieldProps) {
  const id = useId()
  const hintId = `${id}-hint`
  return (
    <div className={className ? `field ${className}` : 'field'}>
      <label htmlFor={id} className={hiddenLabel ? 'sr-only' : undefined}>
        {label}
      </label>
      {children(hint ? { id, 'aria-describedby': hintId } : { id })}
      {hint ? (
        <span className="hint" id={hintId}>
          {hint}
        </span>
      ) : null}
    </div>
  )
}
