/** Settings: the risk floor, approval timeout, audit retention, redaction and durability, start at login, pause. */
import { useEffect, useState, type FormEvent, type ReactNode } from 'react'
import type { Settings } from '../../../shared/contract/config'
import { ErrorNotice } from '../components/ErrorNotice'
import { Field } from '../components/Field'
import { Loading } from '../components/Loading'
import { useApi } from '../api-context'
import { errorMessage } from '../format'
import { useResource } from '../hooks/use-resource'

interface Draft {
  approvalTimeoutSeconds: string
  retentionDays: string
  redactKeys: string
  durability: Settings['audit']['durability']
  resultExcerpts: 'on' | 'off'
  defaultPosture: Settings['defaultPosture']
  riskFloor: Settings['riskFloor']
  pinning: Settings['pinning']
}

function draftOf(s: Settings): Draft {
  return {
    approvalTimeoutSeconds: String(s.approvalTimeoutSeconds),
    retentionDays: String(s.audit.retentionDays),
    redactKeys: s.audit.redactKeys.join(', '),
    durability: s.audit.durability,
    resultExcerpts: s.audit.resultExcerpts ? 'on' : 'off',
    defaultPosture: s.defaultPosture,
    riskFloor: s.riskFloor,
    pinning: s.pinning,
  }
}

function intIn(text: string, min: number, max: number, what: string): number {
  const n = Number(text)
  if (!Number.isInteger(n) || n < min || n > max)
    throw new Error(`${what}: expected a whole number from ${min} to ${max}`)
  return n
}

/** The Settings screen; `desktop` tells whether the Electron host (start at login) is there. */
export function SettingsScreen({
  desktop,
  paused,
  onPause,
}: {
  desktop: boolean
  paused: boolean
  onPause: (paused: boolean) => void
}) {
  const api = useApi()
  const settings = useResource(() => api.settings.get(), [api])
  // The user's changes; until the first one, the form shows the loaded settings.
  const [edited, setDraft] = useState<Draft | undefined>(undefined)
  const draft = edited ?? (settings.data ? draftOf(settings.data) : undefined)
  const [status, setStatus] = useState<{ kind: 'ok' | 'error'; message: string } | undefined>(
    undefined,
  )
  const [saving, setSaving] = useState(false)
  if (settings.error)
    return (
      <Frame>
        <ErrorNotice message={settings.error} onRetry={settings.reload} />
      </Frame>
    )
  if (!settings.data || !draft)
    return (
      <Frame>
        <Loading what="settings" />
      </Frame>
    )
  const current = settings.data

  const save = async (e: FormEvent): Promise<void> => {
    e.preventDefault()
    setStatus(undefined)
    let next: Settings
    try {
      next = {
        ...current,
        approvalTimeoutSeconds: intIn(draft.approvalTimeoutSeconds, 1, 3600, 'Approval timeout'),
        defaultPosture: draft.defaultPosture,
        riskFloor: draft.riskFloor,
        pinning: draft.pinning,
        audit: {
          ...current.audit,
          retentionDays: intIn(draft.retentionDays, 1, 3650, 'Audit retention'),
          redactKeys: draft.redactKeys
            .split(/[\n,]/)
            .map((k) => k.trim())
            .filter((k) => k !== ''),
          durability: draft.durability,
          resultExcerpts: draft.resultExcerpts === 'on',
        },
      }
    } catch (err) {
      setStatus({ kind: 'error', message: errorMessage(err) })
      return
    }
    setSaving(true)
    try {
      // The whole audit block is sent: a partial one would reset the fields left out.
      const saved = await api.settings.set({
        settings: {
          approvalTimeoutSeconds: next.approvalTimeoutSeconds,
          defaultPosture: next.defaultPosture,
          riskFloor: next.riskFloor,
          pinning: next.pinning,
          audit: next.audit,
        },
      })
      settings.set(saved)
      setDraft(undefined)
      setStatus({ kind: 'ok', message: 'Saved.' })
    } catch (err) {
      setStatus({ kind: 'error', message: errorMessage(err) })
    } finally {
      setSaving(false)
    }
  }

  const set =
    <K extends keyof Draft>(key: K) =>
    (e: { currentTarget: { value: string } }) =>
      setDraft({ ...draft, [key]: e.currentTarget.value as Draft[K] })

  return (
    <Frame>
      <form className="card form settings" onSubmit={(e) => void save(e)} aria-label="Settings">
        <div className="settings-grid">
          <fieldset>
            <legend>Approvals</legend>
            <Field
              label="Risk floor"
              hint="Tools of this risk or above wait for your Allow, even with no policy, unless the server's policy names them with a rule. Off leaves every tool to the policies."
            >
              {(p) => (
                <select {...p} value={draft.riskFloor} onChange={set('riskFloor')}>
                  <option value="critical">critical tools ask (default)</option>
                  <option value="high">high and critical tools ask</option>
                  <option value="off">off: only policies decide</option>
                </select>
              )}
            </Field>
            <Field
              label="Tool pinning"
              hint="Each tool's definition is pinned the first time it is seen. When a server changes it (an update, or planted instructions), its calls are refused until you accept the change in Tools & policy, or need your approval, which shows the change."
            >
              {(p) => (
                <select {...p} value={draft.pinning} onChange={set('pinning')}>
                  <option value="block">block changed tools (default)</option>
                  <option value="approve">ask me, showing the change</option>
                  <option value="off">off: changed tools run</option>
                </select>
              )}
            </Field>
            <Field
              label="Approval timeout (seconds)"
              hint="Unanswered requests are denied after this. Keep it under about 60 s: clients stop waiting then."
            >
              {(p) => (
                <input
                  {...p}
                  type="number"
                  min={1}
                  max={3600}
                  value={draft.approvalTimeoutSeconds}
                  onChange={set('approvalTimeoutSeconds')}
                />
              )}
            </Field>
            <Field
              label="Default posture for new servers"
              hint="Used in the policy proposed for a server added without one (critical tools always ask)."
            >
              {(p) => (
                <select {...p} value={draft.defaultPosture} onChange={set('defaultPosture')}>
                  <option value="allow">allow</option>
                  <option value="require_approval">require approval</option>
                  <option value="deny">deny</option>
                </select>
              )}
            </Field>
          </fieldset>
          <fieldset>
            <legend>Audit log</legend>
            <Field label="Keep records for (days)">
              {(p) => (
                <input
                  {...p}
                  type="number"
                  min={1}
                  max={3650}
                  value={draft.retentionDays}
                  onChange={set('retentionDays')}
                />
              )}
            </Field>
            <Field
              label="Redact argument keys"
              hint="Comma-separated. Values under these keys are never written to the log."
            >
              {(p) => (
                <input
                  {...p}
                  type="text"
                  value={draft.redactKeys}
                  onChange={set('redactKeys')}
                  placeholder="password, token, apiKey"
                  spellCheck={false}
                />
              )}
            </Field>
            <Field label="Durability">
              {(p) => (
                <select {...p} value={draft.durability} onChange={set('durability')}>
                  <option value="group">group commit (fast)</option>
                  <option value="strict">strict: fsync every record</option>
                </select>
              )}
            </Field>
            <Field
              label="Result excerpts"
              hint="The start of each tool result, secrets redacted. Applies when the gateway restarts."
            >
              {(p) => (
                <select {...p} value={draft.resultExcerpts} onChange={set('resultExcerpts')}>
                  <option value="on">kept, redacted</option>
                  <option value="off">off: results are not logged</option>
                </select>
              )}
            </Field>
          </fieldset>
          <fieldset>
            <legend>App</legend>
            <StartAtLoginField desktop={desktop} />
          </fieldset>
        </div>
        <div className="actions">
          <button type="submit" className="btn btn-primary" disabled={saving}>
            {saving ? 'Saving…' : 'Save settings'}
          </button>
        </div>
        {status ? (
          <p
            className={status.kind === 'ok' ? 'small text-good' : 'state-error small'}
            role={status.kind === 'ok' ? 'status' : 'alert'}
          >
            {status.message}
          </p>
        ) : null}
      </form>
      <section className="card" aria-labelledby="pause-title">
        <h3 id="pause-title">Pause</h3>
        <p className="small">
          {paused
            ? 'Paused: every tool call is denied until you resume.'
            : 'While paused, every tool call is denied (other MCP traffic still flows).'}
        </p>
        <button
          type="button"
          className={paused ? 'btn btn-primary' : 'btn btn-danger'}
          onClick={() => onPause(!paused)}
        >
          {paused ? 'Resume tool calls' : 'Pause all tool calls'}
        </button>
      </section>
    </Frame>
  )
}

