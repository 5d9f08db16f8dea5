/**
 * `npm start` where the Electron runtime is missing and cannot be downloaded: the real start
 * script, as a child process (the unit tests of its parts are in test/unit/main/start.test.ts).
 */
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { findElectron, MISSING_RUNTIME_MESSAGE } from '../../scripts/electron-runtime.mjs'

const ROOT = path.resolve(import.meta.dirname, '..', '..')

describe('npm start without the runtime', () => {
  it.skipIf(findElectron(ROOT).ok)(
    'prints one clear line naming `npx airlock serve` and exits 1',
    () => {
      const r = spawnSync(
        process.execPath,
        [path.join(ROOT, 'scripts', 'start.mjs'), '--no-build'],
        { cwd: ROOT, encoding: 'utf8' },
      )
      expect(r.status).toBe(1)
      expect(r.stdout).toBe('')
      // It tried the package's installer (no network to GitHub here) and says why in one line.
      const lines = r.stderr.trim().split('\n')
      expect(lines).toHaveLength(1)
      expect(lines[0]).toContain(MISSING_RUNTIME_MESSAGE)
      expect(MISSING_RUNTIME_MESSAGE).toContain('npx airlock serve')
    },
  )
})
