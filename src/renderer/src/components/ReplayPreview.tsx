/**
 * What an unsaved policy would change: the server's recorded calls decided again by the draft
 * (control API `policy.replay`), per tool was → would be, with counts and a few examples. Shown
 * on Tools & policy before Save.
 */
import { useEffect, useState } from 'react'
import type { ReplayReportView } from '../../../shared/contract/control-api'
import { useApi } from '../api-context'
import { errorMessage } from '../format'

const LABEL: Record<string, string> = {
  allow: 'allowed',
  deny: 'denied',
  hidden: 'hidden',
  rate_limited: 'rate limited',
  require_approval: 'asks',
}

type Answer = { kind: 'report'; report: ReplayReportView } | { kind: 'error'; message: string }

/** Props: the draft `text` (already checked valid by the caller) of `server`. */
export function ReplayPreview({ server, text }: { server: string; text: string }) {
  const api = useApi()
  // The answer for the draft it was asked for: until this draft's comes, it is loading.
  const [answer, setAnswer] = useState<{ server: string; text: string; state: Answer }>()
  const state: Answer | { kind: 'loading' } =
    answer?.server === server && answer.text === text ? answer.state : { kind: 'loading' }
  useEffect(() => {
    let live = true
    const settle = (next: Answer): void => {
      if (live) setAnswer({ server, text, state: next })
    }
    api.policy.replay({ server, text }).then(
      (r) =>
        settle(
          r.ok
            ? { kind: 'report', report: r.report }
            : { kind: 'error', message: 'the draft has errors (see the policy file)' },
        ),
      (err: unknown) => settle({ kind: 'error', message: errorMessage(err) }),
    )
    return () => {
      live = false
    }
  }, [api, server, text])

  return (
    <div className="replay-preview" data-testid="replay-preview" aria-live="polite">
      <h4>Before you save: recorded calls, decided again</h4>
      {state.kind === 'loading' ? (
        <p className="small muted">Replaying the recorded calls…</p>
      ) : state.kind === 'error' ? (
        <p className="state-error small">Could not replay: {state.message}</p>
      ) : state.report.calls === 0 ? (
        <p className="small muted" data-testid="replay-summary">
          No recorded calls of {server} yet: nothing to compare.
        </p>
      ) : (
        <>
          <p className="small" data-testid="replay-summary">
            {state.report.changed === 0
              ? `Nothing would change for the ${state.report.calls} recorded calls.`
              : `${state.report.changed} of ${state.report.calls} recorded calls would be decided differently.`}
          </p>
          <ul className="replay-tools">
            {state.report.tools
              .filter((t) => t.changes.length > 0)
              .map((t) => (
                <li key={t.tool} data-testid="replay-tool" data-tool={t.tool}>
                  <span className="mono strong">{t.tool}</span>{' '}
                  <span className="small muted">
                    {t.calls - t.unchanged} of {t.calls}
                  </span>
                  <ul>
                    {t.changes.map((c) => (
                      <li key={`${c.was}-${c.wouldBe}`} className="small">
                        <span data-testid="replay-change">
                          {LABEL[c.was] ?? c.was} → {LABEL[c.wouldBe] ?? c.wouldBe}: {c.count}
                        </span>
                        {c.examples.map((e) => (
                          <div key={e.seq} className="muted mono ellipsis" title={e.args}>
                            #{e.seq} {e.ts.slice(0, 19).replace('T', ' ')}
                            {e.client ? ` ${e.client}` : ''} {e.args}
                            {e.reason ? ` — ${e.reason}` : ''}
                          </div>
                        ))}
                      </li>
                    ))}
                  </ul>
                </li>
              ))}
          </ul>
        </>
      )}
    </div>
  )
}
