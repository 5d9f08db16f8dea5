/** A tool's risk class as a coloured badge. */
import { memo } from 'react'

/** Shows `risk` (low · medium · high · critical), or a dash when unknown. */
export const RiskBadge = memo(function RiskBadge({ risk }: { risk: string | undefined }) {
  if (!risk) return <span className="badge badge-muted">—</span>
  return (
    <span className={`badge risk-${risk}`} data-testid="risk-badge" title={`risk: ${risk}`}>
      {risk}
    </span>
  )
})
