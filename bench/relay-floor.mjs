// The architecture's floor, for `npm run bench`: the same process chain as Airlock (client →
// shim process → gateway process over a Unix socket → server) with pure byte relays — no
// parsing, policy or audit. `node relay-floor.mjs gateway <socket> <server.js>` and
// `node relay-floor.mjs shim <socket>`.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'

const [role, sock, server] = process.argv.slice(2)
if (role === 'gateway') {
  fs.rmSync(sock, { force: true })
  net
    .createServer((s) => {
      const child = spawn(process.execPath, [server, 'stdio'], {
        stdio: ['pipe', 'pipe', 'ignore'],
      })
      s.pipe(child.stdin)
      child.stdout.pipe(s)
      s.on('close', () => child.kill())
      s.on('error', () => child.kill())
    })
    .listen(sock, () => process.stdout.write('listening\n'))
} else if (role === 'shim') {
  const s = net.connect(sock)
  process.stdin.pipe(s)
  s.pipe(process.stdout)
  s.on('close', () => process.exit(0))
} else {
  process.stderr.write('usage: relay-floor.mjs gateway <socket> <server.js> | shim <socket>\n')
  process.exit(2)
}
