/**
 * The renderer's entry: the control API comes from the preload (`window.airlock`, Electron) or
 * over the WebSocket of `airlock serve` (a browser); everything else only speaks that API.
 */
import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { createApi, type AirlockApi } from '../../shared/contract/control-api'
import { App, type Connection } from './App'
import { createWsTransport } from './ws-transport'
import './styles.css'

let api: AirlockApi
let connection: Connection | undefined
if (window.airlock) {
  api = window.airlock
} else {
  const transport = createWsTransport()
  api = createApi(transport)
  connection = transport
}
const root = document.getElementById('root')
if (!root) throw new Error('index.html has no #root element')
createRoot(root).render(
  <StrictMode>
    <App api={api} desktop={window.airlock !== undefined} connection={connection} />
  </StrictMode>,
)
