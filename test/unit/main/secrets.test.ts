import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { HostSecretStore, SecretRefusedError } from '../../../src/gateway/host/secret-store'
import { ControlRouter, secretKeysOf } from '../../../src/main/control-router'
import { migrateSecrets } from '../../../src/main/secret-migration'
import {
  KeychainSecretStore,
  SecretStoreError,
  type SafeStorageLike,
} from '../../../src/main/secrets'
import type { KeyValueStore } from '../../../src/main/settings-store'

/** An in-memory electron-store. */
function memoryStore(): KeyValueStore & { data: Record<string, unknown> } {
  const data: Record<string, unknown> = {}
  return {
    data,
    get: (k) => structuredClone(data[k]),
    set: (k, v) => (data[k] = structuredClone(v)),
  }
}

/** A fake safeStorage: "encrypts" by reversing and tagging, so plain text never shows in the store. */
function fakeSafe(over: Partial<SafeStorageLike> = {}): SafeStorageLike {
  return {
    isEncryptionAvailable: () => true,
    encryptString: (s) => Buffer.from('enc:' + [...s].reverse().join('')),
    decryptString: (b) => {
      const t = b.toString()
      if (!t.startsWith('enc:')) throw new Error('bad ciphertext')
      return [...t.slice(4)].reverse().join('')
    },
    getSelectedStorageBackend: () => 'gnome_libsecret',
    ...over,
  }
}

describe('KeychainSecretStore', () => {
  it('stores values encrypted and base64, reads them back, deletes them', () => {
    const store = memoryStore()
    const s = new KeychainSecretStore(store, fakeSafe(), 'linux')
    s.set('github', 'TOKEN', 'ghp_secret')
    s.set('github', 'OTHER', 'x')
    expect(JSON.stringify(store.data)).not.toContain('ghp_secret')
    expect(JSON.stringify(store.data)).not.toContain('terces_phg')
    expect(
      Buffer.from(
        (store.data.secrets as Record<string, Record<string, string>>).github!.TOKEN!,
        'base64',
      ).toString(),
    ).toMatch(/^enc:/)
    expect(s.get('github', 'TOKEN')).toBe('ghp_secret')
    expect(s.get('github', 'NOPE')).toBeUndefined()
    expect(s.keys()).toEqual({ github: ['TOKEN', 'OTHER'] })
    s.delete('github', 'TOKEN')
    expect(s.entries('github')).toEqual({ OTHER: 'x' })
    s.delete('github')
    expect(s.keys()).toEqual({})
  })

  it('refuses to store plain text when encryption is not available, and says so', () => {
    const store = memoryStore()
    const s = new KeychainSecretStore(
      store,
      fakeSafe({ isEncryptionAvailable: () => false }),
      'darwin',
    )
    expect(() => s.set('github', 'TOKEN', 'ghp_secret')).toThrow(SecretStoreError)
    expect(() => s.set('github', 'TOKEN', 'ghp_secret')).toThrow(
      /cannot store secret "TOKEN" of server "github": the OS keychain is not available, and Airlock does not write secrets in plain text/,
    )
    expect(store.data).toEqual({})
  })

  it('treats Linux without a keyring (basic_text) as no encryption', () => {
    const encrypt = vi.fn()
    const s = new KeychainSecretStore(
      memoryStore(),
      fakeSafe({ getSelectedStorageBackend: () => 'basic_text', encryptString: encrypt }),
      'linux',
    )
    expect(s.unavailableReason()).toMatch(/basic_text/)
    expect(() => s.set('a', 'K', 'v')).toThrow(/GNOME Keyring or KWallet/)
    expect(encrypt).not.toHaveBeenCalled()
  })

  it('reports a value that no longer decrypts', () => {
    const store = memoryStore()
    store.set('secrets', { a: { K: Buffer.from('garbage').toString('base64') } })
    const s = new KeychainSecretStore(store, fakeSafe(), 'linux')
    expect(() => s.get('a', 'K')).toThrow(expect.objectContaining({ code: 'SECRET_UNREADABLE' }))
    const errors: unknown[] = []
    expect(s.decryptAll((e) => errors.push(e))).toEqual({})
    expect(errors).toHaveLength(1)
  })

  it('ignores malformed store contents', () => {
    const store = memoryStore()
    store.set('secrets', { a: 'nope', b: { K: 5 }, c: null })
    expect(new KeychainSecretStore(store, fakeSafe(), 'linux').keys()).toEqual({})
  })
})

