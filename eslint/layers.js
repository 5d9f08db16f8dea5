// The import rule of docs/architecture.md as an allow-list: each folder of src/ lists the folders
// it may import (relative imports are resolved against the importing file), whether it may use
// Node built-ins, Electron and npm packages. Anything not listed fails lint.
import path from 'node:path'
import { builtinModules } from 'node:module'

/** folder → what it may import. `folders`: other src/ folders (its own is always allowed). */
export const LAYERS = {
  shared: { folders: [], node: false, electron: false, packages: true },
  node: { folders: ['shared'], node: true, electron: false, packages: true },
  clients: { folders: ['shared', 'node'], node: true, electron: false, packages: true },
  gateway: { folders: ['shared', 'node', 'clients'], node: true, electron: false, packages: true },
  cli: {
    folders: ['shared', 'node', 'clients', 'gateway'],
    node: true,
    electron: false,
    packages: true,
  },
  main: {
    folders: ['shared', 'node', 'clients', 'gateway'],
    node: true,
    electron: true,
    packages: true,
  },
  // Dependency-free: node: built-ins and src/node only (it is bundled into one small file).
  shim: { folders: ['node'], node: true, electron: false, packages: false },
  preload: { folders: ['shared'], node: false, electron: true, packages: false },
  renderer: { folders: ['shared'], node: false, electron: false, packages: true },
}

const SRC = path.resolve(import.meta.dirname, '..', 'src')
const BUILTINS = new Set(builtinModules)

function layerOf(file) {
  const rel = path.relative(SRC, file)
  if (rel.startsWith('..') || path.isAbsolute(rel)) return undefined
  return rel.split(path.sep)[0]
}

function check(context, node, spec) {
  if (typeof spec !== 'string') return
  const from = layerOf(context.filename)
  const rules = from && LAYERS[from]
  if (!rules) return
  const allowed = (why) =>
    context.report({ node, message: `src/${from} may not import "${spec}": ${why}` })
  if (spec.startsWith('.')) {
    const to = layerOf(path.resolve(path.dirname(context.filename), spec))
    if (to === undefined) return allowed('it is outside src/')
    if (to === from || rules.folders.includes(to)) return
    return allowed(
      `src/${from} imports only ${[from, ...rules.folders].map((f) => `src/${f}`).join(', ')} (see docs/architecture.md)`,
    )
  }
  const name = spec.startsWith('node:') ? spec.slice(5) : spec
  if (spec.startsWith('node:') || BUILTINS.has(name.split('/')[0])) {
    if (!rules.node) allowed(`src/${from} runs without Node (no node: built-ins)`)
    return
  }
  if (spec === 'electron' || spec.startsWith('electron/')) {
    if (!rules.electron) allowed(`only src/main and src/preload import electron`)
    return
  }
  if (!rules.packages) allowed(`src/${from} imports no npm packages`)
}

/** The ESLint plugin: rule `layers/imports`. */
export default {
  rules: {
    imports: {
      meta: {
        type: 'problem',
        docs: { description: 'Each src/ folder imports only what its layer allows' },
        schema: [],
      },
      create(context) {
        return {
          ImportDeclaration: (n) => check(context, n.source, n.source.value),
          ExportNamedDeclaration: (n) => n.source && check(context, n.source, n.source.value),
          ExportAllDeclaration: (n) => check(context, n.source, n.source.value),
          ImportExpression: (n) =>
            n.source.type === 'Literal' && check(context, n.source, n.source.value),
        }
      },
    },
  },
}
