/**
 * Serves the UI's files for the `app://airlock/` protocol: path checks (security.ts), then
 * the real path must still be inside the renderer build (no symlink escapes). I/O injected.
 */
import path from 'node:path'
import { mimeType, resolveAppFile, withSecurityHeaders } from './security'

/** The file operations used. */
export interface FileIo {
  realpath(p: string): Promise<string>
  readFile(p: string): Promise<Uint8Array>
}

/** A response to build with the platform's Response class. */
export interface FileResponse {
  status: number
  headers: Record<string, string[]>
  body: Uint8Array | string
}

/** Answers one request for a file of the renderer build at `root`. */
export async function serveAppFile(
  root: string,
  url: string,
  csp: string,
  io: FileIo,
): Promise<FileResponse> {
  const notFound = (): FileResponse => ({
    status: 404,
    headers: withSecurityHeaders({ 'Content-Type': 'text/plain' }, csp),
    body: 'not found',
  })
  const file = resolveAppFile(root, url)
  if (!file) return notFound()
  try {
    const realRoot = await io.realpath(root)
    const real = await io.realpath(file)
    const rel = path.relative(realRoot, real)
    if (!rel || rel.startsWith('..') || path.isAbsolute(rel)) return notFound()
    return {
      status: 200,
      headers: withSecurityHeaders({ 'Content-Type': mimeType(real) }, csp),
      body: await io.readFile(real),
    }
  } catch {
    return notFound()
  }
}
