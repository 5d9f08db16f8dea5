/**
 * The preload (sandboxed, bundled): exposes the control API as `window.airlock` — named,
 * typed methods and `on` subscriptions. Neither ipcRenderer nor a channel name is exposed.
 */
import { contextBridge, ipcRenderer } from 'electron'
import { createApi } from '../shared/contract/control-api'
import { createIpcTransport } from './ipc-transport'

contextBridge.exposeInMainWorld('airlock', createApi(createIpcTransport(ipcRenderer)))
