/**
 * Vitest global setup: builds the node bundles (CLI + gateway, and the shim) once, so that the
 * integration tests run the real `bin/airlock.js` against the current sources.
 */
import { execFileSync } from 'node:child_process'
import path from 'node:path'

/** Runs `node scripts/build-node.mjs` in the repository root. */
export default function setup(): void {
  const root = path.resolve(import.meta.dirname, '..', '..')
  execFileSync(process.execPath, [path.join(root, 'scripts', 'build-node.mjs')], {
    cwd: root,
    stdio: 'inherit',
  })
}
