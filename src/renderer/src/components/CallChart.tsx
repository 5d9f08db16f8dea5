/**
 * Calls over time, one small stacked bar chart per server (allowed · approved · denied), drawn
 * as SVG from `audit.histogram`. It follows new calls, refreshing at most every two seconds.
 */
import { memo, useEffect, useRef, useState } from 'react'
import type { AuditFilter, ResultOf } from '../../../shared/contract/control-api'
import { Field } from './Field'
import { useApi } from '../api-context'
import { useApiEvent } from '../hooks/use-api-event'
import { useResource } from '../hooks/use-resource'
import { formatTime } from '../format'

type Histogram = ResultOf<'audit.histogram'>
type Series = Histogram['series'][number]

const BUCKETS = 60
const RANGES = [
  { label: 'last 15 minutes', ms: 15 * 60_000 },
  { label: 'last hour', ms: 3_600_000 },
  { label: 'last 24 hours', ms: 86_400_000 },
  { label: 'last 7 days', ms: 7 * 86_400_000 },
] as const

/**
 * Props: an explicit time range (from the filters) wins over the chart's own range choice; the
 * other filters (server, tool, client, decisions, text) narrow the calls counted.
 */
export interface CallChartProps {
  since?: number
  until?: number
  filter?: Omit<AuditFilter, 'since' | 'until'>
}

const HIDE_KEY = 'airlock.chartHidden'

function storedHidden(): boolean {
  try {
    return window.localStorage.getItem(HIDE_KEY) === '1'
  } catch {
    return false
  }
}

/** The chart with its range choice and legend; it can be folded away (remembered). */
export function CallChart({ since, until, filter = {} }: CallChartProps) {
  const api = useApi()
  const [rangeMs, setRangeMs] = useState<number>(RANGES[1].ms)
  const [stamp, setStamp] = useState(() => Date.now())
  const fixed = since !== undefined || until !== undefined
  const end = until ?? stamp
  const start = since ?? end - rangeMs
  const filterKey = JSON.stringify(filter)
  const [hidden, setHidden] = useState(storedHidden)
  const toggle = (): void => {
    setHidden((h) => {
      try {
        window.localStorage.setItem(HIDE_KEY, h ? '0' : '1')
      } catch {
        // No storage: the choice lasts for this page only.
      }
      return !h
    })
  }
  const hist = useResource(
    () =>
      hidden
        ? Promise.resolve(undefined)
        : api.audit.histogram({
            since: start,
            until: end,
            buckets: BUCKETS,
            filter: JSON.parse(filterKey) as AuditFilter,
          }),
    [api, start, end, filterKey, hidden],
  )

  // Follow new calls: move the window to now, at most every 2 s.
  const pending = useRef<ReturnType<typeof setTimeout> | undefined>(undefined)
  useApiEvent('audit.appended', () => {
    if (until !== undefined || pending.current !== undefined) return
    pending.current = setTimeout(() => {
      pending.current = undefined
      setStamp(Date.now())
    }, 2000)
  })
  useEffect(() => () => clearTimeout(pending.current), [])

  const series = hist.data?.series ?? []
  const max = Math.max(
    1,
    ...series.flatMap((s) =>
      s.allowed.map((a, i) => a + (s.approved[i] ?? 0) + (s.denied[i] ?? 0)),
    ),
  )
  const sorted = [...series].sort((a, b) => total(b) - total(a))

  return (
    <section className="chart" aria-labelledby="chart-title" data-testid="call-chart">
      <div className="chart-head">
        <h3 id="chart-title">Calls over time</h3>
        <button type="button" className="btn btn-small" aria-expanded={!hidden} onClick={toggle}>
          {hidden ? 'Show chart' : 'Hide chart'}
        </button>
        <ul className="legend" aria-label="Legend">
          <li>
            <span className="swatch allowed" /> allowed
          </li>
          <li>
            <span className="swatch approved" /> approved
          </li>
          <li>
            <span className="swatch denied" /> denied
          </li>
        </ul>
        {Object.keys(filter).length > 0 ? (
          <span className="muted small" data-testid="chart-filtered">
            following the filters
          </span>
        ) : null}
        {hidden ? (
          <span />
        ) : fixed ? (
          <span className="muted small">range from the filters</span>
        ) : (
          <Field label="Chart range" hiddenLabel>
            {(p) => (
              <select
                {...p}
                value={rangeMs}
                onChange={(e) => setRangeMs(Number(e.currentTarget.value))}
              >
                {RANGES.map((r) => (
                  <option key={r.ms} value={r.ms}>
                    {r.label}
                  </option>
                ))}
              </select>
            )}
          </Field>
        )}
      </div>
      {hidden ? null : hist.error ? (
        <p className="state-error small" role="alert">
          Chart unavailable: {hist.error}
        </p>
      ) : !hist.data ? (
        <p className="muted small">Loading chart…</p>
      ) : sorted.length === 0 || sorted.every((s) => total(s) === 0) ? (
        <p className="muted small">No calls in this range.</p>
      ) : (
        <>
          <div className="chart-rows">
            {sorted.map((s) => (
              <ServerBars
                key={s.server}
                series={s}
                max={max}
                start={hist.data!.start}
                bucketMs={hist.data!.bucketMs}
              />
            ))}
          </div>
          <div className="chart-axis small muted" aria-hidden="true">
            <span>{formatTime(hist.data.start)}</span>
            <span>{formatTime(hist.data.start + hist.data.bucketMs * BUCKETS)}</span>
          </div>
        </>
      )}
    </section>
  )
}

function total(s: Series): number {
  let n = 0
  for (let i = 0; i < s.allowed.length; i++)
    n += (s.allowed[i] ?? 0) + (s.approved[i] ?? 0) + (s.denied[i] ?? 0)
  return n
}

const HEIGHT = 100

const ServerBars = memo(function ServerBars({
  series,
  max,
  start,
  bucketMs,
}: {
  series: Series
  max: number
  start: number
  bucketMs: number
}) {
  const n = series.allowed.length
  const sum = total(series)
  const denied = series.denied.reduce((a, b) => a + b, 0)
  return (
    <div className="chart-row">
      <span className="chart-label ellipsis" title={series.server}>
        {series.server} <span className="muted small">{sum}</span>
      </span>
      <svg
        viewBox={`0 0 ${n} ${HEIGHT}`}
        preserveAspectRatio="none"
        role="img"
        aria-label={`${series.server}: ${sum} calls, ${denied} denied`}
      >
        {series.allowed.map((allowed, i) => {
          const approved = series.approved[i] ?? 0
          const deniedHere = series.denied[i] ?? 0
          if (allowed + approved + deniedHere === 0) return null
          const h = (v: number): number => (v / max) * HEIGHT
          const yA = HEIGHT - h(allowed)
          const yB = yA - h(approved)
          const yC = yB - h(deniedHere)
          const from = formatTime(start + i * bucketMs)
          return (
            <g key={i}>
              <title>{`${from}: ${allowed} allowed, ${approved} approved, ${deniedHere} denied`}</title>
              <rect x={i + 0.1} width={0.8} y={yA} height={h(allowed)} className="bar allowed" />
              <rect x={i + 0.1} width={0.8} y={yB} height={h(approved)} className="bar approved" />
              <rect x={i + 0.1} width={0.8} y={yC} height={h(deniedHere)} className="bar denied" />
            </g>
          )
        })}
      </svg>
    </div>
  )
})
