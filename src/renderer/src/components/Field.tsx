/** A labelled form control with an optional hint, linked by id (the hint is a description, not part of the name). */
import { useId, type ReactNode } from 'react'

/** What the control must carry. */
export interface FieldControlProps {
  id: string
  'aria-describedby'?: string
  'aria-invalid'?: boolean
}

/** Props of a field; `hiddenLabel` keeps the label for assistive technology only (a table cell). */
export interface FieldProps {
  label: string
  hint?: ReactNode
  className?: string
  hiddenLabel?: boolean
  /** What is wrong with the value, shown under the control (and announced). */
  error?: string
  children: (props: FieldControlProps) => ReactNode
}

/** Renders `label`, the control from `children(props)`, `error` and `hint` below it. */
export function Field({
  label,
  hint,
  className,
  hiddenLabel = false,
  error,
  children,
}: FieldProps) {
  const id = useId()
  const hintId = `${id}-hint`
  const errorId = `${id}-error`
  const described = [error ? errorId : '', hint ? hintId : ''].filter(Boolean).join(' ')
  return (
    <div className={className ? `field ${className}` : 'field'}>
      <label htmlFor={id} className={hiddenLabel ? 'sr-only' : undefined}>
        {label}
      </label>
      {children({
        id,
        ...(described ? { 'aria-describedby': described } : {}),
        ...(error ? { 'aria-invalid': true } : {}),
      })}
      {error ? (
        <span className="field-error" id={errorId} role="alert">
          {error}
        </span>
      ) : null}
      {hint ? (
        <span className="hint" id={hintId}>
          {hint}
        </span>
      ) : null}
    </div>
  )
}

/** A field holding one line of text (no spell check, no autocomplete): names, URLs, commands. */
export function TextField({
  value,
  onChange,
  type = 'text',
  placeholder,
  required = false,
  ...field
}: Omit<FieldProps, 'children'> & {
  value: string
  onChange: (value: string) => void
  type?: 'text' | 'url'
  placeholder?: string
  required?: boolean
}) {
  return (
    <Field {...field}>
      {(p) => (
        <input
          {...p}
          type={type}
          value={value}
          onChange={(e) => onChange(e.currentTarget.value)}
          required={required}
          spellCheck={false}
          placeholder={placeholder}
          autoComplete="off"
        />
      )}
    </Field>
  )
}