describe('ControlRouter secrets', () => {
  const server = (over: Record<string, unknown> = {}) => ({
    name: 'github',
    command: 'npx',
    args: [],
    env: { PLAIN: '1' },
    secretEnv: ['TOKEN'],
    enabled: true,
    ...over,
  })

  it('names the secret keys a call would store, skipping masked values', () => {
    expect(
      secretKeysOf({
        server: server({ env: { PLAIN: '1', TOKEN: 'typed' } }),
        secretValues: { OTHER: 'x', MASKED: '********' },
      }),
    ).toEqual(['TOKEN', 'OTHER'])
    expect(secretKeysOf({ server: server({ env: { TOKEN: '********' } }) })).toEqual([])
  })

  it('refuses secrets before the gateway changes anything when the keychain is unavailable', async () => {
    const gateway = { call: vi.fn(async () => 'ok') }
    const router = new ControlRouter(
      gateway,
      new KeychainSecretStore(
        memoryStore(),
        fakeSafe({ isEncryptionAvailable: () => false }),
        'linux',
      ),
    )
    await expect(
      router.call('servers.add', { server: server(), secretValues: { TOKEN: 'ghp_secret' } }),
    ).rejects.toMatchObject({ code: 'KEYCHAIN_UNAVAILABLE' })
    await expect(
      router.call('servers.update', {
        name: 'github',
        server: server({ env: { TOKEN: 'typed' } }),
      }),
    ).rejects.toThrow(/plain text/)
    expect(gateway.call).not.toHaveBeenCalled()
    // Without secret values the call goes through.
    await expect(router.call('servers.add', { server: server() })).resolves.toBe('ok')
  })

  it('relays calls unchanged when secrets can be kept', async () => {
    const gateway = { call: vi.fn(async () => 'ok') }
    const router = new ControlRouter(
      gateway,
      new KeychainSecretStore(memoryStore(), fakeSafe(), 'linux'),
    )
    const params = { server: server(), secretValues: { TOKEN: 't' } }
    await router.call('servers.add', params)
    await router.call('pause.set', { paused: true })
    expect(gateway.call.mock.calls).toEqual([
      ['servers.add', params],
      ['pause.set', { paused: true }],
    ])
  })
})

describe("the gateway's secret store in the desktop app", () => {
  it('keeps values in memory and sends writes to main', () => {
    const posted: unknown[] = []
    const s = new HostSecretStore((m) => posted.push(m))
    s.load({ gh: { TOKEN: 't0' } })
    expect(s.get('gh', 'TOKEN')).toBe('t0')
    s.set('gh', 'TOKEN', 't1')
    s.delete('gh', 'OLD')
    s.delete('x')
    expect(s.get('gh', 'TOKEN')).toBe('t1')
    expect(posted).toEqual([
      { type: 'secret.set', server: 'gh', key: 'TOKEN', value: 't1' },
      { type: 'secret.delete', server: 'gh', key: 'OLD' },
      { type: 'secret.delete', server: 'x' },
    ])
  })

  it('refuses writes when main has no keychain', () => {
    const posted: unknown[] = []
    const s = new HostSecretStore((m) => posted.push(m))
    s.load({}, 'the OS keychain is not available')
    expect(() => s.set('gh', 'TOKEN', 't')).toThrow(SecretRefusedError)
    expect(() => s.set('gh', 'TOKEN', 't')).toThrow(
      /cannot store secret "TOKEN" of server "gh": the OS keychain is not available/,
    )
    expect(posted).toEqual([])
    expect(s.get('gh', 'TOKEN')).toBeUndefined()
  })
})

describe('migrating plain-text secrets into the keychain', () => {
  let dir: string | undefined
  afterEach(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true })
  })
  const write = (servers: unknown[], secretsFile?: unknown) => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-secrets-'))
    const files = {
      config: path.join(dir, 'config.json'),
      secretsFile: path.join(dir, 'secrets.json'),
    }
    fs.writeFileSync(files.config, JSON.stringify({ version: 1, servers }))
    if (secretsFile) fs.writeFileSync(files.secretsFile, JSON.stringify(secretsFile))
    return files
  }

  it('moves secrets.json and config.json values into the keychain and out of the files', () => {
    const files = write(
      [{ name: 'gh', command: 'x', env: { TOKEN: 'ghp_1', PLAIN: 'p' }, secretEnv: ['TOKEN'] }],
      { mem: { KEY: 'k1' } },
    )
    const secrets = new KeychainSecretStore(memoryStore(), fakeSafe(), 'linux')
    expect(migrateSecrets(files, secrets, () => undefined)).toBe(2)
    expect(fs.readFileSync(files.config, 'utf8')).not.toContain('ghp_1')
    expect(JSON.parse(fs.readFileSync(files.config, 'utf8')).servers[0].env).toEqual({ PLAIN: 'p' })
    expect(fs.existsSync(files.secretsFile)).toBe(false)
    expect(secrets.decryptAll()).toEqual({ gh: { TOKEN: 'ghp_1' }, mem: { KEY: 'k1' } })
  })

  it('leaves them (and says why) without a keychain', () => {
    const files = write(
      [{ name: 'gh', command: 'x', env: { TOKEN: 'ghp_1' }, secretEnv: ['TOKEN'] }],
      { mem: { KEY: 'k1' } },
    )
    const logs: string[] = []
    const secrets = new KeychainSecretStore(
      memoryStore(),
      fakeSafe({ isEncryptionAvailable: () => false }),
      'linux',
    )
    expect(migrateSecrets(files, secrets, (m) => logs.push(m))).toBe(0)
    expect(fs.readFileSync(files.config, 'utf8')).toContain('ghp_1')
    expect(fs.existsSync(files.secretsFile)).toBe(true)
    expect(logs[0]).toMatch(/2 secret value\(s\) stay in plain text.*keychain is not available/)
  })

  it('does nothing when there is nothing to move', () => {
    const files = write([{ name: 'gh', command: 'x', env: { PLAIN: 'p' } }])
    const before = fs.readFileSync(files.config, 'utf8')
    expect(
      migrateSecrets(
        files,
        new KeychainSecretStore(memoryStore(), fakeSafe(), 'linux'),
        () => undefined,
      ),
    ).toBe(0)
    expect(fs.readFileSync(files.config, 'utf8')).toBe(before)
  })
})
