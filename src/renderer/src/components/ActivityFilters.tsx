/**
 * The History filters, folded to one row: time presets, the decisions (several at once, and the
 * "blocked" group), free text, and "More filters" for server, tool, client and an exact time
 * range. Filters set elsewhere (a click on a cell) show as removable chips while folded.
 */
import { useId, useState } from 'react'
import {
  decisionKindSchema,
  type AuditFilter,
  type DecisionPick,
} from '../../../shared/contract/control-api'
import { decisionLabel } from './DecisionBadge'
import { Field } from './Field'
import { localInputToIso } from '../format'

/** The time presets, by id. */
export const PRESETS = [
  { id: 'today', label: 'Today' },
  { id: 'yesterday', label: 'Yesterday' },
  { id: '24h', label: 'Last 24 h' },
  { id: '7d', label: 'Last 7 days' },
] as const
export type PresetId = (typeof PRESETS)[number]['id']

/** The filter as typed: every field a string, '' for "any"; `decisions` empty for "any". */
export interface FilterDraft {
  server: string
  tool: string
  /** Decisions and groups (`blocked`); a call matching any of them is shown. */
  decisions: readonly string[]
  client: string
  text: string
  since: string
  until: string
  /** The preset that set since/until, if they were not edited since. */
  preset: PresetId | ''
}

/** No filter. */
export const EMPTY_FILTER: FilterDraft = {
  server: '',
  tool: '',
  decisions: [],
  client: '',
  text: '',
  since: '',
  until: '',
  preset: '',
}

const BLOCKED_HINT =
  'denied by policy, hidden, rate-limited, denied by a person, timed out, or paused'

const pad = (n: number): string => String(n).padStart(2, '0')

/** A local time as an `<input type="datetime-local">` value (seconds shown). */
export function toLocalInput(ms: number): string {
  const d = new Date(ms)
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
}

/** The since/until a preset stands for at `now` (local days). */
export function presetRange(preset: PresetId, now: number): { since: string; until: string } {
  const midnight = new Date(now)
  midnight.setHours(0, 0, 0, 0)
  const today = midnight.getTime()
  switch (preset) {
    case 'today':
      return { since: toLocalInput(today), until: '' }
    case 'yesterday': {
      const y = new Date(today)
      y.setDate(y.getDate() - 1)
      return { since: toLocalInput(y.getTime()), until: toLocalInput(today - 1000) }
    }
    case '24h':
      return { since: toLocalInput(now - 86_400_000), until: '' }
    case '7d':
      return { since: toLocalInput(now - 7 * 86_400_000), until: '' }
  }
}

const PICKS: readonly string[] = [...decisionKindSchema.options, 'blocked']

/** The API filter for a draft: empty fields left out, times as ISO strings. */
export function draftToFilter(d: FilterDraft): AuditFilter {
  const f: AuditFilter = {}
  if (d.server) f.server = d.server
  if (d.tool.trim()) f.tool = d.tool.trim()
  const picks = d.decisions.filter((x) => PICKS.includes(x)) as DecisionPick[]
  if (picks.length === 1) f.decision = picks[0]
  else if (picks.length > 1) f.decision = picks
  if (d.client.trim()) f.client = d.client.trim()
  if (d.text.trim()) f.text = d.text.trim()
  const since = localInputToIso(d.since)
  const until = localInputToIso(d.until)
  if (since) f.since = since
  if (until) f.until = until
  return f
}

/** Words for the decisions chosen ("any", "blocked", "blocked, approved"). */
export function decisionsSummary(picks: readonly string[]): string {
  if (picks.length === 0) return 'any'
  return picks
    .map((p) =>
      p === 'blocked' ? 'blocked' : decisionLabel(p as Parameters<typeof decisionLabel>[0]),
    )
    .join(', ')
}

/** Names seen in the log, for suggestions. */
export interface FilterSuggestions {
  servers: readonly string[]
  tools: readonly string[]
  clients: readonly string[]
}

