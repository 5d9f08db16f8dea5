#!/usr/bin/env node
// Entry point for `airlock` (CommonJS — bin/package.json says so — for the fastest start). `connect` goes straight to the small
// shim bundle so that MCP clients start fast; everything else loads the CLI bundle.
'use strict'
const path = require('node:path')
const fs = require('node:fs')

const out = path.join(__dirname, '..', 'out')
const need = (file) => {
  const full = path.join(out, file)
  if (!fs.existsSync(full)) {
    process.stderr.write(
      `airlock: ${full} is missing; run "npm install" (or "npm run build:node") in the Airlock checkout first.\n`,
    )
    process.exit(3)
  }
  return full
}
if (process.argv[2] === 'connect') {
  require(need('shim/connect.cjs'))
} else {
  import(require('node:url').pathToFileURL(need('cli/airlock.mjs')).href)
}
