// Writes the app's installer icons into build/ from the same drawing as the tray icon
// (src/main/tray-icons.ts): icon.png (1024 px, Linux and the source electron-builder reads),
// icon.ico (Windows: 256 px PNG inside) and icon.icns (macOS: 256, 512 and 1024 px PNGs inside).
// Run it after changing the drawing: `npx tsx scripts/make-icons.mts`; the results are committed.
import fs from 'node:fs'
import path from 'node:path'
import { trayIconPng } from '../src/main/tray-icons'

const out = path.resolve(import.meta.dirname, '..', 'build')
fs.mkdirSync(out, { recursive: true })
const png = (size: number): Buffer => trayIconPng('idle', size)

function ico(image: Buffer): Buffer {
  const header = Buffer.alloc(6 + 16)
  header.writeUInt16LE(0, 0) // reserved
  header.writeUInt16LE(1, 2) // type: icon
  header.writeUInt16LE(1, 4) // one image
  header.writeUInt8(0, 6) // width 256 is written as 0
  header.writeUInt8(0, 7) // height 256
  header.writeUInt16LE(1, 10) // colour planes
  header.writeUInt16LE(32, 12) // bits per pixel
  header.writeUInt32LE(image.length, 14)
  header.writeUInt32LE(header.length, 18) // offset of the image
  return Buffer.concat([header, image])
}

function icns(entries: [type: string, image: Buffer][]): Buffer {
  const parts = entries.map(([type, image]) => {
    const head = Buffer.alloc(8)
    head.write(type, 0, 'ascii')
    head.writeUInt32BE(image.length + 8, 4)
    return Buffer.concat([head, image])
  })
  const head = Buffer.alloc(8)
  head.write('icns', 0, 'ascii')
  head.writeUInt32BE(8 + parts.reduce((n, p) => n + p.length, 0), 4)
  return Buffer.concat([head, ...parts])
}

fs.writeFileSync(path.join(out, 'icon.png'), png(1024))
fs.writeFileSync(path.join(out, 'icon.ico'), ico(png(256)))
fs.writeFileSync(
  path.join(out, 'icon.icns'),
  icns([
    ['ic08', png(256)],
    ['ic09', png(512)],
    ['ic10', png(1024)],
  ]),
)
console.log(`icons written to ${out}`)
