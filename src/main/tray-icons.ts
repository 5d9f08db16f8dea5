/**
 * Tray icons drawn in code (no binary assets): an airlock hatch — a ring with a bar — in a
 * colour per state, with a badge dot when approvals wait and two bars when paused. PNG bytes,
 * for `nativeImage.createFromBuffer`.
 */
import { deflateSync } from 'node:zlib'
import type { TrayIconVariant } from './tray-menu'

type Rgba = readonly [number, number, number, number]

const COLOURS: Record<TrayIconVariant, { ring: Rgba; mark: Rgba }> = {
  idle: { ring: [46, 125, 150, 255], mark: [46, 125, 150, 255] },
  pending: { ring: [46, 125, 150, 255], mark: [232, 120, 20, 255] },
  paused: { ring: [128, 128, 128, 255], mark: [128, 128, 128, 255] },
}

/**
 * macOS template images: black and alpha only; the menu bar tints them for light and dark mode
 * and for the highlighted state. The state shows by shape (the badge dot, the pause bars), and
 * paused is drawn at half alpha, as disabled items are.
 */
const TEMPLATE: Record<TrayIconVariant, { ring: Rgba; mark: Rgba }> = {
  idle: { ring: [0, 0, 0, 255], mark: [0, 0, 0, 255] },
  pending: { ring: [0, 0, 0, 255], mark: [0, 0, 0, 255] },
  paused: { ring: [0, 0, 0, 128], mark: [0, 0, 0, 128] },
}

/**
 * The icon for a variant as PNG bytes, `size` pixels square (16 and 32 for 1x/2x). `template`
 * draws the macOS template form (pass the image to `setTemplateImage(true)`).
 */
export function trayIconPng(variant: TrayIconVariant, size = 16, template = false): Buffer {
  const { ring, mark } = (template ? TEMPLATE : COLOURS)[variant]
  const px = new Uint8Array(size * size * 4)
  const ss = 4 // supersampling per axis, for smooth edges
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let r = 0,
        g = 0,
        b = 0,
        a = 0
      for (let sy = 0; sy < ss; sy++) {
        for (let sx = 0; sx < ss; sx++) {
          // Unit coordinates, centre (0,0), edge ±1.
          const u = ((x + (sx + 0.5) / ss) / size) * 2 - 1
          const v = ((y + (sy + 0.5) / ss) / size) * 2 - 1
          const c = shade(variant, u, v, ring, mark)
          if (c) {
            r += c[0] * c[3]
            g += c[1] * c[3]
            b += c[2] * c[3]
            a += c[3]
          }
        }
      }
      const o = (y * size + x) * 4
      const n = ss * ss
      px[o] = a ? Math.round(r / a) : 0
      px[o + 1] = a ? Math.round(g / a) : 0
      px[o + 2] = a ? Math.round(b / a) : 0
      px[o + 3] = Math.round(a / n)
    }
  }
  return encodePng(size, size, px)
}

function shade(
  variant: TrayIconVariant,
  u: number,
  v: number,
  ring: Rgba,
  mark: Rgba,
): Rgba | undefined {
  const d = Math.hypot(u, v)
  if (variant === 'pending') {
    // A badge dot in the top right corner.
    if (Math.hypot(u - 0.55, v + 0.55) < 0.42) return mark
  }
  if (d > 0.72 && d < 0.95) return ring
  if (variant === 'paused') {
    if (Math.abs(v) < 0.4 && ((u > -0.32 && u < -0.1) || (u > 0.1 && u < 0.32))) return mark
    return undefined
  }
  // The hatch bar.
  if (Math.abs(v) < 0.13 && Math.abs(u) < 0.55) return ring
  return undefined
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    t[n] = c >>> 0
  }
  return t
})()

function crc32(buf: Uint8Array): number {
  let c = 0xffffffff
  for (const byte of buf) c = (CRC_TABLE[(c ^ byte) & 0xff] as number) ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

function chunk(type: string, data: Uint8Array): Buffer {
  const len = Buffer.alloc(4)
  len.writeUInt32BE(data.length)
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data])
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(body))
  return Buffer.concat([len, body, crc])
}

/** Encodes RGBA pixels as a PNG (8-bit, no filtering). */
export function encodePng(width: number, height: number, rgba: Uint8Array): Buffer {
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(width, 0)
  ihdr.writeUInt32BE(height, 4)
  ihdr[8] = 8 // bit depth
  ihdr[9] = 6 // colour type RGBA
  const raw = Buffer.alloc((width * 4 + 1) * height)
  for (let y = 0; y < height; y++) {
    raw[y * (width * 4 + 1)] = 0
    Buffer.from(rgba.buffer, rgba.byteOffset + y * width * 4, width * 4).copy(
      raw,
      y * (width * 4 + 1) + 1,
    )
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array(0)),
  ])
}
