/**
 * The tray as data: a pure function from the app's state to the menu items, the tooltip and the
 * icon variant. Every action is in the menu, since tray clicks are unreliable on Linux.
 */

/** What the tray shows. */
export interface TrayState {
  pending: number
  paused: boolean
  startAtLogin: boolean
  /** Set while the gateway is down (restarting); shown in the tooltip and the menu. */
  gatewayProblem?: string
  /** Clients with a wrapped entry not protected now (rewritten back, or broken). Absent when none. */
  unprotectedClients?: number
}

/** What a menu item does when clicked. */
export type TrayAction =
  'open' | 'open-approvals' | 'open-clients' | 'toggle-pause' | 'toggle-start-at-login' | 'quit'

/** The window screen an action opens on (`#screen=` for a new window, `ui.show` for an open one). */
export function screenOf(action: TrayAction): 'approvals' | 'clients' | undefined {
  if (action === 'open-approvals') return 'approvals'
  if (action === 'open-clients') return 'clients'
  return undefined
}

/** One menu item (mapped 1:1 to Electron's MenuItemConstructorOptions by the adapter). */
export type TrayItem =
  | { type: 'normal'; id: TrayAction; label: string; enabled: boolean }
  | { type: 'checkbox'; id: TrayAction; label: string; checked: boolean }
  | { type: 'separator' }
  | { type: 'label'; label: string }

/** The icon variants (resources drawn by tray-icons.ts). */
export type TrayIconVariant = 'idle' | 'pending' | 'paused'

/** The tray's whole presentation for a state. */
export interface TrayView {
  items: TrayItem[]
  tooltip: string
  icon: TrayIconVariant
  /** A short text next to the icon where the platform shows one (macOS). */
  title: string
}

/** Builds the tray's items, tooltip and icon from its state. */
export function trayView(s: TrayState): TrayView {
  const pending = Math.max(0, Math.floor(s.pending))
  const unprotected = Math.max(0, Math.floor(s.unprotectedClients ?? 0))
  const notProtected = `${unprotected} client${unprotected === 1 ? '' : 's'} not protected`
  const items: TrayItem[] = [
    { type: 'normal', id: 'open', label: 'Open Airlock', enabled: true },
    {
      type: 'normal',
      id: 'open-approvals',
      label: `Pending approvals (${pending})`,
      enabled: pending > 0,
    },
    ...(unprotected > 0
      ? ([
          {
            type: 'normal',
            id: 'open-clients',
            label: `${notProtected} — Re-protect…`,
            enabled: true,
          },
        ] as TrayItem[])
      : []),
    { type: 'separator' },
    { type: 'checkbox', id: 'toggle-pause', label: 'Pause all tool calls', checked: s.paused },
    {
      type: 'checkbox',
      id: 'toggle-start-at-login',
      label: 'Start at login',
      checked: s.startAtLogin,
    },
    ...(s.gatewayProblem
      ? ([
          { type: 'separator' },
          { type: 'label', label: `Gateway: ${s.gatewayProblem.slice(0, 80)}` },
        ] as TrayItem[])
      : []),
    { type: 'separator' },
    { type: 'normal', id: 'quit', label: 'Quit', enabled: true },
  ]
  const parts = ['Airlock']
  if (pending > 0) parts.push(`${pending} approval${pending === 1 ? '' : 's'} waiting`)
  if (unprotected > 0) parts.push(notProtected)
  if (s.paused) parts.push('paused: every tool call is denied')
  if (s.gatewayProblem) parts.push(`gateway: ${s.gatewayProblem.slice(0, 80)}`)
  return {
    items,
    tooltip: parts.join(' — '),
    icon: pending > 0 ? 'pending' : s.paused ? 'paused' : 'idle',
    title: pending > 0 ? String(pending) : '',
  }
}
