/** The control API as React context: components reach it with `useApi()`, never a global. */
import { createContext, useContext } from 'react'
import type { AirlockApi } from '../../shared/contract/control-api'

/** Holds the API the entry chose (preload or WebSocket). */
export const ApiContext = createContext<AirlockApi | null>(null)

/** The control API; throws when rendered outside `<ApiContext.Provider>`. */
export function useApi(): AirlockApi {
  const api = useContext(ApiContext)
  if (!api) throw new Error('useApi() needs an <ApiContext.Provider> above it')
  return api
}
