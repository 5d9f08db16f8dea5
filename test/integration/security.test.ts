/**
 * The agent socket's guard: a peer that cannot prove the secret is refused before anything
 * starts, a process posing as the gateway is refused by the shim, and the socket, its
 * directory and the secret are private to the user.
 */
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { proof } from '../../src/node/handshake'
import { socketPath } from '../../src/node/paths'
import { alive, descendants, Env, everything, waitFor } from '../helpers/harness'

let env: Env

beforeEach(() => {
  env = new Env()
})

afterEach(async () => {
  await env.cleanup()
})

/** A raw socket peer: collects lines, knows when the gateway closed it. */
function rawPeer(file: string): Promise<{
  lines: Record<string, unknown>[]
  closed: () => boolean
  write: (o: unknown) => void
  socket: net.Socket
}> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(file)
    const lines: Record<string, unknown>[] = []
    let buf = ''
    let isClosed = false
    socket.on('data', (c: Buffer) => {
      buf += c.toString('utf8')
      let nl: number
      while ((nl = buf.indexOf('\n')) !== -1) {
        lines.push(JSON.parse(buf.slice(0, nl)) as Record<string, unknown>)
        buf = buf.slice(nl + 1)
      }
    })
    socket.on('close', () => (isClosed = true))
    socket.once('error', reject)
    socket.once('connect', () =>
      resolve({
        lines,
        closed: () => isClosed,
        write: (o) => socket.write(JSON.stringify(o) + '\n'),
        socket,
      }),
    )
  })
}

describe('the gateway refuses peers without the secret', () => {
  it.each([
    ['a made-up proof', () => '0'.repeat(64)],
    [
      'a proof made with another secret',
      (challenge: string) => proof(randomBytes(32), 'peer', challenge),
    ],
    ['no proof at all', () => undefined],
  ])(
    '%s: {"ok":false}, the connection closes, no session or server starts',
    async (_what, makeProof) => {
      env.writeConfig([everything()])
      const gw = await env.startGateway()
      for (const role of ['agent', 'control']) {
        const peer = await rawPeer(socketPath(env.home))
        await waitFor(() => peer.lines.length === 1, 3000, 'the challenge')
        const challenge = peer.lines[0].challenge as string
        expect(peer.lines[0]).toEqual({
          airlock: 1,
          challenge: expect.stringMatching(/^[0-9a-f]{32}$/),
        })
        peer.write({
          airlock: 1,
          role,
          server: 'everything',
          proof: makeProof(challenge),
          challenge: randomBytes(16).toString('hex'),
        })
        // Anything sent after the hello must go nowhere.
        peer.write({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: {
            protocolVersion: '2025-06-18',
            capabilities: {},
            clientInfo: { name: 'intruder', version: '1' },
          },
        })
        await waitFor(() => peer.closed(), 3000, 'the gateway to close the connection')
        expect(peer.lines).toHaveLength(2)
        expect(peer.lines[1]).toEqual({ ok: false, error: 'authentication failed' })
        expect(peer.lines[1]).not.toHaveProperty('proof')
      }
      // The gateway closed each connection after refusing it: a server starts only after a
      // handshake succeeds, so none can be on its way.
      const status = await (await env.control()).api.status.get()
      expect(status.sessions).toEqual([])
      expect(descendants(gw.pid!).filter(alive)).toEqual([])
      expect(env.auditRecords()).toEqual([])
    },
  )

  it('a peer with the secret can only name a configured server', async () => {
    env.writeConfig([everything()])
    const gw = await env.startGateway()
    const secret = Buffer.from(fs.readFileSync(path.join(env.home, 'secret'), 'utf8').trim(), 'hex')
    const peer = await rawPeer(socketPath(env.home))
    await waitFor(() => peer.lines.length === 1, 3000, 'the challenge')
    peer.write({
      airlock: 1,
      role: 'agent',
      server: '../../bin/sh',
      proof: proof(secret, 'peer', peer.lines[0].challenge as string),
      challenge: randomBytes(16).toString('hex'),
    })
    await waitFor(() => peer.closed(), 3000, 'the gateway to close the connection')
    expect(peer.lines[1]).toMatchObject({
      ok: false,
      error: expect.stringContaining('no server named "../../bin/sh" is configured'),
    })
    expect(descendants(gw.pid!).filter(alive)).toEqual([])
  })
})

describe('the shim names a server', () => {
  it('an unknown or disabled server: a JSON-RPC error that says so, and a non-zero exit', async () => {
    env.writeConfig([everything(), everything('off', { enabled: false })])
    const gw = await env.startGateway()
    for (const [name, text] of [
      ['nosuch', 'no server named "nosuch" is configured'],
      ['off', 'server "off" is disabled'],
    ]) {
      const shim = env.shim(name)
      shim.send({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 'x', version: '1' },
        },
      })
      const res = await shim.response(1)
      expect((res.error as { message: string }).message).toContain(text)
      shim.proc.stdin!.end()
      expect(await shim.exited).not.toBe(0)
    }
    expect(descendants(gw.pid!).filter(alive)).toEqual([])
  })
})

describe('the shim refuses a process posing as the gateway', () => {
  it('a listener on the socket that cannot prove the secret gets no client data', async () => {
    env.writeConfig([everything()])
    // A real gateway ran once (so a secret exists), then stopped.
    const gw = await env.startGateway()
    gw.kill('SIGTERM')
    await waitFor(() => gw.exitCode !== null, 5000, 'the gateway to stop')

    const received: string[] = []
    const impostor = net.createServer((s) => {
      s.on('data', (c: Buffer) => received.push(c.toString('utf8')))
      s.write(JSON.stringify({ airlock: 1, challenge: randomBytes(16).toString('hex') }) + '\n')
      s.once('data', () => s.write(JSON.stringify({ ok: true, proof: '0'.repeat(64) }) + '\n'))
    })
    await new Promise<void>((resolve) => impostor.listen(socketPath(env.home), resolve))
    try {
      const shim = env.shim('everything')
      shim.send({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 'x', version: '1', secretive: 'do-not-leak' },
        },
      })
      const res = await shim.response(1)
      expect((res.error as { message: string }).message).toContain(
        'did not prove the Airlock secret',
      )
      shim.proc.stdin!.end()
      expect(await shim.exited).not.toBe(0)
      // The impostor saw the hello (which proves nothing about the secret) and nothing else.
      expect(received.join('')).not.toContain('do-not-leak')
      expect(received.join('')).not.toContain('initialize')
    } finally {
      await new Promise((resolve) => impostor.close(resolve))
    }
  })
})

describe('file permissions', () => {
  it('socket 0600 in a 0700 directory; secret 0600', async () => {
    env.writeConfig([everything()])
    await env.startGateway()
    const sock = socketPath(env.home)
    expect(fs.statSync(sock).isSocket()).toBe(true)
    expect(fs.statSync(sock).mode & 0o777).toBe(0o600)
    expect(fs.statSync(path.dirname(sock)).mode & 0o777).toBe(0o700)
    expect(fs.statSync(path.join(env.home, 'secret')).mode & 0o777).toBe(0o600)
    expect(fs.statSync(env.home).mode & 0o077).toBe(0)
  })

  it('a secret readable by others is refused by the shim', async () => {
    env.writeConfig([everything()])
    await env.startGateway()
    fs.chmodSync(path.join(env.home, 'secret'), 0o644)
    const shim = env.shim('everything')
    shim.send({ jsonrpc: '2.0', id: 1, method: 'ping' })
    const res = await shim.response(1)
    expect((res.error as { message: string }).message).toMatch(/readable by other users.*chmod 600/)
  })
})
