// Bundles the plain-Node entry points (CLI + gateway, and the dependency-free shim) with esbuild.
// Runs on `npm install` (prepare) so that `npx airlock …` works right after install.
// Outputs are written atomically (temp file + rename): a client that starts `airlock connect`
// while a rebuild runs never loads half a bundle.
import { build } from 'esbuild'
import fs from 'node:fs'
import path from 'node:path'

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
  write: false,
}

const results = await Promise.all([
  build({
    ...common,
    entryPoints: ['src/cli/main.ts'],
    outfile: 'out/cli/airlock.mjs',
    format: 'esm',
    sourcemap: 'linked',
    // No comments or indentation: the gateway's idle memory holds the source it loaded. A comment
    // with one non-Latin-1 character ("—") made V8 keep the whole 2.7 MB source as UTF-16.
    // Names are kept, so CPU profiles still read; the linked source map has the rest.
    minifyWhitespace: true,
    // jsonc-parser's `main` is a UMD build whose inner require()s esbuild cannot follow
    // (microsoft/node-jsonc-parser#57): bundle its ES module build instead.
    alias: { 'jsonc-parser': 'jsonc-parser/lib/esm/main.js' },
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
  }),
  // The shim: one file, node: builtins only, CommonJS for the fastest cold start.
  build({
    ...common,
    entryPoints: ['src/shim/connect.ts'],
    outfile: 'out/shim/connect.cjs',
    format: 'cjs',
    minify: true,
  }),
])

for (const { outputFiles } of results) {
  for (const file of outputFiles) {
    fs.mkdirSync(path.dirname(file.path), { recursive: true })
    const tmp = `${file.path}.${process.pid}.tmp`
    fs.writeFileSync(tmp, file.contents)
    fs.renameSync(tmp, file.path)
  }
}
