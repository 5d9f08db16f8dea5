/**
 * The desktop app's own settings (start at login) and window state, kept with electron-store
 * (injected: anything with get/set). Values are parsed on read, so a hand-edited or corrupt
 * file falls back to defaults instead of breaking start-up. Gateway settings live in the
 * gateway's config.json, not here.
 */
import { z } from 'zod'

/** The key/value store (electron-store's `get`/`set`). */
export interface KeyValueStore {
  get(key: string): unknown
  set(key: string, value: unknown): void
}

/** The window's last bounds. */
export const windowStateSchema = z.object({
  x: z.number().int().optional(),
  y: z.number().int().optional(),
  width: z.number().int().min(480).max(10_000).default(1180),
  height: z.number().int().min(360).max(10_000).default(780),
  maximized: z.boolean().default(false),
})
export type WindowState = z.infer<typeof windowStateSchema>

/** A display's work area (Electron's `screen.getAllDisplays()[i].workArea`). */
export interface Rect {
  x: number
  y: number
  width: number
  height: number
}

/** The desktop settings. */
export class SettingsStore {
  constructor(private readonly store: KeyValueStore) {}

  /** Whether Airlock starts at login. */
  get startAtLogin(): boolean {
    return z.boolean().catch(false).parse(this.store.get('startAtLogin'))
  }

  set startAtLogin(value: boolean) {
    this.store.set('startAtLogin', value)
  }

  /** The saved window state, or defaults. */
  windowState(): WindowState {
    const parsed = windowStateSchema.safeParse(this.store.get('window') ?? {})
    return parsed.success ? parsed.data : windowStateSchema.parse({})
  }

  /** Saves the window state. */
  saveWindowState(state: WindowState): void {
    const parsed = windowStateSchema.safeParse(state)
    if (parsed.success) this.store.set('window', parsed.data)
  }
}

/**
 * The bounds to open a window with: the saved ones when their top-left area is on one of the
 * displays, else just the saved size (the OS centres it) — a window is never restored off-screen.
 */
export function restoreBounds(
  saved: WindowState,
  displays: readonly Rect[],
): { x?: number; y?: number; width: number; height: number } {
  const size = { width: saved.width, height: saved.height }
  if (saved.x === undefined || saved.y === undefined) return size
  const { x, y } = saved
  const visible = displays.some(
    (d) =>
      x + 100 <= d.x + d.width &&
      x + saved.width - 100 >= d.x &&
      y >= d.y &&
      y + 40 <= d.y + d.height,
  )
  return visible ? { x, y, ...size } : size
}
