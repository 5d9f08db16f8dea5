/**
 * Playwright global setup: builds what the end-to-end tests run — the node bundles (CLI, gateway,
 * shim) and the renderer — when they are missing or older than their sources, so that
 * `npx playwright test` works on its own as well as after `npm test`'s build.
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

const ROOT = path.resolve(import.meta.dirname, '..', '..')

/** The newest modification time under `dir` (ms). */
function newest(dir: string): number {
  let max = 0
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name)
    max = Math.max(max, entry.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs)
  }
  return max
}

function stale(output: string, ...sources: string[]): boolean {
  const file = path.join(ROOT, output)
  if (!fs.existsSync(file)) return true
  const built = fs.statSync(file).mtimeMs
  return sources.some((s) => newest(path.join(ROOT, s)) > built)
}

export default function globalSetup(): void {
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build-node.mjs')], {
    cwd: ROOT,
    stdio: 'inherit',
  })
  if (stale('out/renderer/index.html', 'src/renderer', 'src/shared')) {
    const vite = path.join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js')
    execFileSync(
      process.execPath,
      [
        vite,
        'build',
        'src/renderer',
        '--outDir',
        '../../out/renderer',
        '--emptyOutDir',
        '--base',
        '.',
        '--logLevel',
        'warn',
      ],
      { cwd: ROOT, stdio: 'inherit' },
    )
  }
}
