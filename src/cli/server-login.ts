/**
 * `airlock servers login <name>` and `airlock servers logout <name>`: signing in to a remote
 * server that uses OAuth. Through the running gateway when one answers (its HTTP front receives
 * the browser's callback; the desktop app also opens the browser); else in this process, with a
 * loopback listener for the callback and the tokens written to secrets.json (0600).
 */
import path from 'node:path'
import { FileSecretStore } from '../gateway/config/secret-store'
import { OAuthSignIn, SIGN_IN_TTL_MS } from '../gateway/proxy/oauth-sign-in'
import { OAUTH_KEYS } from '../gateway/proxy/oauth-client'
import type { ControlClient } from '../node/control-client'
import { dataDir, dataPaths } from '../node/paths'
import type { ResultOf } from '../shared/contract/control-api'
import { isRemote } from '../shared/contract/config'
import { terminalText } from '../shared/text'
import {
  findServer,
  loadConfig,
  noExtraPositionals,
  parseCommandArgs,
  positional,
  type OptionSpecs,
} from './args'
import { CliError, cliErrors } from './cli-error'
import { runningGateway } from './gateway-client'

const LOGIN_USAGE = 'airlock servers login <name> [--no-wait]'
const LOGOUT_USAGE = 'airlock servers logout <name>'
/** How often a waiting `login` asks the gateway whether the sign-in finished. */
const POLL_MS = 1000

/** `servers login`: prints the sign-in link and (unless --no-wait) waits until it is used. */
export async function loginCommand(argv: string[]): Promise<number> {
  const { values, name, home, client } = await begin('servers login', LOGIN_USAGE, argv, {
    'no-wait': { type: 'boolean', default: false },
  })
  if (client) {
    try {
      const r = await cliErrors(client.api.servers.login({ name, open: true }))
      if (!announce(name, r) || values['no-wait']) return 0
      return await waitThroughGateway(client, name)
    } finally {
      client.close()
    }
  }
  // No gateway: this process receives the callback itself, so it has to wait.
  const store = new FileSecretStore(path.join(home, 'secrets.json'))
  const oauth = new OAuthSignIn({
    store,
    serverUrl: (n) => (n === name ? remoteServer(home, n).url : undefined),
    log: () => undefined,
  })
  try {
    const r = await oauth.signIn(name, { open: false }).catch((err: unknown) => {
      throw new CliError((err as Error).message, 1, { cause: err })
    })
    if (!announce(name, r)) return 0
    return await new Promise<number>((resolve) => {
      const timer = setTimeout(() => resolve(expired(name)), SIGN_IN_TTL_MS + 1000)
      oauth.on('changed', () => {
        const s = oauth.state(name)?.state
        if (s === 'signing-in') return
        clearTimeout(timer)
        resolve(s === 'signed-in' ? done(name) : failed(name))
      })
    })
  } finally {
    oauth.close()
  }
}

/** `servers logout`: forgets the server's tokens and registration. */
export async function logoutCommand(argv: string[]): Promise<number> {
  const { name, home, client } = await begin('servers logout', LOGOUT_USAGE, argv, {})
  if (client) {
    try {
      await cliErrors(client.api.servers.logout({ name }))
    } finally {
      client.close()
    }
  } else {
    const store = new FileSecretStore(path.join(home, 'secrets.json'))
    for (const key of Object.values(OAUTH_KEYS)) store.delete(name, key)
  }
  process.stdout.write(
    `Signed out of "${name}": its tokens are deleted; its next request needs a sign-in (airlock servers login ${name}).\n`,
  )
  return 0
}

/** The command's options, its remote server's name, the data directory and the running gateway (if any). */
async function begin<O extends OptionSpecs>(
  command: string,
  usage: string,
  argv: string[],
  options: O,
) {
  const { values, positionals } = parseCommandArgs(command, argv, options)
  const name = positional(positionals, 0, 'the server name', usage)
  noExtraPositionals(positionals, 1, usage)
  const home = dataDir()
  remoteServer(home, name)
  return { values, name, home, client: await runningGateway(home) }
}

function remoteServer(home: string, name: string): { url: string } {
  const server = findServer(loadConfig(dataPaths(home).config), name)
  if (!isRemote(server))
    throw new CliError(
      `server "${name}" is started by Airlock (a command), not remote: there is nothing to sign in to`,
      1,
    )
  return server
}

/** Prints the result of starting; returns whether there is a sign-in to wait for. */
function announce(name: string, r: ResultOf<'servers.login'>): boolean {
  if (r.status === 'signed-in') {
    process.stdout.write(`${terminalText(r.message, 500)}\n`)
    return false
  }
  if (r.url === undefined)
    throw new CliError(`the gateway started a sign-in to "${name}" but sent no link; try again`, 1)
  process.stdout.write(
    `Open this link in a browser to sign in to "${name}":\n\n  ${terminalText(r.url, 4096)}\n\n` +
      `The link works for ${Math.round(SIGN_IN_TTL_MS / 60_000)} minutes. Waiting for the sign-in (Ctrl-C stops waiting)…\n`,
  )
  return true
}

async function waitThroughGateway(client: ControlClient, name: string): Promise<number> {
  const deadline = Date.now() + SIGN_IN_TTL_MS + 1000
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, POLL_MS))
    const servers = await cliErrors(client.api.servers.list())
    const s = servers.find((x) => x.config.name === name)?.signIn
    if (s === 'signed-in') return done(name)
    if (s !== 'signing-in') return failed(name)
  }
  return expired(name)
}

function done(name: string): number {
  process.stdout.write(`Signed in to "${name}". Its agents can retry now.\n`)
  return 0
}

function failed(name: string): number {
  process.stderr.write(
    `airlock: the sign-in to "${name}" did not complete (the browser page says why); run "airlock servers login ${name}" again\n`,
  )
  return 1
}

function expired(name: string): number {
  process.stderr.write(
    `airlock: the sign-in link for "${name}" expired unused; run "airlock servers login ${name}" again\n`,
  )
  return 1
}
