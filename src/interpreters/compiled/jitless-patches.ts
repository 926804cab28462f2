/**
 * `PackPatches` as a plain loop (the jitless and JavaScript back ends, and the WebAssembly one,
 * which does not specialise it): im2col of a float64 NCHW image into the 8-bit rows of
 * `PackBytes`, one row per output position, with the validity test of the 8-bit choice.
 */
import type { PackPatches } from './kernels.js'
import type { Bind } from './jitless.js'
import { bytesPerExample, bytesRow } from './layout.js'

/** Whether a float64 is an integer in [0, 255] (the 8-bit kernels' condition). */
const isByte = (v: number): boolean => v >= 0 && v <= 255 && Math.floor(v) === v

export const packPatchesLoop = (k: PackPatches): Bind => (views) => {
  const kk = k.c * k.kh * k.kw
  const row = bytesPerExample(kk)
  const image = new Uint8Array(k.c * k.h * k.w)
  return (rows, x, bytes) => {
    const { u8, i32, f64 } = views
    let ok = 1
    for (let r = 0; r < rows; r++) {
      const src = x! / 8 + r * image.length
      for (let i = 0; i < image.length; i++) {
        const v = f64[src + i]!
        if (!isByte(v)) ok = 0
        image[i] = v & 255
      }
      for (let y = 0; y < k.ho; y++)
        for (let xo = 0; xo < k.wo; xo++) {
          const base = bytes! + ((r * k.ho + y) * k.wo + xo) * row
          let i = 0
          let sum = 0
          for (let ic = 0; ic < k.c; ic++)
            for (let dy = 0; dy < k.kh; dy++) {
              const iy = y * k.sh + dy - k.ph
              for (let dx = 0; dx < k.kw; dx++) {
                const ix = xo * k.sw + dx - k.pw
                const v = iy >= 0 && iy < k.h && ix >= 0 && ix < k.w ? image[(ic * k.h + iy) * k.w + ix]! : k.pad
                u8[base + i++] = v
                sum += v
              }
            }
          u8.fill(0, base + kk, base + bytesRow(kk))
          i32[(base + bytesRow(kk)) / 4] = sum
        }
    }
    return ok
  }
}
