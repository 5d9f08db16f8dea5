/**
 * `airlock open`: opens the web UI of the running `airlock serve` in the browser, with this data
 * directory's access token, and prints the link (for a machine without a browser, or over SSH).
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import { dataDir, dataPaths } from '../node/paths'
import { noExtraPositionals, parseCommandArgs } from './args'
import { CliError } from './cli-error'

/**
 * The web UI's link (`http://127.0.0.1:<port>/#token=…`) while a gateway serves it for `home`,
 * else undefined. The token is in the fragment: it never reaches a server log.
 */
export function uiLink(home: string): string | undefined {
  const paths = dataPaths(home)
  try {
    const port = Number(fs.readFileSync(paths.httpPort, 'utf8').trim())
    const token = fs.readFileSync(paths.uiToken, 'utf8').trim()
    if (!Number.isInteger(port) || port <= 0 || port > 65535 || !/^[0-9a-f]{64}$/.test(token))
      return undefined
    return `http://127.0.0.1:${port}/#token=${token}`
  } catch {
    return undefined
  }
}

/** The platform's "open this URL" command. */
function opener(url: string): [string, string[]] {
  if (process.platform === 'darwin') return ['open', [url]]
  if (process.platform === 'win32') return ['cmd', ['/c', 'start', '""', url]]
  return ['xdg-open', [url]]
}

/** Runs `airlock open [--print]`: 0 when the UI runs (opened, or only printed with --print). */
export function openCommand(argv: string[]): number {
  const { values, positionals } = parseCommandArgs('open', argv, {
    print: { type: 'boolean', default: false },
  })
  noExtraPositionals(positionals, 0, 'airlock open [--print]')
  const home = dataDir()
  const link = uiLink(home)
  if (!link)
    throw new CliError(
      `no web UI is running for ${home}: start it with "airlock serve" (the desktop app shows its own window)`,
      1,
    )
  process.stdout.write(
    `${link}\n(the link holds this data directory's access token: do not share it)\n`,
  )
  if (values.print || process.env.AIRLOCK_NO_BROWSER) return 0
  const [cmd, args] = opener(link)
  try {
    const child = spawn(cmd, args, { stdio: 'ignore', detached: true })
    child.on('error', () =>
      process.stderr.write(`airlock: could not start "${cmd}"; open the link above yourself\n`),
    )
    child.unref()
  } catch {
    process.stderr.write(`airlock: could not start "${cmd}"; open the link above yourself\n`)
  }
  return 0
}
