/**
 * Reads Intercept's policy templates (../shared/fixtures/intercept-policies) as a catalogue of
 * tools: each tool's name, its one-line description and the section Intercept files it under
 * (`#  ── Destructive Tools ──` …). Used to check Airlock's classifier against an outside view.
 */
import fs from 'node:fs'
import path from 'node:path'
import { SHARED_FIXTURES } from './shared-fixtures'

/** One tool of the catalogue. */
export interface CatalogueTool {
  file: string
  name: string
  description: string
  /** Intercept's section: Read, Write, Execute, Destructive, Financial or Other. */
  section: string
}

/** Where the catalogue lives relative to the repository (the shared fixtures folder). */
export const CATALOGUE_DIR = path.join(SHARED_FIXTURES, 'intercept-policies')

/** Every tool of every template in `dir`, in file order. */
export function readCatalogue(dir: string = CATALOGUE_DIR): CatalogueTool[] {
  const out: CatalogueTool[] = []
  for (const file of fs
    .readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()) {
    const lines = fs.readFileSync(path.join(dir, file), 'utf8').split(/\r?\n/)
    let section = ''
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] as string
      const head = /^\s*#\s+──\s+(\w+) Tools\s+─/.exec(line)
      if (head) {
        section = head[1] as string
        continue
      }
      const doc = /^\s*#\s+(\S+?): (.*)$/.exec(line)
      if (!doc || !section) continue
      // The comment documents the key on the next line: `    <name>:`.
      const key = /^\s+"?([^"\s]+?)"?:\s*$/.exec(lines[i + 1] ?? '')
      if (key && key[1] === doc[1])
        out.push({ file, name: doc[1] as string, description: doc[2] as string, section })
    }
  }
  return out
}
