/**
 * A data directory Airlock cannot use, through the real CLI and shim: `airlock serve` (and any
 * other command) prints one line naming the directory and what to do, and exits 1; the shim
 * answers the client's initialize with a JSON-RPC error naming it and starts no gateway.
 * Everything may run as root here, where permissions stop nothing, so the directory is made
 * unusable by a regular file in its path (ENOTDIR even for root). Permission denied (chmod
 * as a user, the immutable attribute as root) and a full disk (a tiny tmpfs, root only) run
 * where the machine allows them, and are skipped with the reason printed elsewhere.
 */
import { execFile, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { afterEach, describe, expect, it } from 'vitest'
import { CLI } from '../helpers/harness'

const cleanups: (() => void)[] = []
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c()
})

function tmp(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-datadir-'))
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

function airlock(
  home: string,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { ...process.env, AIRLOCK_HOME: home }, timeout: 20_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    )
  })
}

/** `airlock serve` on `home`: exit 1, one line on stderr naming it and AIRLOCK_HOME, no stack. */
async function expectServeRefused(home: string, why: RegExp): Promise<void> {
  const r = await airlock(home, 'serve', '--no-http')
  expect(r.code).toBe(1)
  expect(r.stdout).toBe('')
  expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1)
  expect(r.stderr).toContain(`airlock: Airlock cannot use its data directory ${home}: `)
  expect(r.stderr).toMatch(why)
  expect(r.stderr).toContain('set AIRLOCK_HOME to a directory you can write')
  expect(r.stderr).not.toMatch(/\n\s+at /)
}

/** The shim's answer to an SDK client's initialize, with `home` as its data directory. */
async function shimInitializeError(home: string): Promise<string> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, 'connect', 'everything'],
    env: { PATH: process.env.PATH ?? '', HOME: os.homedir(), AIRLOCK_HOME: home },
    stderr: 'pipe',
  })
  const client = new Client({ name: 'datadir-test', version: '1' })
  try {
    await client.connect(transport)
  } catch (err) {
    return (err as Error).message
  } finally {
    await client.close()
  }
  throw new Error('the shim answered initialize without an error')
}

/** Runs `cmd`; undefined when it succeeded, else why not (for the skip reason). */
function tryRun(cmd: string, args: string[]): string | undefined {
  const r = spawnSync(cmd, args, { encoding: 'utf8' })
  if (r.status === 0) return undefined
  return (r.error?.message ?? r.stderr.trim()) || `${cmd} exited ${r.status}`
}

function skipWith(reason: string, skip: (note?: string) => void): void {
  process.stderr.write(`\n⚠ ${path.basename(__filename)}: ${reason}\n\n`)
  skip(reason)
}

describe('a data directory Airlock cannot use', () => {
  it('a file in its path: serve says so in one line; the shim answers initialize with it', async () => {
    const root = tmp()
    fs.writeFileSync(path.join(root, 'afile'), 'not a directory\n')
    const home = path.join(root, 'afile', 'airlock')
    await expectServeRefused(home, new RegExp(`${root}/afile is a file, not a directory`))

    const message = await shimInitializeError(home)
    expect(message).toContain(`Airlock cannot use its data directory ${home}`)
    expect(message).toContain(`${root}/afile is a file, not a directory`)
    expect(message).toContain('No Airlock gateway was started for it')
    // Nothing was created, and no gateway runs for it.
    expect(fs.readFileSync(path.join(root, 'afile'), 'utf8')).toBe('not a directory\n')
    expect((await airlock(home, 'status')).code).toBe(1)

    // Any other command: the same line, exit 1.
    const add = await airlock(home, 'servers', 'add', 'x', '--', 'node', 'x.js')
    expect(add.code).toBe(1)
    expect(add.stderr.split('\n').filter(Boolean)).toHaveLength(1)
    expect(add.stderr).toContain(`Airlock cannot use its data directory ${home}: `)
  })

  it('the data directory is itself a file', async () => {
    const root = tmp()
    const home = path.join(root, 'airlock')
    fs.writeFileSync(home, '')
    await expectServeRefused(home, /: it is a file, not a directory\./)
  })

  it('permission denied (chmod as a user; the immutable attribute as root)', async (ctx) => {
    const root = tmp()
    const home = path.join(root, 'airlock')
    fs.mkdirSync(home)
    if (process.getuid?.() !== 0) {
      fs.chmodSync(home, 0o500)
      cleanups.push(() => fs.chmodSync(home, 0o700))
    } else {
      const failed = tryRun('chattr', ['+i', home])
      if (failed) return skipWith(`root, and chattr +i is not available (${failed})`, ctx.skip)
      cleanups.push(() => void tryRun('chattr', ['-i', home]))
    }
    await expectServeRefused(
      home,
      new RegExp(`permission denied writing in ${home} \\(E(ACCES|PERM)\\)`),
    )
    expect(await shimInitializeError(home)).toMatch(/permission denied writing in/)
  })

  it('a full disk', async (ctx) => {
    if (process.platform !== 'linux' || process.getuid?.() !== 0)
      return skipWith('a full disk is made with a tmpfs mount, which needs root on Linux', ctx.skip)
    const mnt = tmp()
    const failed = tryRun('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', mnt])
    if (failed) return skipWith(`cannot mount a tmpfs here (${failed})`, ctx.skip)
    cleanups.push(() => void tryRun('umount', [mnt]))
    // Fill it: the last write fails with ENOSPC.
    const filler = fs.openSync(path.join(mnt, 'fill'), 'w')
    try {
      for (;;) fs.writeSync(filler, Buffer.alloc(4096))
    } catch (err) {
      expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC')
    } finally {
      fs.closeSync(filler)
    }
    const home = path.join(mnt, 'airlock')
    await expectServeRefused(home, /: the disk is full \(ENOSPC/)
    expect(await shimInitializeError(home)).toContain('the disk is full')
  })
})
