/**
 * Tools & policy: per server, its tools with risk badges and, per tool, an action, rate limit and
 * reason; the default posture; the policy text with inline validation; save, import and export.
 * Form edits rewrite the text (see policy-edit.ts); the text is what is saved.
 */
import {
  useCallback,
  useEffect,
  useMemo,
  useRef,
  useState,
  type ChangeEvent,
  type ReactNode,
} from 'react'
import type {
  GrantView,
  ProtectionView,
  ResultOf,
  ToolView,
} from '../../../shared/contract/control-api'
import { EmptyState } from '../components/EmptyState'
import { ErrorNotice } from '../components/ErrorNotice'
import { Field } from '../components/Field'
import { Loading } from '../components/Loading'
import { PinBanners } from '../components/PinReview'
import { PolicyHistory } from '../components/PolicyHistory'
import { PolicyYamlEditor } from '../components/PolicyYamlEditor'
import { ProtectionNote } from '../components/ProtectionNote'
import { ReplayPreview } from '../components/ReplayPreview'
import { TryCall } from '../components/TryCall'
import { ToolPolicyRow } from '../components/ToolPolicyRow'
import { useApi } from '../api-context'
import { downloadText } from '../download'
import { errorMessage } from '../format'
import {
  parsePolicyText,
  patternEntries,
  readDefault,
  readToolSetting,
  writeDefault,
  writeToolSetting,
  type PatternRule,
  type Posture,
  type ToolSetting,
  toolIssue,
} from '../policy-edit'
import { useApiEvent } from '../hooks/use-api-event'
import { useDebounced } from '../hooks/use-debounced'
import { useGrants } from '../hooks/use-grants'
import { useResource } from '../hooks/use-resource'

type Issue = ResultOf<'policy.validate'>['errors'][number]

const GLOB = /[*?[\]{}]/
const NO_GRANTS: readonly GrantView[] = []

/** A pattern rule in words: "ask when 2 conditions match, at most 10/minute, for cursor". */
function patternRuleWords(r: PatternRule): string {
  const action = r.action === 'require_approval' ? 'ask' : r.action === 'evaluate' ? '' : r.action
  const parts = [
    action +
      (r.conditions > 0
        ? `${action ? ' ' : ''}when ${r.conditions} condition${r.conditions === 1 ? '' : 's'} match`
        : ''),
    r.rateLimit ? `at most ${r.rateLimit}` : '',
    r.clients ? `for ${r.clients}` : '',
  ].filter((x) => x !== '')
  return parts.length > 0 ? parts.join(', ') : 'no effect on its own'
}

