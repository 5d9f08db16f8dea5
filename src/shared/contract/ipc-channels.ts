/**
 * The two IPC channels of the control API. Only main and the preload know them; the renderer
 * sees named methods on `window.airlock`, never a channel.
 */

/** `ipcRenderer.invoke(CALL_CHANNEL, method, params)` → a CallReply. */
export const CALL_CHANNEL = 'airlock:control-call'
/** `webContents.send(EVENT_CHANNEL, event, data)`. */
export const EVENT_CHANNEL = 'airlock:control-event'

/** What a call resolves to over IPC: errors travel as data so their name and code survive. */
export type CallReply =
  | { ok: true; result: unknown }
  | { ok: false; error: { name: string; message: string; code?: string } }
