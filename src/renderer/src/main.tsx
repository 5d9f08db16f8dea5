/**
 * The renderer's entry: the control API comes from the preload (`window.airlock`, Electron) or
 * over the WebSocket of `airlock serve` (a browser); everything else only speaks that API.
 */
import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { createApi } from '../../shared/control-api'
import { App } from './App'
import { createWsTransport } from './ws-transport'
import './styles.css'

const desktop = window.airlock !== undefined
const api = window.airlock ?? createApi(createWsTransport())
const root = document.getElementById('root')
if (!root) throw new Error('index.html has no #root element')
createRoot(root).render(
  <StrictMode>
    <App api={api} desktop={desktop} />
  </StrictMode>,
)
