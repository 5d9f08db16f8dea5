/**
 * The project's shared fixtures (`../shared/fixtures` beside the checkout) hold real data that no
 * one here wrote. A clone with nothing beside it must still pass: a test that needs them asks
 * here, and is skipped with the reason printed — except on CI (`CI` set), where they must exist.
 */
import fs from 'node:fs'
import path from 'node:path'

/** The shared fixtures folder, relative to the repository root. */
export const SHARED_FIXTURES = path.resolve(__dirname, '..', '..', '..', 'shared', 'fixtures')

/**
 * The absolute path of `rel` inside the shared fixtures, or undefined when it is absent (the
 * reason is printed once for `testFile`). Throws on CI, where the fixtures are required.
 */
export function sharedFixture(rel: string, testFile: string): string | undefined {
  const file = path.join(SHARED_FIXTURES, rel)
  if (fs.existsSync(file)) return file
  if (process.env.CI) throw new Error(`${file} is missing: CI must run ${testFile} with it`)
  process.stderr.write(`\n⚠ ${testFile}: tests that need ${file} are skipped (it is absent)\n\n`)
  return undefined
}
