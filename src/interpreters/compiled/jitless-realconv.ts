/**
 * `RealConv` as a plain loop (the jitless and JavaScript back ends): the reference's float64 sums
 * of a real-input convolution, tap by tap in (channel, dy, dx) order, and the float sign
 * epilogue lo ≤ v ≤ hi (kernels.ts).
 */
import type { RealConv } from './kernels.js'
import type { Bind } from './boundKernel.js'
import { bitOf, rowWords32, wordOf } from './layout.js'
import type { WordBits } from './layout.js'

export const realConvLoop = (k: RealConv, wb: WordBits): Bind => (views) => {
  const taps = k.c * k.kh * k.kw
  const os = rowWords32(k.o, wb)
  return (rows, x, _grid, w, thresholds, out) => {
    const { i32, f64 } = views
    const [xw, tw] = [w! / 8, thresholds! / 8]
    i32.fill(0, out! / 4, out! / 4 + rows * k.ho * k.wo * os)
    for (let r = 0; r < rows; r++)
      for (let y = 0; y < k.ho; y++)
        for (let xo = 0; xo < k.wo; xo++) {
          const at = out! / 4 + ((r * k.ho + y) * k.wo + xo) * os
          for (let j = 0; j < k.o; j++) {
            const [p, lane] = [j >> 1, j & 1]
            let v = 0
            let t = 0
            for (let ic = 0; ic < k.c; ic++)
              for (let dy = 0; dy < k.kh; dy++)
                for (let dx = 0; dx < k.kw; dx++, t++) {
                  const iy = y * k.sh + dy - k.ph
                  const ix = xo * k.sw + dx - k.pw
                  const value = iy >= 0 && iy < k.ih && ix >= 0 && ix < k.iw ? f64[x! / 8 + ((r * k.c + ic) * k.ih + iy) * k.iw + ix]! : k.pad
                  v += f64[xw + (p * taps + t) * 2 + lane]! * value
                }
            if (v >= f64[tw + 4 * p + lane]! && v <= f64[tw + 4 * p + 2 + lane]!) i32[at + wordOf(j)]! |= 1 << bitOf(j)
          }
        }
  }
}
