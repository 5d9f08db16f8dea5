/**
 * How protected a server is, in the words `airlock policy show` prints (src/shared/protection.ts,
 * computed by the gateway): "routed through Airlock" is not "protected".
 */
import type { ProtectionView } from '../../../shared/contract/control-api'

const TONES: Record<ProtectionView['level'], string> = {
  policy: 'tone-good',
  floor: 'tone-warn',
  open: 'tone-bad',
  unlisted: 'tone-muted',
  broken: 'tone-bad',
}

/** A badge with the short label; `full` adds the summary sentence below it. */
export function ProtectionNote({
  protection,
  full = true,
}: {
  protection: ProtectionView | undefined
  full?: boolean
}) {
  if (!protection) return null
  return (
    <span className="protection-note" data-testid="protection" data-level={protection.level}>
      <span className={`badge ${TONES[protection.level]}`} title={protection.summary}>
        {protection.label}
      </span>
      {full ? (
        <span className="small muted" data-testid="protection-summary">
          {' '}
          {protection.summary}
        </span>
      ) : null}
    </span>
  )
}
