/** The Activity filters: server, tool, decision, client, free text and a time range. */
import { decisionKindSchema, type AuditFilter } from '../../../shared/contract/control-api'
import { decisionLabel } from './DecisionBadge'
import { Field } from './Field'
import { localInputToIso } from '../format'

/** The filter as typed: every field a string, '' for "any". */
export interface FilterDraft {
  server: string
  tool: string
  decision: string
  client: string
  text: string
  since: string
  until: string
}

/** No filter. */
export const EMPTY_FILTER: FilterDraft = {
  server: '',
  tool: '',
  decision: '',
  client: '',
  text: '',
  since: '',
  until: '',
}

/** The API filter for a draft: empty fields left out, times as ISO strings. */
export function draftToFilter(d: FilterDraft): AuditFilter {
  const f: AuditFilter = {}
  if (d.server) f.server = d.server
  if (d.tool.trim()) f.tool = d.tool.trim()
  const decision = decisionKindSchema.safeParse(d.decision)
  if (decision.success) f.decision = decision.data
  if (d.client.trim()) f.client = d.client.trim()
  if (d.text.trim()) f.text = d.text.trim()
  const since = localInputToIso(d.since)
  const until = localInputToIso(d.until)
  if (since) f.since = since
  if (until) f.until = until
  return f
}

/** The filter bar; `servers` fills the server choice. */
export function ActivityFilters({
  draft,
  servers,
  onChange,
}: {
  draft: FilterDraft
  servers: readonly string[]
  onChange: (d: FilterDraft) => void
}) {
  const set = (key: keyof FilterDraft) => (e: { currentTarget: { value: string } }) =>
    onChange({ ...draft, [key]: e.currentTarget.value })
  const active = Object.values(draft).some((v) => v !== '')
  return (
    <form
      className="filters"
      role="search"
      aria-label="Filter calls"
      onSubmit={(e) => e.preventDefault()}
    >
      <Field label="Server">
        {(p) => (
          <select {...p} value={draft.server} onChange={set('server')}>
            <option value="">any</option>
            {servers.map((s) => (
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
            placeholder="exact name"
            spellCheck={false}
          />
        )}
      </Field>
      <Field label="Decision">
        {(p) => (
          <select {...p} value={draft.decision} onChange={set('decision')}>
            <option value="">any</option>
            {decisionKindSchema.options.map((d) => (
              <option key={d} value={d}>
                {decisionLabel(d)}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Client">
        {(p) => (
          <input
            {...p}
            type="text"
            value={draft.client}
            onChange={set('client')}
            placeholder="exact name"
            spellCheck={false}
          />
        )}
      </Field>
      <Field label="Search" className="grow">
        {(p) => (
          <input
            {...p}
            type="search"
            value={draft.text}
            onChange={set('text')}
            placeholder="text in tool, arguments, reason, result…"
            spellCheck={false}
          />
        )}
      </Field>
      <Field label="From" className="time">
        {(p) => (
          <input
            {...p}
            type="datetime-local"
            value={draft.since}
            onChange={set('since')}
            step={1}
          />
        )}
      </Field>
      <Field label="To" className="time">
        {(p) => (
          <input
            {...p}
            type="datetime-local"
            value={draft.until}
            onChange={set('until')}
            step={1}
          />
        )}
      </Field>
      <button
        type="button"
        className="btn"
        onClick={() => onChange(EMPTY_FILTER)}
        disabled={!active}
      >
        Clear
      </button>
    </form>
  )
}
