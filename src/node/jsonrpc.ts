/** Small JSON-RPC helpers for the gateway's own replies (everything else is forwarded as bytes). */

/** A JSON-RPC id as it appears on the wire. */
export type JsonRpcId = string | number | null

/** A map key for an id that keeps 1 and "1" apart. */
export function idKey(id: JsonRpcId): string {
  return typeof id === 'string' ? `s${id}` : `n${String(id)}`
}

/** Whether a value is a valid JSON-RPC request/response id. */
export function isId(v: unknown): v is JsonRpcId {
  return typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)) || v === null
}

/** A JSON-RPC error response line. */
export function errorLine(id: JsonRpcId, code: number, message: string, data?: unknown): string {
  const error = data === undefined ? { code, message } : { code, message, data }
  return JSON.stringify({ jsonrpc: '2.0', id, error }) + '\n'
}

/** A `CallToolResult` with `isError: true` and one text block: how a policy refusal looks to the agent. */
export function toolErrorLine(id: JsonRpcId, text: string): string {
  return (
    JSON.stringify({
      jsonrpc: '2.0',
      id,
      result: { content: [{ type: 'text', text }], isError: true },
    }) + '\n'
  )
}

/** A notification line. */
export function notificationLine(method: string, params?: unknown): string {
  return (
    JSON.stringify(
      params === undefined ? { jsonrpc: '2.0', method } : { jsonrpc: '2.0', method, params },
    ) + '\n'
  )
}

/** JSON-RPC / MCP error codes the gateway uses. */
export const ErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  InvalidParams: -32602,
  InternalError: -32603,
  /** The downstream server went away before answering. */
  ServerGone: -32000,
} as const

/** Plain-object check. */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
