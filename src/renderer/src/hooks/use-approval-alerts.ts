/**
 * Makes a waiting approval hard to miss in a browser tab: the count in the title ("(2) Airlock"),
 * a badge on the favicon, and a system notification for each new request (permission asked on
 * the first visit). Everything shown is agent-written text, so it goes out as plain text, cut.
 */
import { useEffect, useRef } from 'react'
import type { PendingApprovalView } from '../../../shared/contract/control-api'
import { approvalHeadline } from '../../../shared/approval-answers'

const ICON_SIZE = 32

/** The favicon with a red badge showing `count` (a plain shield when 0), as a data URL. */
function badgeIcon(count: number): string | undefined {
  const canvas = document.createElement('canvas')
  canvas.width = ICON_SIZE
  canvas.height = ICON_SIZE
  const g = canvas.getContext?.('2d')
  if (!g) return undefined
  g.fillStyle = '#2f6fed'
  g.beginPath()
  g.moveTo(16, 2)
  g.lineTo(28, 7)
  g.lineTo(27, 18)
  g.quadraticCurveTo(24, 27, 16, 30)
  g.quadraticCurveTo(8, 27, 5, 18)
  g.lineTo(4, 7)
  g.closePath()
  g.fill()
  if (count > 0) {
    g.fillStyle = '#d92d20'
    g.beginPath()
    g.arc(22, 10, 10, 0, Math.PI * 2)
    g.fill()
    g.fillStyle = '#ffffff'
    g.font = 'bold 14px sans-serif'
    g.textAlign = 'center'
    g.textBaseline = 'middle'
    g.fillText(count > 9 ? '9+' : String(count), 22, 11)
  }
  return canvas.toDataURL('image/png')
}

function setFavicon(href: string): void {
  let link = document.querySelector<HTMLLinkElement>('link[rel="icon"]')
  if (!link) {
    link = document.createElement('link')
    link.rel = 'icon'
    document.head.appendChild(link)
  }
  link.href = href
}

const cut = (text: string, n: number): string => (text.length > n ? `${text.slice(0, n)}…` : text)

/**
 * Follows `pending`: title count and favicon badge always; system notifications when `notify`
 * (the browser UI; the desktop app has its own dialogs and tray count).
 */
export function useApprovalAlerts(
  pending: readonly PendingApprovalView[],
  loading: boolean,
  notify: boolean,
): void {
  const baseTitle = useRef<string | undefined>(undefined)
  const notified = useRef(new Map<string, Notification | undefined>())
  const primed = useRef(false)

  // Ask for permission on the first visit (and on the first click, where a browser wants a gesture).
  useEffect(() => {
    if (!notify || typeof Notification === 'undefined' || Notification.permission !== 'default')
      return
    const ask = (): void => {
      if (Notification.permission === 'default') void Notification.requestPermission()
    }
    ask()
    window.addEventListener('click', ask, { once: true })
    return () => window.removeEventListener('click', ask)
  }, [notify])

  useEffect(() => {
    baseTitle.current ??= document.title.replace(/^\(\d+\+?\) /, '')
    const n = pending.length
    document.title = n > 0 ? `(${n}) ${baseTitle.current}` : baseTitle.current
    const icon = badgeIcon(n)
    if (icon) setFavicon(icon)

    const shown = notified.current
    const ids = new Set(pending.map((p) => p.id))
    for (const [id, note] of shown) {
      if (!ids.has(id)) {
        note?.close()
        shown.delete(id)
      }
    }
    if (loading) return
    // Requests already waiting when the page loaded are on screen: notify the new ones.
    const first = !primed.current
    primed.current = true
    for (const p of pending) {
      if (shown.has(p.id)) continue
      let note: Notification | undefined
      if (
        !first &&
        notify &&
        typeof Notification !== 'undefined' &&
        Notification.permission === 'granted'
      ) {
        note = new Notification(`Airlock: allow "${cut(p.tool, 60)}"?`, {
          body: cut(`${approvalHeadline(p)}${p.reason ? ` — ${p.reason}` : ''}`, 240),
          tag: p.id,
          requireInteraction: true,
        })
        note.onclick = () => window.focus()
      }
      shown.set(p.id, note)
    }
  }, [pending, loading, notify])
}
