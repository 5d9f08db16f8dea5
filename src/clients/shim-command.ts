/**
 * Recognising and building the shim command line: `node /abs/bin/airlock.js connect <server>`
 * (what wrap writes), and the other spellings a person may have used (`airlock connect x`,
 * `npx airlock connect x`); and the HTTP form: `http://127.0.0.1:<port>/mcp/<server>` with
 * `Authorization: Bearer <token>`.
 */
import type { HttpEndpoint, ShimCommand } from './adapters/adapter'

function base(p: string): string {
  const name = p.split(/[\\/]/).pop() ?? p
  return name.toLowerCase().replace(/\.(exe|cmd|bat|ps1)$/, '')
}

/** The Airlock server an entry's command line connects to, or undefined when it is not the shim. */
export function shimServer(
  command: string | undefined,
  args: readonly string[],
): string | undefined {
  if (!command) return undefined
  const cmd = base(command)
  const at = (i: number): string | undefined =>
    args[i] === 'connect' && args[i + 1] ? args[i + 1] : undefined
  if (cmd === 'airlock') return at(0)
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? ''
    const b = base(a)
    const isAirlock =
      b === 'airlock.js' ||
      b === 'airlock.mjs' ||
      b === 'airlock' ||
      /^(@[^/]+\/)?airlock(@.*)?$/.test(a)
    if (isAirlock && at(i + 1)) return at(i + 1)
  }
  return undefined
}

/** The args of a wrapped entry. */
export function shimArgs(shim: ShimCommand, server: string): string[] {
  return [shim.script, 'connect', server]
}

const PLACEHOLDER = /\$\{\{[^}]*\}\}|\$\{[^}]+\}/g

/** Placeholders (`${VAR}`, `${input:id}`, `${{ secrets.X }}`) in the given strings, deduplicated. */
export function placeholders(values: readonly (string | undefined)[]): string[] {
  const found = new Set<string>()
  for (const v of values) for (const m of v?.match(PLACEHOLDER) ?? []) found.add(m)
  return [...found]
}

/** The id of the VS Code input that holds the token (`${input:airlock-token}`). */
export const TOKEN_INPUT_ID = 'airlock-token'
/** The reference VS Code resolves to the token, prompting for it once and keeping it in its secret storage. */
export const TOKEN_INPUT_REF = '${input:' + TOKEN_INPUT_ID + '}'

const ENDPOINT = /^http:\/\/(?:127\.0\.0\.1|localhost):\d{1,5}\/mcp\/([^/?#]+)\/?$/
const BEARER = /^Bearer [0-9a-f]{64}$/

/**
 * The Airlock server a URL entry reaches through the gateway's HTTP endpoint, or undefined: a
 * loopback `/mcp/<server>` URL sent with an Airlock-shaped bearer token (64 hex digits).
 */
export function httpServer(
  url: string | undefined,
  headers: Readonly<Record<string, string>> | undefined,
): string | undefined {
  const m = ENDPOINT.exec(url ?? '')
  const auth = Object.entries(headers ?? {}).find(([k]) => k.toLowerCase() === 'authorization')?.[1]
  if (!m?.[1] || !auth || !(BEARER.test(auth) || auth === `Bearer ${TOKEN_INPUT_REF}`))
    return undefined
  try {
    return decodeURIComponent(m[1])
  } catch {
    return undefined
  }
}

const BEARER_IN_TEXT = /Bearer [0-9a-f]{60}([0-9a-f]{4})/g

/**
 * `text` with every Airlock bearer token masked to its last four digits (`Bearer ••••1a2b`):
 * diffs and dry runs show what changes without printing the secret.
 */
export function maskBearer(text: string): string {
  return text.replace(BEARER_IN_TEXT, 'Bearer ••••$1')
}

/**
 * The URL and headers of an entry wrapped onto the HTTP endpoint: the token itself, or with
 * `tokenRef` the `${input:airlock-token}` reference (VS Code).
 */
export function httpTarget(
  http: HttpEndpoint,
  server: string,
  tokenRef = false,
): { url: string; headers: Record<string, string> } {
  return {
    url: `${http.base}${encodeURIComponent(server)}`,
    headers: { Authorization: `Bearer ${tokenRef ? TOKEN_INPUT_REF : http.token}` },
  }
}

/** Headers as the client sends them: the token input reference resolved to `token`. */
export function resolveTokenRef(
  headers: Readonly<Record<string, string>>,
  token: string,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).map(([k, v]) => [k, v.split(TOKEN_INPUT_REF).join(token)]),
  )
}

/**
 * What is broken in a stdio entry that runs the shim, or undefined: its node (an absolute
 * command) or its shim script (an absolute `…/airlock.js` before `connect`) is not there, e.g.
 * after Node was upgraded or Airlock moved (an app update, an AppImage mounted elsewhere). Such
 * an entry reaches nothing: it is not protected, and a wrap repairs it.
 */
export function brokenShim(
  command: string | undefined,
  args: readonly string[],
  exists: (file: string) => boolean,
): string | undefined {
  const absolute = (p: string): boolean => p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p)
  if (command && absolute(command) && !exists(command)) {
    return base(command) === 'airlock'
      ? `airlock not found at ${command} (was Airlock moved or updated?)`
      : `node not found at ${command} (was Node moved or upgraded?)`
  }
  const script = args.find((a, i) => args[i + 1] === 'connect' && /airlock(\.m?js)?$/i.test(a))
  if (script && absolute(script) && !exists(script))
    return `shim not found at ${script} (was Airlock moved or updated?)`
  return undefined
}
