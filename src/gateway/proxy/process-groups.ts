/**
 * No server process outlives its gateway. Each server runs in its own process group (POSIX);
 * the group is recorded in `<data dir>/server-groups/<pgid>` while it may be alive, so that a
 * gateway starting after one that died (kill -9, a crash, a power cut) ends the groups left
 * behind — a grandchild that never reads stdin would otherwise live on. Windows has no process
 * groups; there the session ends the tree with taskkill and nothing is recorded.
 */
import fs from 'node:fs'
import path from 'node:path'
import type { ChildProcess } from 'node:child_process'

/** How long after a server exits its group is still recorded (the session kills it meanwhile). */
const FORGET_AFTER_MS = 3000

/** The record of live server process groups for one data directory. */
export class ProcessGroups {
  constructor(
    private readonly dir: string,
    private readonly log: (msg: string) => void,
    private readonly platform: NodeJS.Platform = process.platform,
  ) {}

  /** Records `child`'s group until a while after it exits (its session ends the group). */
  track(child: ChildProcess, server: string): void {
    const pid = child.pid
    if (pid === undefined || this.platform === 'win32') return
    const file = path.join(this.dir, String(pid))
    try {
      fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 })
      fs.writeFileSync(file, JSON.stringify({ server, gateway: process.pid }) + '\n', {
        mode: 0o600,
      })
    } catch (err) {
      this.log(`could not record the process group of "${server}": ${(err as Error).message}`)
      return
    }
    child.once('exit', () => {
      setTimeout(() => fs.rm(file, { force: true }, () => undefined), FORGET_AFTER_MS).unref()
    })
  }

  /**
   * Ends the groups a previous gateway recorded and removes their records. Call it only while
   * holding the data directory's gateway lock (no live gateway owns them). Returns how many
   * groups were still alive.
   */
  reapOrphans(): number {
    if (this.platform === 'win32') return 0
    let names: string[]
    try {
      names = fs.readdirSync(this.dir)
    } catch {
      return 0
    }
    let ended = 0
    for (const name of names) {
      const pgid = Number(name)
      const file = path.join(this.dir, name)
      if (Number.isInteger(pgid) && pgid > 1) {
        let server = '?'
        try {
          server = String(
            (JSON.parse(fs.readFileSync(file, 'utf8')) as { server?: unknown }).server,
          )
        } catch {
          // An unreadable record still names its group.
        }
        try {
          process.kill(-pgid, 'SIGKILL')
          ended++
          this.log(`ended process group ${pgid} of "${server}", left by a gateway that stopped`)
        } catch {
          // The group is gone already.
        }
      }
      fs.rmSync(file, { force: true })
    }
    return ended
  }
}
