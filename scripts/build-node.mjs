// Bundles the plain-Node entry points (CLI + gateway, and the dependency-free shim) with esbuild.
// Runs on `npm install` (prepare) so that `npx airlock …` works right after install.
import { build } from 'esbuild'

const common = { bundle: true, platform: 'node', target: 'node20', sourcemap: 'linked', logLevel: 'warning' }

await Promise.all([
  build({ ...common, entryPoints: ['src/cli/main.ts'], outfile: 'out/cli/airlock.mjs', format: 'esm',
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" } }),
  // The shim: one file, node: builtins only, CommonJS for the fastest cold start.
  build({ ...common, entryPoints: ['src/shim/connect.ts'], outfile: 'out/shim/connect.cjs', format: 'cjs', sourcemap: false, minify: true }),
])
