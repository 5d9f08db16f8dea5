/** The empty state: says what would be here and how to get it there. */
import type { ReactNode } from 'react'

/** Shows a title and a hint (text or actions). */
export function EmptyState({
  title,
  children,
  testId,
}: {
  title: string
  children?: ReactNode
  testId?: string
}) {
  return (
    <div className="state state-empty" data-testid={testId}>
      <p className="state-title">{title}</p>
      {children ? <div className="state-hint">{children}</div> : null}
    </div>
  )
}
