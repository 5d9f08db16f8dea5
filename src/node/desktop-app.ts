/**
 * How to start the desktop app, recorded by the app in the data directory
 * (`desktop-app.json`, 0600) each time it starts. A shim that finds no gateway starts the app
 * with it when it is there and still installed, else the headless gateway (`airlock serve`).
 * The file is the user's own (in their 0700 data directory); it is still checked: an absolute
 * command that exists, a few short string arguments.
 */
import fs from 'node:fs'
import path from 'node:path'
import { writeFileAtomic } from './atomic-write'
import { dataPaths } from './paths'

/** The desktop app's launch command. */
export interface DesktopAppLaunch {
  command: string
  args: string[]
}

const MAX_ARGS = 16
const MAX_ARG = 4096

/** Records the app's launch command (atomically, 0600). */
export function recordDesktopApp(home: string, launch: DesktopAppLaunch): void {
  writeFileAtomic(dataPaths(home).desktopApp, JSON.stringify(launch, null, 2) + '\n')
}

/** The recorded launch command, when it is valid and its executable still exists. */
export function readDesktopApp(home: string): DesktopAppLaunch | undefined {
  let raw: unknown
  try {
    raw = JSON.parse(fs.readFileSync(dataPaths(home).desktopApp, 'utf8'))
  } catch {
    return undefined
  }
  if (typeof raw !== 'object' || raw === null) return undefined
  const { command, args } = raw as Record<string, unknown>
  if (typeof command !== 'string' || !path.isAbsolute(command)) return undefined
  if (
    !Array.isArray(args) ||
    args.length > MAX_ARGS ||
    !args.every((a): a is string => typeof a === 'string' && a.length <= MAX_ARG)
  )
    return undefined
  try {
    if (!fs.statSync(command).isFile()) return undefined
  } catch {
    return undefined // uninstalled or moved: the headless gateway it is
  }
  return { command, args }
}
