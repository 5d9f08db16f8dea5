/** Types of electron-runtime.mjs. */
export declare const MISSING_RUNTIME_MESSAGE: string
export declare function findElectron(
  root?: string,
  env?: NodeJS.ProcessEnv,
): { ok: true; path: string } | { ok: false; reason: string }
export declare function electronViteBin(root?: string): string
