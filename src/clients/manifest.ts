/**
 * The backup manifest of one client: `<AIRLOCK_HOME>/backups/<client>/manifest.json`. For each
 * wrapped file it keeps the first backup's path (the file as it was before Airlock touched it),
 * its hash, the hash right after the last wrap, and the original text of every wrapped entry —
 * what restore needs to put the file back byte for byte, or entry by entry when the file has
 * changed since. Backups and the manifest hold the clients' env values: 0600 files in a 0700
 * directory.
 */
import { createHash } from 'node:crypto'
import path from 'node:path'
import { z } from 'zod'
import { ClientConfigError } from './errors'
import type { ClientFs } from './fs-port'

const entryRecordSchema = z.object({
  key: z.array(z.string()),
  name: z.string(),
  server: z.string(),
  original: z.string(),
  wrapped: z.string(),
})

const fileRecordSchema = z.object({
  file: z.string(),
  scope: z.enum(['user', 'project']),
  project: z.string().optional(),
  /** The file before the first wrap. */
  backup: z.string(),
  /** Every backup taken of this file, oldest first. */
  backups: z.array(z.string()),
  originalHash: z.string(),
  wrappedHash: z.string(),
  /** False once the file changed between two wraps: restore then splices entries. */
  byteRestore: z.boolean(),
  wrappedAt: z.string(),
  entries: z.array(entryRecordSchema),
})

const manifestSchema = z.object({
  version: z.literal(1),
  client: z.string(),
  files: z.array(fileRecordSchema),
})

/** What a wrap of one file recorded. */
export type FileRecord = z.infer<typeof fileRecordSchema>
/** One client's manifest. */
export type ClientManifest = z.infer<typeof manifestSchema>

/** sha256 of bytes, hex. */
export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex')
}

/** The backup directory of a client. */
export function backupDir(home: string, client: string): string {
  return path.join(home, 'backups', client)
}

/** Reads a client's manifest; an absent one is empty. Throws ClientConfigError when it is damaged. */
export function readManifest(fs: ClientFs, home: string, client: string): ClientManifest {
  const file = path.join(backupDir(home, client), 'manifest.json')
  const bytes = fs.read(file)
  if (!bytes) return { version: 1, client, files: [] }
  let raw: unknown
  try {
    raw = JSON.parse(bytes.toString('utf8'))
  } catch (err) {
    raw = err
  }
  const parsed = manifestSchema.safeParse(raw)
  if (!parsed.success) {
    throw new ClientConfigError(
      `${file}: damaged (not a backup manifest). The backups themselves are next to it in ${backupDir(home, client)}: copy the one you want back by hand, then move manifest.json aside.`,
      'MALFORMED',
      file,
    )
  }
  return parsed.data
}

/** Writes a client's manifest (0600, atomically). */
export function writeManifest(fs: ClientFs, home: string, manifest: ClientManifest): void {
  const dir = backupDir(home, manifest.client)
  fs.mkdirp(dir, 0o700)
  fs.writeAtomic(path.join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n', 0o600)
}

/** Copies `bytes` of `file` into the client's backup directory under a timestamped name; returns its path. */
export function writeBackup(
  fs: ClientFs,
  home: string,
  client: string,
  file: string,
  bytes: Buffer,
  now: Date,
): string {
  const dir = backupDir(home, client)
  fs.mkdirp(dir, 0o700)
  const stamp = now.toISOString().replace(/[:.]/g, '-')
  const tag = sha256(file).slice(0, 8)
  let name = `${stamp}-${tag}-${path.basename(file)}`
  for (let n = 2; fs.read(path.join(dir, name)) !== undefined; n++)
    name = `${stamp}-${tag}-${n}-${path.basename(file)}`
  const backup = path.join(dir, name)
  fs.writeAtomic(backup, bytes, 0o600)
  return backup
}
