/** Globals the renderer may find: the preload's control API in Electron, nothing in a browser. */
import type { AirlockApi } from '../../shared/contract/control-api'

declare global {
  interface Window {
    /** The control API exposed by the preload; absent when served by `airlock serve`. */
    airlock?: AirlockApi
  }
}

export {}
