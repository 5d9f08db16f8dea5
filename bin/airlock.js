#!/usr/bin/env node
// Entry point for `airlock`. `connect` goes straight to the small shim bundle so that MCP
// clients start fast; everything else loads the CLI bundle.
import { createRequire } from 'node:module'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const out = fileURLToPath(new URL('../out/', import.meta.url))
const need = (file) => {
  if (!existsSync(out + file)) {
    process.stderr.write(`airlock: ${out + file} is missing; run "npm install" (or "npm run build:node") in the Airlock checkout first.\n`)
    process.exit(3)
  }
  return out + file
}
if (process.argv[2] === 'connect') {
  createRequire(import.meta.url)(need('shim/connect.cjs'))
} else {
  await import(need('cli/airlock.mjs'))
}