/** The Tools & policy screen. */
export function PolicyScreen() {
  const api = useApi()
  const servers = useResource(() => api.servers.list(), [api])
  useApiEvent('servers.changed', servers.reload)
  const names = useMemo(() => (servers.data ?? []).map((s) => s.config.name), [servers.data])
  const [server, setServer] = useState<string | undefined>(undefined)
  const [dirty, setDirty] = useState(false)
  const pick = (next: string): void => {
    if (next === server) return
    if (dirty && !window.confirm(`Discard the unsaved changes to the policy of ${server}?`)) return
    setDirty(false)
    setServer(next)
  }
  // No server picked, or it is gone: the first one (set while rendering, as React adjusts state
  // to new props, so no frame shows the stale pick).
  if (names.length > 0 && (server === undefined || !names.includes(server))) setServer(names[0])

  if (servers.error)
    return (
      <Shell>
        <ErrorNotice message={servers.error} onRetry={servers.reload} />
      </Shell>
    )
  if (!servers.data)
    return (
      <Shell>
        <Loading what="servers" />
      </Shell>
    )
  if (names.length === 0 || server === undefined)
    return (
      <Shell>
        <EmptyState title="No servers yet." testId="policy-empty">
          Add a server first (Servers); its tools and policy are edited here.
        </EmptyState>
      </Shell>
    )
  return (
    <Shell
      picker={
        <Field label="Server" className="inline">
          {(p) => (
            <select {...p} value={server} onChange={(e) => pick(e.currentTarget.value)}>
              {names.map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </select>
          )}
        </Field>
      }
    >
      <PinBanners current={server} onPick={pick} />
      <ServerPolicy
        key={server}
        server={server}
        onDirty={setDirty}
        protection={servers.data.find((s) => s.config.name === server)?.protection}
      />
    </Shell>
  )
}

function Shell({ picker, children }: { picker?: ReactNode; children: ReactNode }) {
  return (
    <div className="screen" data-testid="screen-policy">
      <div className="screen-head">
        <h2>Tools &amp; policy</h2>
        <div className="actions">{picker}</div>
      </div>
      {children}
    </div>
  )
}

function ServerPolicy({
  server,
  onDirty,
  protection,
}: {
  server: string
  onDirty: (dirty: boolean) => void
  /** What the saved policy and the risk floor do now, in the words of the other screens. */
  protection: ProtectionView | undefined
}) {
  const api = useApi()
  const policy = useResource(() => api.policy.get({ server }), [api, server])
  const tools = useResource(() => api.tools.list({ server }), [api, server])
  const grants = useGrants()
  // This server's grants by tool; each tool's list keeps its identity while its grants don't change.
  const grantsByTool = useMemo(() => {
    const by = new Map<string, GrantView[]>()
    for (const g of grants.list) {
      if (g.server !== server) continue
      const list = by.get(g.tool)
      if (list) list.push(g)
      else by.set(g.tool, [g])
    }
    return by
  }, [grants.list, server])
  const { revoke } = grants
  const onRevoke = useCallback((id: string) => void revoke(id), [revoke])
  const [text, setText] = useState<string | undefined>(undefined)
  // The text as loaded or last saved (a proposal too): only edits after it are "unsaved".
  const [saved, setSaved] = useState<string | undefined>(undefined)
  const [savedOnce, setSavedOnce] = useState(false)
  const [generation, setGeneration] = useState(0)
  // The issues of the last check (a validation, or a refused save) and the settled text then.
  const [checked, setChecked] = useState<{
    settled: string | undefined
    issues: readonly Issue[]
  }>()
  const [status, setStatus] = useState<{ kind: 'ok' | 'error'; message: string } | undefined>(
    undefined,
  )
  const [busy, setBusy] = useState<string | undefined>(undefined)

  // The loaded text becomes the editor's text (only the first time: later loads are refreshes).
  if (policy.data && saved === undefined) {
    setText(policy.data.text)
    setSaved(policy.data.text)
  }

  // Validate the text as it changes.
  const settled = useDebounced(text, 300)
  useEffect(() => {
    if (settled === undefined) return
    let live = true
    const found = (issues: readonly Issue[]): void => {
      if (live) setChecked({ settled, issues })
    }
    api.policy.validate({ text: settled }).then(
      (r) => found(r.errors),
      (err: unknown) =>
        found([{ file: '', path: '', expected: errorMessage(err), message: errorMessage(err) }]),
    )
    return () => {
      live = false
    }
  }, [api, settled])

  // Unknown (being checked) from each new settled text until its check answers.
  const issues = checked && checked.settled === settled ? checked.issues : undefined
  const parsed = useMemo(() => (text === undefined ? undefined : parsePolicyText(text)), [text])
  const isDirty = text !== undefined && text !== saved
  useEffect(() => onDirty(isDirty), [isDirty, onDirty])
  // A proposal is not in force until saved: it may be saved unchanged.
  const proposed = policy.data?.proposed === true && !savedOnce
  const invalid =
    parsed !== undefined && !parsed.ok
      ? `the text does not parse (${parsed.message})`
      : issues !== undefined && issues.length > 0
        ? `${issues.length} ${issues.length === 1 ? 'error' : 'errors'} in the policy`
        : undefined
  const patterns = useMemo(() => (parsed?.ok ? patternEntries(parsed.doc) : []), [parsed])
  const posture = parsed?.ok ? readDefault(parsed.doc) : undefined

  const rows = useMemo(() => {
    const list = tools.data ?? []
    const byName = new Map<string, ToolView>(list.map((t) => [t.name, t]))
    const names = list.map((t) => t.name)
    if (parsed?.ok) {
      // Tools the policy names exactly but no session has shown (yet).
      const js = parsed.doc.toJS() as { tools?: Record<string, unknown>; hide?: unknown }
      const extra = [
        ...Object.keys(js.tools ?? {}),
        ...(Array.isArray(js.hide)
          ? js.hide.filter((h): h is string => typeof h === 'string')
          : []),
      ]
      for (const n of extra)
        if (!GLOB.test(n) && !byName.has(n) && !names.includes(n)) names.push(n)
    }
    // A tool with a grant has a row (where its Revoke is), even if no session listed it yet.
    for (const n of grantsByTool.keys()) if (!byName.has(n) && !names.includes(n)) names.push(n)
    return names.map((name) => ({
      name,
      tool: byName.get(name),
      setting: parsed?.ok
        ? readToolSetting(parsed.doc, name)
        : { action: 'default' as const, rateLimit: '', reason: '' },
    }))
  }, [tools.data, parsed, grantsByTool])

  // The latest text, for edits that finish after an await (a cell's check).
  const textRef = useRef(text)
  useEffect(() => {
    textRef.current = text
  }, [text])
  // Cell edits apply one after another: each starts from the text the previous one left, so two
  // quick edits (an action, then its reason) cannot overwrite each other while a check is awaited.
  const editQueue = useRef<Promise<unknown>>(Promise.resolve())
  const onToolChange = useCallback(
    (name: string, setting: ToolSetting): Promise<string | undefined> => {
      const apply = async (): Promise<string | undefined> => {
        let next: string
        try {
          next = writeToolSetting(textRef.current ?? '', name, setting)
        } catch (err) {
          return errorMessage(err)
        }
        // The gateway's own policy check: the cell shows what the YAML editor would.
        try {
          const v = await api.policy.validate({ text: next })
          const problem = toolIssue(v.errors, name)
          if (problem !== undefined) return problem
        } catch (err) {
          return `Could not check the policy: ${errorMessage(err)}`
        }
        textRef.current = next
        setText(next)
        setStatus(undefined)
        return undefined
      }
      const result = editQueue.current.then(apply)
      editQueue.current = result.catch(() => undefined)
      return result
    },
    [api],
  )

  const onPosture = (p: Posture): void => {
    try {
      setText(writeDefault(text ?? '', p))
    } catch (err) {
      setStatus({ kind: 'error', message: errorMessage(err) })
    }
  }

  const save = async (): Promise<void> => {
    if (text === undefined) return
    setBusy('save')
    setStatus(undefined)
    try {
      const r = await api.policy.set({ server, text })
      if (r.ok) {
        afterSave(text, 'Saved. The next call uses this policy.')
      } else {
        setChecked({ settled, issues: r.errors })
        setStatus({
          kind: 'error',
          message: `Not saved: ${r.errors.length} ${r.errors.length === 1 ? 'error' : 'errors'} in the policy.`,
        })
      }
    } catch (err) {
      setStatus({ kind: 'error', message: `Not saved: ${errorMessage(err)}` })
    } finally {
      setBusy(undefined)
    }
  }

  /** After a save (or a restore): the text is the saved one; path, tools and history reload. */
  function afterSave(next: string, message: string): void {
    setText(next)
    setSaved(next)
    setSavedOnce(true)
    setGeneration((g) => g + 1)
    setStatus({ kind: 'ok', message })
    policy.reload()
    tools.reload()
  }

  const discover = async (): Promise<void> => {
    setBusy('discover')
    try {
      tools.set(await api.tools.list({ server, discover: true }))
    } catch (err) {
      setStatus({ kind: 'error', message: `Discovery failed: ${errorMessage(err)}` })
    } finally {
      setBusy(undefined)
    }
  }

  const importFile = async (e: ChangeEvent<HTMLInputElement>): Promise<void> => {
    const file = e.currentTarget.files?.[0]
    e.currentTarget.value = ''
    if (!file) return
    if (file.size > 1024 * 1024) {
      setStatus({
        kind: 'error',
        message: `${file.name} is larger than 1 MB; a policy file is much smaller.`,
      })
      return
    }
    setText(await file.text())
    setStatus({ kind: 'ok', message: `Imported ${file.name}. Review it, then Save.` })
  }

  const exportFile = (): void => {
    if (text === undefined) return
    const json = parsed?.ok ? parsed.json : false
    downloadText(
      `${server}.policy.${json ? 'json' : 'yaml'}`,
      text,
      json ? 'application/json' : 'application/yaml',
    )
  }

  if (policy.error) return <ErrorNotice message={policy.error} onRetry={policy.reload} />
  if (text === undefined) return <Loading what={`the policy of ${server}`} />
  const dirty = isDirty

  return (
    <div className="policy-layout">
      <section className="panel" aria-labelledby="tools-title">
        <div className="panel-head">
          <h3 id="tools-title">Tools</h3>
          <Field label="Default posture" className="inline">
            {(p) => (
              <select
                {...p}
                value={posture ?? ''}
                onChange={(e) => onPosture(e.currentTarget.value as Posture)}
                disabled={!parsed?.ok}
              >
                {posture === undefined ? <option value="">(not set: allow)</option> : null}
                <option value="allow">allow</option>
                <option value="require_approval">require approval</option>
                <option value="deny">deny</option>
              </select>
            )}
          </Field>
          <button
            type="button"
            className="btn"
            onClick={() => void discover()}
            disabled={busy !== undefined}
          >
            {busy === 'discover' ? 'Discovering…' : 'Discover tools'}
          </button>
        </div>
        <p className="small" data-testid="tools-protection">
          <ProtectionNote protection={protection} />
        </p>
        {grants.revokeError ? <ErrorNotice message={`Not revoked: ${grants.revokeError}`} /> : null}
        {parsed && !parsed.ok ? (
          <p className="state-error small">
            The form is read-only until the text parses: {parsed.message}
          </p>
        ) : null}
        <ul
          className="policy-legend small"
          aria-label="What the actions do"
          data-testid="policy-legend"
        >
          <li>
            <strong>allow</strong>: the call runs without asking.
          </li>
          <li>
            <strong>ask</strong> (require approval): the call waits until you Allow or Deny it.
          </li>
          <li>
            <strong>deny</strong>: the agent still sees the tool, and a call gets an error with the
            reason.
          </li>
          <li>
            <strong>hide</strong>: the tool is removed from the agent&apos;s list, and a call is
            answered as for a tool that does not exist.
          </li>
        </ul>
        {patterns.length > 0 ? (
          <div className="pattern-rules small" data-testid="pattern-rules">
            <h4>Rules for several tools</h4>
            <ul className="plain-list">
              {patterns.map((p) => (
                <li key={p.pattern} data-pattern={p.pattern}>
                  <span className="mono strong">
                    {p.pattern === '*' ? '* (every tool)' : p.pattern}
                  </span>
                  {p.rules.length === 0 ? <span className="muted"> no rules</span> : null}
                  {p.rules.map((r, i) => (
                    <span key={i} className="pattern-rule">
                      {' '}
                      · “{r.name}”: {patternRuleWords(r)}
                    </span>
                  ))}
                </li>
              ))}
            </ul>
            <p className="muted">
              Edit these in the policy text; the table sets one tool at a time.
            </p>
          </div>
        ) : null}
        {tools.error ? (
          <ErrorNotice message={tools.error} onRetry={tools.reload} />
        ) : tools.loading && !tools.data ? (
          <Loading what="tools" />
        ) : rows.length === 0 ? (
          <EmptyState title="No tools known yet." testId="tools-empty">
            Tools are listed once an agent connects, or now with “Discover tools” (starts the server
            briefly).
          </EmptyState>
        ) : (
          <div className="tool-table" role="grid" aria-label={`Tools of ${server}`}>
            <div className="tool-row head" role="row">
              <div role="columnheader">Tool</div>
              <div role="columnheader">Risk</div>
              <div role="columnheader">Saved policy</div>
              <div role="columnheader">Action</div>
              <div role="columnheader">Rate limit</div>
              <div role="columnheader">Reason</div>
              <div role="columnheader">Clients</div>
            </div>
            {rows.map((r) => (
              <ToolPolicyRow
                key={r.name}
                name={r.name}
                tool={r.tool}
                setting={r.setting}
                posture={posture}
                disabled={!parsed?.ok}
                onChange={onToolChange}
                grants={grantsByTool.get(r.name) ?? NO_GRANTS}
                onRevoke={onRevoke}
              />
            ))}
          </div>
        )}
      </section>
      <div className="policy-side">
        <section className="panel" aria-labelledby="yaml-title">
          <div className="panel-head">
            <h3 id="yaml-title">Policy file</h3>
            <span
              className="small muted ellipsis"
              title={policy.data?.path}
              data-testid="policy-path"
            >
              {proposed
                ? 'proposed (not saved yet)'
                : policy.data?.copiedOnSave
                  ? `${policy.data.path ?? 'inline in config.json'} (Save keeps a copy in the data directory; this file is not changed)`
                  : (policy.data?.path ?? 'inline')}
            </span>
            {dirty ? <span className="badge tone-warn">unsaved</span> : null}
          </div>
          <PolicyYamlEditor text={text} issues={issues} onChange={setText} />
          <div className="actions">
            <button
              type="button"
              className="btn btn-primary"
              onClick={() => void save()}
              disabled={busy !== undefined || (!dirty && !proposed) || invalid !== undefined}
              title={invalid ? `Fix the policy first: ${invalid}` : undefined}
            >
              {busy === 'save' ? 'Saving…' : 'Save policy'}
            </button>
            <button
              type="button"
              className="btn"
              onClick={() => setText(saved ?? policy.data?.text ?? '')}
              disabled={!dirty}
            >
              Revert
            </button>
            <label className="btn file-button">
              Import…
              <input
                type="file"
                accept=".yaml,.yml,.json,application/json,application/yaml,text/yaml"
                onChange={(e) => void importFile(e)}
              />
            </label>
            <button type="button" className="btn" onClick={exportFile}>
              Export
            </button>
          </div>
          {invalid !== undefined && (dirty || proposed) ? (
            <p className="small state-error" data-testid="save-blocked">
              Save is off until the policy is valid: {invalid}.
            </p>
          ) : null}
          {dirty && settled === text && issues !== undefined && issues.length === 0 ? (
            <ReplayPreview server={server} text={text} />
          ) : null}
          {status ? (
            <p
              className={status.kind === 'ok' ? 'small text-good' : 'state-error small'}
              role={status.kind === 'ok' ? 'status' : 'alert'}
              data-testid="policy-status"
            >
              {status.message}
            </p>
          ) : null}
        </section>
        <TryCall
          server={server}
          tools={rows.map((r) => r.name)}
          editedText={dirty && parsed?.ok && invalid === undefined ? text : undefined}
        />
        <PolicyHistory
          server={server}
          generation={generation}
          onRestored={(t) => afterSave(t, 'Restored that version; the next call uses it.')}
        />
      </div>
    </div>
  )
}
