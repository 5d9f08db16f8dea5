import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { spawnServer } from '../../../src/gateway/proxy/server-process'

describe('spawnServer (cross-spawn)', () => {
  it('passes arguments verbatim, the server env over the gateway env, and the cwd', async () => {
    const cwd = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-spawn-')))
    try {
      const args = ['a b', 'say "hi"', '%PATH%', '^&|<>', 'back\\slash\\', '']
      const child = spawnServer(
        {
          name: 'echo',
          command: process.execPath,
          args: [
            '-e',
            'process.stdout.write(JSON.stringify([process.argv.slice(1), process.env.X, process.env.Y, process.cwd()]))',
            ...args,
          ],
          env: { X: 'server' },
          secretEnv: [],
          cwd,
          enabled: true,
        },
        { ...process.env, X: 'gateway', Y: 'kept' },
      )
      let out = ''
      child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')))
      await new Promise((resolve) => child.on('exit', resolve))
      expect(JSON.parse(out)).toEqual([args, 'server', 'kept', cwd])
    } finally {
      fs.rmSync(cwd, { recursive: true, force: true })
    }
  })

  it('refuses a remote server (it is never started)', () => {
    expect(() =>
      spawnServer({
        name: 'remote',
        url: 'https://example.invalid/mcp',
        args: [],
        env: {},
        secretEnv: [],
        enabled: true,
      }),
    ).toThrow(/remote server/)
  })
})
