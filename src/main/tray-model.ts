/**
 * The tray's state, kept from control events: pending approvals (requested − resolved), the
 * paused flag, the clients no longer protected (drift) and the gateway's health. Pure; the
 * adapter redraws the tray on each change.
 */
import type { GatewayState } from './gateway-host'
import type { TrayState } from './tray-menu'

/** Tray state fed by events. */
export class TrayModel {
  private readonly pending = new Set<string>()
  private paused = false
  private problem?: string
  private unprotected = 0

  constructor(
    private startAtLogin: boolean,
    private readonly onChange: (s: TrayState) => void = () => {},
  ) {}

  /** The current state. */
  get state(): TrayState {
    return {
      pending: this.pending.size,
      paused: this.paused,
      startAtLogin: this.startAtLogin,
      ...(this.problem ? { gatewayProblem: this.problem } : {}),
      ...(this.unprotected > 0 ? { unprotectedClients: this.unprotected } : {}),
    }
  }

  /** Applies a control event. */
  event(event: string, data: unknown): void {
    const d = (data ?? {}) as { id?: unknown; paused?: unknown }
    if (event === 'approval.requested' && typeof d.id === 'string') this.pending.add(d.id)
    else if (event === 'approval.resolved' && typeof d.id === 'string') this.pending.delete(d.id)
    else if (event === 'paused' && typeof d.paused === 'boolean') this.paused = d.paused
    else if (event === 'clients.changed') return this.clients(data)
    else return
    this.onChange(this.state)
  }

  /** Applies a protection summary (`clients.changed`, or `clients.status` on a (re)start): counts the clients that drifted. */
  clients(status: unknown): void {
    const drifted = (status as { drifted?: unknown } | undefined)?.drifted
    if (!Array.isArray(drifted)) return
    const clients = new Set(drifted.map((d) => (d as { client?: unknown }).client))
    if (clients.size === this.unprotected) return
    this.unprotected = clients.size
    this.onChange(this.state)
  }

  /** Replaces the pending set and paused flag (after `status.get`/`approvals.list` on a (re)start). */
  reset(pendingIds: string[], paused: boolean): void {
    this.pending.clear()
    for (const id of pendingIds) this.pending.add(id)
    this.paused = paused
    this.onChange(this.state)
  }

  /** Applies the gateway's state. */
  gateway(s: GatewayState): void {
    const problem =
      s.state === 'restarting' ? `restarting${s.lastError ? ` (${s.lastError})` : ''}` : undefined
    if (problem === this.problem) return
    this.problem = problem
    this.onChange(this.state)
  }

  /** Sets the start-at-login checkbox. */
  setStartAtLogin(on: boolean): void {
    this.startAtLogin = on
    this.onChange(this.state)
  }
}
