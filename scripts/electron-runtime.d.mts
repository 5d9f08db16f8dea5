/** Types of electron-runtime.mjs. */
export declare const MISSING_RUNTIME_MESSAGE: string
export declare function findElectron(
  root?: string,
  env?: NodeJS.ProcessEnv,
): { ok: true; path: string } | { ok: false; reason: string }
export declare function electronViteBin(root?: string): string
export declare function installElectron(
  root?: string,
  env?: NodeJS.ProcessEnv,
  spawnSync?: typeof import('node:child_process').spawnSync,
): { ok: true } | { ok: false; reason: string }
export declare function appEnv(env?: NodeJS.ProcessEnv): NodeJS.ProcessEnv
export declare function sandboxHint(
  signal: NodeJS.Signals | null,
  platform?: NodeJS.Platform,
): string | undefined