/** The filter bar. */
export function ActivityFilters({
  draft,
  suggestions,
  onChange,
}: {
  draft: FilterDraft
  suggestions: FilterSuggestions
  onChange: (d: FilterDraft) => void
}) {
  const [open, setOpen] = useState(false)
  const listId = useId()
  const set =
    (key: 'server' | 'tool' | 'client' | 'text') => (e: { currentTarget: { value: string } }) =>
      onChange({ ...draft, [key]: e.currentTarget.value })
  const setTime = (key: 'since' | 'until') => (e: { currentTarget: { value: string } }) =>
    onChange({ ...draft, [key]: e.currentTarget.value, preset: '' })
  const active =
    draft.server !== '' ||
    draft.tool !== '' ||
    draft.client !== '' ||
    draft.text !== '' ||
    draft.since !== '' ||
    draft.until !== '' ||
    draft.decisions.length > 0
  const togglePick = (pick: string, on: boolean): void => {
    const rest = draft.decisions.filter((x) => x !== pick)
    onChange({ ...draft, decisions: on ? [...rest, pick] : rest })
  }
  const applyPreset = (preset: PresetId): void => {
    if (draft.preset === preset) onChange({ ...draft, since: '', until: '', preset: '' })
    // Runs on a click, not during render: the preset is relative to the moment it is chosen.
    // eslint-disable-next-line react-hooks/purity
    else onChange({ ...draft, ...presetRange(preset, Date.now()), preset })
  }
  // What "More filters" holds that is set, shown as chips while it is folded.
  const chips: { key: 'server' | 'tool' | 'client' | 'since' | 'until'; label: string }[] = []
  if (draft.server) chips.push({ key: 'server', label: `server: ${draft.server}` })
  if (draft.tool) chips.push({ key: 'tool', label: `tool: ${draft.tool}` })
  if (draft.client) chips.push({ key: 'client', label: `client: ${draft.client}` })
  if (draft.since && !draft.preset) chips.push({ key: 'since', label: 'from a set time' })
  if (draft.until && !draft.preset) chips.push({ key: 'until', label: 'to a set time' })

  return (
    <form
      className="filters"
      role="search"
      aria-label="Filter calls"
      onSubmit={(e) => e.preventDefault()}
    >
      <div className="filters-row">
        <div className="presets" role="group" aria-label="Time">
          {PRESETS.map((p) => (
            <button
              key={p.id}
              type="button"
              className={`btn btn-small${draft.preset === p.id ? ' on' : ''}`}
              aria-pressed={draft.preset === p.id}
              onClick={() => applyPreset(p.id)}
            >
              {p.label}
            </button>
          ))}
        </div>
        <details className="picker" data-testid="decision-picker">
          <summary>
            Decision: <strong>{decisionsSummary(draft.decisions)}</strong>
          </summary>
          <fieldset className="picker-menu">
            <legend className="sr-only">Decisions to show</legend>
            <label className="checkbox" title={BLOCKED_HINT}>
              <input
                type="checkbox"
                checked={draft.decisions.includes('blocked')}
                onChange={(e) => togglePick('blocked', e.currentTarget.checked)}
                aria-describedby={`${listId}-blocked`}
              />
              blocked
            </label>
            <span className="muted small" id={`${listId}-blocked`}>
              {BLOCKED_HINT}
            </span>
            <hr />
            {decisionKindSchema.options.map((d) => (
              <label key={d} className="checkbox">
                <input
                  type="checkbox"
                  checked={draft.decisions.includes(d)}
                  onChange={(e) => togglePick(d, e.currentTarget.checked)}
                />
                {decisionLabel(d)}
              </label>
            ))}
          </fieldset>
        </details>
        <Field label="Search" className="grow" hiddenLabel>
          {(p) => (
            <input
              {...p}
              type="search"
              value={draft.text}
              onChange={set('text')}
              placeholder="Search tool, arguments, reason, result…"
              spellCheck={false}
            />
          )}
        </Field>
        {!open
          ? chips.map((c) => (
              <span key={c.key} className="chip" data-testid="filter-chip">
                {c.label}
                <button
                  type="button"
                  aria-label={`Remove ${c.label}`}
                  onClick={() => onChange({ ...draft, [c.key]: '' })}
                >
                  ×
                </button>
              </span>
            ))
          : null}
        <button
          type="button"
          className="btn btn-small"
          aria-expanded={open}
          onClick={() => setOpen((o) => !o)}
        >
          {open ? 'Fewer filters' : 'More filters'}
        </button>
        <button
          type="button"
          className="btn btn-small"
          onClick={() => onChange(EMPTY_FILTER)}
          disabled={!active}
        >
          Clear
        </button>
      </div>
      {open ? (
        <div className="filters-row more" data-testid="more-filters">
          <Field label="Server">
            {(p) => (
              <select {...p} value={draft.server} onChange={set('server')}>
                <option value="">any</option>
                {[...new Set([...suggestions.servers, draft.server].filter(Boolean))].map((s) => (
                  <option key={s} value={s}>
                    {s}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Tool">
            {(p) => (
              <input
                {...p}
                type="text"
                value={draft.tool}
                onChange={set('tool')}
                list={`${listId}-tools`}
                placeholder="any"
                spellCheck={false}
                autoComplete="off"
              />
            )}
          </Field>
          <datalist id={`${listId}-tools`} data-testid="tool-suggestions">
            {suggestions.tools.map((t) => (
              <option key={t} value={t} />
            ))}
          </datalist>
          <Field label="Client">
            {(p) => (
              <input
                {...p}
                type="text"
                value={draft.client}
                onChange={set('client')}
                list={`${listId}-clients`}
                placeholder="any"
                spellCheck={false}
                autoComplete="off"
              />
            )}
          </Field>
          <datalist id={`${listId}-clients`} data-testid="client-suggestions">
            {suggestions.clients.map((c) => (
              <option key={c} value={c} />
            ))}
          </datalist>
          <Field label="From" className="time">
            {(p) => (
              <input
                {...p}
                type="datetime-local"
                value={draft.since}
                onChange={setTime('since')}
                step={1}
                min="2000-01-01T00:00:00"
                max="9999-12-31T23:59:59"
              />
            )}
          </Field>
          <Field label="To" className="time">
            {(p) => (
              <input
                {...p}
                type="datetime-local"
                value={draft.until}
                onChange={setTime('until')}
                step={1}
                min="2000-01-01T00:00:00"
                max="9999-12-31T23:59:59"
              />
            )}
          </Field>
        </div>
      ) : null}
    </form>
  )
}
