/**
 * Moves secret values that exist in plain text into the OS keychain before the gateway starts:
 * those `airlock serve`/the CLI keep in `secrets.json` (0600, the headless fallback), and older
 * ones written into config.json's `env`. Without a keychain they stay where they are.
 */
import fs from 'node:fs'
import { readConfig, updateConfig } from '../node/config-store'
import { isMasked } from './control-router'
import type { KeychainSecretStore } from './secrets'

/** The plain-text places. */
export interface PlainSecretFiles {
  config: string
  /** The headless FileSecretStore's file. */
  secretsFile: string
}

/** Moves plain-text secrets into the keychain; returns how many moved. Never throws. */
export function migrateSecrets(
  files: PlainSecretFiles,
  secrets: KeychainSecretStore,
  log: (msg: string) => void,
): number {
  const fromFile = readSecretsFile(files.secretsFile, log)
  let inConfig: { server: string; key: string }[] = []
  try {
    inConfig = readConfig(files.config).servers.flatMap((s) =>
      s.secretEnv
        .filter((k) => k in s.env && !isMasked(s.env[k] as string))
        .map((key) => ({ server: s.name, key })),
    )
  } catch (err) {
    log(`secrets in config.json not checked: ${(err as Error).message}`)
  }
  const count =
    Object.values(fromFile).reduce((n, kv) => n + Object.keys(kv).length, 0) + inConfig.length
  if (count === 0) return 0
  const why = secrets.unavailableReason()
  if (why) {
    log(
      `${count} secret value(s) stay in plain text (files of mode 0600 in the data directory): ${why}`,
    )
    return 0
  }
  let moved = 0
  try {
    for (const [server, kv] of Object.entries(fromFile)) {
      for (const [key, value] of Object.entries(kv)) {
        secrets.set(server, key, value)
        moved++
      }
    }
    if (moved) fs.rmSync(files.secretsFile, { force: true })
    if (inConfig.length) {
      updateConfig(files.config, (config) => {
        for (const s of config.servers) {
          for (const key of s.secretEnv) {
            const value = s.env[key]
            if (value === undefined || isMasked(value)) continue
            secrets.set(s.name, key, value)
            delete s.env[key]
            moved++
          }
        }
        return config
      })
    }
  } catch (err) {
    log(`secrets could not all be moved to the keychain: ${(err as Error).message}`)
  }
  return moved
}

function readSecretsFile(
  file: string,
  log: (msg: string) => void,
): Record<string, Record<string, string>> {
  let raw: unknown
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      log(`${file}: not read (${(err as Error).message})`)
    return {}
  }
  const out: Record<string, Record<string, string>> = {}
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return out
  for (const [server, kv] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof kv !== 'object' || kv === null) continue
    for (const [k, v] of Object.entries(kv as Record<string, unknown>))
      if (typeof v === 'string') (out[server] ??= {})[k] = v
  }
  return out
}
