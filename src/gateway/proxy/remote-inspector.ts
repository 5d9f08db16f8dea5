/**
 * Lists a remote server's tools before any agent connected (the Tools screen, proposed
 * policies): the SDK Client over Streamable HTTP, falling back to HTTP+SSE on a 4xx, time-capped.
 */
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js'
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js'
import type { ServerConfig } from '../../shared/contract/config'
import { SignInRequiredError } from './oauth-client'
import { describe, type RemoteTransport } from './http-upstream'
import { InspectionError, toListedTool, type ListedTool } from './tool-inspector'

const MAX_PAGES = 100

/** How a connection to a remote that uses OAuth authenticates: its provider and its fetch. */
export interface RemoteAuth {
  authProvider: OAuthClientProvider
  /** Shares the provider's token refreshes with the server's other connections. */
  fetch: FetchLike
}

/**
 * The tools of remote server `server` (with `headers`, secrets included). Rejects with an
 * {@link InspectionError} naming the URL and what went wrong; the connection is always closed.
 */
export async function inspectRemoteTools(
  server: ServerConfig & { url: string },
  headers: Record<string, string>,
  timeoutMs: number,
  /** The server's OAuth client (stored tokens only: discovery never starts a sign-in). */
  auth?: RemoteAuth,
  /** Told which transport the server answered on, once connected. */
  onTransport?: (transport: RemoteTransport) => void,
): Promise<ListedTool[]> {
  const opts = { requestInit: { headers }, ...auth }
  const url = new URL(server.url)
  // Loaded here, not at the gateway's start (idle memory).
  const [
    { Client },
    { StreamableHTTPClientTransport, StreamableHTTPError },
    { SSEClientTransport },
  ] = await Promise.all([
    import('@modelcontextprotocol/sdk/client/index.js'),
    import('@modelcontextprotocol/sdk/client/streamableHttp.js'),
    import('@modelcontextprotocol/sdk/client/sse.js'),
  ])
  const client = new Client({ name: 'airlock-inspector', version: '1.0.0' })
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new InspectionError(
            `"${server.name}" at ${server.url} did not list its tools within ${Math.round(timeoutMs / 1000)} s`,
            'INSPECT_TIMEOUT',
          ),
        ),
      timeoutMs,
    )
  })
  const run = async (): Promise<ListedTool[]> => {
    let transport: RemoteTransport = 'streamable-http'
    try {
      await client.connect(new StreamableHTTPClientTransport(url, opts))
    } catch (err) {
      const status = err instanceof StreamableHTTPError ? err.code : undefined
      if (status === undefined || status < 400 || status >= 500 || status === 401 || status === 403)
        throw err
      await client.connect(new SSEClientTransport(url, opts))
      transport = 'sse'
    }
    onTransport?.(transport)
    const tools: ListedTool[] = []
    let cursor: string | undefined
    for (let page = 0; page < MAX_PAGES; page++) {
      const res = await client.listTools(cursor === undefined ? {} : { cursor })
      for (const t of res.tools) {
        const tool = toListedTool(t)
        if (tool) tools.push(tool)
      }
      cursor = res.nextCursor
      if (!cursor) break
    }
    return tools
  }
  try {
    return await Promise.race([
      run().catch((err: unknown) => {
        if (err instanceof InspectionError) throw err
        if (err instanceof SignInRequiredError)
          throw new InspectionError(
            `cannot list the tools of "${server.name}": it needs you to sign in first (Sign in on its card, or "airlock servers login ${server.name}")`,
            'INSPECT_ERROR',
          )
        throw new InspectionError(
          `cannot list the tools of "${server.name}" at ${server.url}: ${describe(err)}`,
          'INSPECT_ERROR',
        )
      }),
      timeout,
    ])
  } finally {
    if (timer) clearTimeout(timer)
    await client.close().catch(() => undefined)
  }
}