/**
 * Start at login: a working checkbox when the host supports it (the desktop app), else disabled
 * with a note. Follows changes made elsewhere (the tray) through the `app.startAtLogin` event.
 */
function StartAtLoginField({ desktop }: { desktop: boolean }) {
  const api = useApi()
  const login = useResource(() => api.app.getStartAtLogin(), [api])
  const [busy, setBusy] = useState(false)
  const [problem, setProblem] = useState<string | undefined>(undefined)
  const { set } = login
  useEffect(() => api.on('app.startAtLogin', (s) => set(s)), [api, set])

  const supported = login.data?.supported === true
  const change = async (enabled: boolean): Promise<void> => {
    setBusy(true)
    setProblem(undefined)
    try {
      set(await api.app.setStartAtLogin({ enabled }))
    } catch (err) {
      setProblem(`Could not change start at login: ${errorMessage(err)}`)
      login.reload()
    } finally {
      setBusy(false)
    }
  }

  return (
    <>
      <label className="checkbox">
        <input
          type="checkbox"
          disabled={!supported || busy}
          checked={supported && login.data?.enabled === true}
          onChange={(e) => void change(e.currentTarget.checked)}
          aria-describedby="login-note"
        />
        Start at login
      </label>
      <p className="hint" id="login-note">
        {supported
          ? 'Starts Airlock hidden, in the tray, when you log in. Also in the tray menu.'
          : login.data || login.error
            ? desktop
              ? 'Set “Start at login” from the tray menu.'
              : 'Only in the desktop app: this page is served by airlock serve.'
            : 'Loading…'}
      </p>
      {supported && login.data?.note ? (
        <p className="state-warn small" data-testid="login-note-system">
          {login.data.note}
        </p>
      ) : null}
      {problem ? (
        <p className="state-error small" role="alert">
          {problem}
        </p>
      ) : null}
    </>
  )
}

function Frame({ children }: { children: ReactNode }) {
  return (
    <div className="screen" data-testid="screen-settings">
      <div className="screen-head">
        <h2>Settings</h2>
      </div>
      {children}
    </div>
  )
}
