/**
 * Convolution on the GEMM module without a float64 patch matrix: the patches are gathered from
 * the NCHW input straight into the micro-kernel's f32 panels (or into sign bits when input,
 * kernel and padding are all ±1), the product runs in WebAssembly, and its result is read back
 * directly in NCHW order (forward), as the kernel gradient, or folded into the input gradient
 * (col2im). Every sum has the terms and the order of the reference's `spatial.conv2d` on the
 * same kernels (a sequential single-precision dot product per output element), so the rounding
 * bounds of the products apply unchanged; the ±1 × ±1 forward product is exact.
 *
 * Products as the reference forms them, with rows = n·ho·wo patch rows (b, oy, ox) and
 * depth = c·kh·kw taps (ic, ky, kx):
 * - forward: out[oc, row] = Σ_tap K[oc, tap]·patch[row, tap];
 * - kernel gradient: gK[oc, tap] = Σ_row g[oc, row]·patch[row, tap];
 * - input gradient: gPatch[row, tap] = Σ_oc g[oc, row]·K[oc, tap], then col2im.
 */
import type { NDArray } from '../../interpreters/ndarray.js'
import type { ConvGeom } from '../../interpreters/reference/spatial.js'
import { convGeometry } from '../../interpreters/reference/spatial.js'
import type { GemmEngine } from './engine.js'
import { bitWords, ceilTo, packBits, packPanels } from './panels.js'

type Pair = readonly [number, number]

/** Patch rows per chunk of the forward and input-gradient products (about half a megabyte of panels). */
const CHUNK_ROWS = 1024

/** Offsets of the taps (ic, ky, kx) from a window's top-left input cell, in tap order. */
const tapOffsets = (g: ConvGeom): Int32Array => {
  const t = new Int32Array(g.c * g.kh * g.kw)
  let p = 0
  for (let ic = 0; ic < g.c; ic++) for (let ky = 0; ky < g.kh; ky++) for (let kx = 0; kx < g.kw; kx++) t[p++] = (ic * g.h + ky) * g.w + kx
  return t
}

/**
 * Writes patch[row, tap] to dst[base + ⌊row/R⌋·RS + (row mod R)·RL + pOff[tap]] for every row
 * (b, oy, ox) of the examples b0 ≤ b < b1 (row counted from b0) and every tap; padding cells get
 * `padValue`. Windows wholly inside the image (the common case) read through the tap offsets
 * without bounds checks.
 */
const gather = (
  dst: Float32Array, X: Float64Array, g: ConvGeom, padValue: number, base: number, R: number, RS: number, RL: number, pOff: Int32Array,
  b0 = 0, b1 = g.n,
): void => {
  const taps = tapOffsets(g)
  const depth = taps.length
  const image = g.c * g.h * g.w
  let row = 0
  for (let b = b0; b < b1; b++) {
    const xb = b * image
    for (let oy = 0; oy < g.ho; oy++) {
      const iy0 = oy * g.sh - g.ph
      const rowsInside = iy0 >= 0 && iy0 + g.kh <= g.h
      for (let ox = 0; ox < g.wo; ox++, row++) {
        const ix0 = ox * g.sw - g.pw
        const d = base + ((row / R) | 0) * RS + (row % R) * RL
        if (rowsInside && ix0 >= 0 && ix0 + g.kw <= g.w) {
          const x0 = xb + iy0 * g.w + ix0
          for (let p = 0; p < depth; p++) dst[d + pOff[p]!] = X[x0 + taps[p]!]!
          continue
        }
        for (let ic = 0, p = 0; ic < g.c; ic++)
          for (let ky = 0; ky < g.kh; ky++) {
            const iy = iy0 + ky
            const inY = iy >= 0 && iy < g.h
            const x0 = xb + (ic * g.h + iy) * g.w
            for (let kx = 0; kx < g.kw; kx++, p++) {
              const ix = ix0 + kx
              dst[d + pOff[p]!] = inY && ix >= 0 && ix < g.w ? X[x0 + ix]! : padValue
            }
          }
      }
    }
  }
}

/** The high word of ±1 without its sign bit; the low word of ±1 is 0. */
const ONE_HI = 0x3ff00000

/** 1 where x is +1, 0 where −1; undefined if some value is not ±1 (read branchless from the float bits). */
const signBits = (X: Float64Array): Uint8Array | undefined => {
  const u = new Uint32Array(X.buffer, X.byteOffset, X.length * 2)
  const s = new Uint8Array(X.length)
  let bad = 0
  for (let i = 0, e = 0; i < X.length; i++, e += 2) {
    const hi = u[e + 1]!
    bad |= u[e]! | ((hi & 0x7fffffff) ^ ONE_HI)
    s[i] = ~hi >>> 31
  }
  return bad === 0 ? s : undefined
}

/** Patch rows as sign bits (packBits' layout: row r at u32 index at + 2·words·r, tap p at bit p). */
const gatherBits = (dst: Uint32Array, at: number, S: Uint8Array, g: ConvGeom, padBit: number, words: number): void => {
  const taps = tapOffsets(g)
  const depth = taps.length
  const image = g.c * g.h * g.w
  const w32 = 2 * words
  let row = 0
  for (let b = 0; b < g.n; b++)
    for (let oy = 0; oy < g.ho; oy++) {
      const iy0 = oy * g.sh - g.ph
      for (let ox = 0; ox < g.wo; ox++, row++) {
        const ix0 = ox * g.sw - g.pw
        const r0 = at + row * w32
        for (let k = 0; k < w32; k++) dst[r0 + k] = 0
        const inside = iy0 >= 0 && iy0 + g.kh <= g.h && ix0 >= 0 && ix0 + g.kw <= g.w
        const x0 = b * image + iy0 * g.w + ix0
        for (let p0 = 0, k = 0; p0 < depth; p0 += 32, k++) {
          const end = Math.min(32, depth - p0)
          let word = 0
          for (let t = 0; t < end; t++) {
            const p = p0 + t
            let bit: number
            if (inside) bit = S[x0 + taps[p]!]!
            else {
              const kx = p % g.kw
              const ky = ((p / g.kw) | 0) % g.kh
              const ic = (p / (g.kw * g.kh)) | 0
              const iy = iy0 + ky
              const ix = ix0 + kx
              bit = iy >= 0 && iy < g.h && ix >= 0 && ix < g.w ? S[b * image + (ic * g.h + iy) * g.w + ix]! : padBit
            }
            word |= bit << t
          }
          dst[r0 + k] = word
        }
      }
    }
}

/** The forward product by XOR + popcount when input, kernel (and padding, if any) are ±1; false otherwise. */
const signConv = (e: GemmEngine, x: NDArray, k: NDArray, g: ConvGeom, padValue: number, out: Float64Array): boolean => {
  if ((g.ph > 0 || g.pw > 0) && padValue !== 1 && padValue !== -1) return false
  if (Math.abs(x.data[0]!) !== 1 || Math.abs(k.data[0]!) !== 1) return false
  const S = signBits(x.data)
  if (S === undefined) return false
  const depth = g.c * g.kh * g.kw
  const rows = g.n * g.ho * g.wo
  const words = bitWords(depth)
  const aAt = 0
  const bAt = g.o * words * 2
  const cAt = bAt + rows * words * 2
  e.ensure((cAt + g.o * rows) * 4)
  const u32 = e.u32()
  if (!packBits(u32, aAt, { data: k.data, rs: depth, ds: 1 }, g.o, depth, words)) return false
  gatherBits(u32, bAt, S, g, padValue === 1 ? 1 : 0, words)
  e.bitgemm(aAt * 4, bAt * 4, cAt * 4, g.o, rows, words)
  const i32 = e.i32()
  const hw = g.ho * g.wo
  // Σ ±1·±1 = depth − 2·popcount(a XOR b); C is [o, rows], out NCHW.
  for (let b = 0, o = 0; b < g.n; b++)
    for (let oc = 0; oc < g.o; oc++) {
      const src = cAt + oc * rows + b * hw
      for (let s = 0; s < hw; s++, o++) out[o] = depth - 2 * i32[src + s]!
    }
  return true
}

/** Zero-fills [from, to) of f32 memory when a panel region has padding (rows or depth). */
const clear = (f32: Float32Array, from: number, to: number, padded: boolean): void => {
  if (padded) f32.fill(0, from, to)
}

/** `spatial.conv2d` on the engine: K·patchesᵀ in f32 (or bits), written NCHW. */
export const convForward = (e: GemmEngine) => (x: NDArray, k: NDArray, stride: Pair, padding: Pair, padValue: number): NDArray => {
  const g = convGeometry(x, k, stride, padding)
  const depth = g.c * g.kh * g.kw
  const hw = g.ho * g.wo
  const out = new Float64Array(g.n * g.o * hw)
  const shape = [g.n, g.o, g.ho, g.wo]
  if (out.length === 0 || depth === 0) return { shape, data: out }
  if (e.bits && signConv(e, x, k, g, padValue, out)) return { shape, data: out }
  const { mr, nr, unroll } = e.blocking
  // Examples in chunks of about CHUNK_ROWS patch rows, so that each chunk's panels and product
  // stay in cache; every output is the same dot product whatever the chunking.
  const per = Math.max(1, Math.floor(CHUNK_ROWS / hw))
  const mPanels = Math.ceil(g.o / mr)
  const nPanels = Math.ceil((Math.min(per, g.n) * hw) / nr)
  const kpad = ceilTo(depth, unroll)
  const ldc = nPanels * nr
  const aAt = 0
  const bAt = ceilTo(mPanels * mr * kpad, 4)
  const cAt = ceilTo(bAt + nPanels * nr * kpad, 4)
  e.ensure((cAt + mPanels * mr * ldc) * 4)
  const f32 = e.f32()
  packPanels(f32, aAt, { data: k.data, rs: depth, ds: 1 }, g.o, depth, mr, kpad)
  const pOff = Int32Array.from({ length: depth }, (_, p) => p * nr)
  for (let b0 = 0; b0 < g.n; b0 += per) {
    const b1 = Math.min(g.n, b0 + per)
    const chunkRows = (b1 - b0) * hw
    const panels = Math.ceil(chunkRows / nr)
    clear(f32, bAt, cAt, kpad !== depth || chunkRows % nr !== 0)
    gather(f32, x.data, g, padValue, bAt, nr, kpad * nr, 1, pOff, b0, b1)
    e.gemm(aAt * 4, bAt * 4, cAt * 4, mPanels, panels, kpad, ldc * 4)
    for (let b = b0, o = b0 * g.o * hw; b < b1; b++)
      for (let oc = 0; oc < g.o; oc++) {
        const src = cAt + oc * ldc + (b - b0) * hw
        for (let s = 0; s < hw; s++, o++) out[o] = f32[src + s]!
      }
  }
  return { shape, data: out }
}

/** The kernel gradient gK[oc, tap] = Σ_row g[oc, row]·patch[row, tap] (f32 panels). */
const kernelGradient = (e: GemmEngine, x: NDArray, G: Float64Array, g: ConvGeom, padValue: number): Float64Array => {
  const depth = g.c * g.kh * g.kw
  const rows = g.n * g.ho * g.wo
  const hw = g.ho * g.wo
  const { mr, nr, unroll } = e.blocking
  const mPanels = Math.ceil(g.o / mr)
  const nPanels = Math.ceil(depth / nr)
  const kpad = ceilTo(rows, unroll)
  const ldc = nPanels * nr
  const aAt = 0
  const bAt = ceilTo(mPanels * mr * kpad, 4)
  const cAt = ceilTo(bAt + nPanels * nr * kpad, 4)
  e.ensure((cAt + mPanels * mr * ldc) * 4)
  const f32 = e.f32()
  // A: panels of mr output channels, depth (the patch row b·hw + s) major.
  clear(f32, aAt, bAt, kpad !== rows || g.o % mr !== 0)
  for (let oc = 0; oc < g.o; oc++) {
    const lane = aAt + ((oc / mr) | 0) * kpad * mr + (oc % mr)
    for (let b = 0; b < g.n; b++) {
      const src = (b * g.o + oc) * hw
      for (let s = 0, d = lane + b * hw * mr; s < hw; s++, d += mr) f32[d] = G[src + s]!
    }
  }
  // B: panels of nr taps, patch rows major.
  clear(f32, bAt, cAt, kpad !== rows || depth % nr !== 0)
  const pOff = Int32Array.from({ length: depth }, (_, p) => ((p / nr) | 0) * kpad * nr + (p % nr))
  gather(f32, x.data, g, padValue, bAt, 1, nr, 0, pOff)
  e.gemm(aAt * 4, bAt * 4, cAt * 4, mPanels, nPanels, kpad, ldc * 4)
  const gk = new Float64Array(g.o * depth)
  for (let oc = 0, o = 0; oc < g.o; oc++) for (let p = 0; p < depth; p++, o++) gk[o] = f32[cAt + oc * ldc + p]!
  return gk
}

/** The input gradient: gPatch = gᵀ·K in f32 panels, folded back into NCHW by col2im (float64 adds), by chunks of examples. */
const inputGradient = (e: GemmEngine, x: NDArray, k: NDArray, G: Float64Array, g: ConvGeom): Float64Array => {
  const depth = g.c * g.kh * g.kw
  const hw = g.ho * g.wo
  const { mr, nr, unroll } = e.blocking
  const per = Math.max(1, Math.floor(CHUNK_ROWS / hw))
  const mPanels = Math.ceil((Math.min(per, g.n) * hw) / mr)
  const nPanels = Math.ceil(depth / nr)
  const kpad = ceilTo(g.o, unroll)
  const ldc = nPanels * nr
  const bAt = 0
  const aAt = ceilTo(nPanels * nr * kpad, 4)
  const cAt = ceilTo(aAt + mPanels * mr * kpad, 4)
  e.ensure((cAt + mPanels * mr * ldc) * 4)
  const f32 = e.f32()
  packPanels(f32, bAt, { data: k.data, rs: 1, ds: depth }, depth, g.o, nr, kpad)
  const gx = new Float64Array(x.data.length)
  const image = g.c * g.h * g.w
  const taps = tapOffsets(g)
  for (let b0 = 0; b0 < g.n; b0 += per) {
    const b1 = Math.min(g.n, b0 + per)
    const chunkRows = (b1 - b0) * hw
    // A: panels of mr patch rows, output channel major (q, r: the panel and lane of the row).
    clear(f32, aAt, cAt, kpad !== g.o || chunkRows % mr !== 0)
    for (let b = b0; b < b1; b++) {
      const q0 = (((b - b0) * hw) / mr) | 0
      const r0 = ((b - b0) * hw) % mr
      for (let oc = 0; oc < g.o; oc++) {
        const src = (b * g.o + oc) * hw
        for (let s = 0, q = q0, r = r0; s < hw; s++) {
          f32[aAt + (q * kpad + oc) * mr + r] = G[src + s]!
          if (++r === mr) { r = 0; q++ }
        }
      }
    }
    e.gemm(aAt * 4, bAt * 4, cAt * 4, Math.ceil(chunkRows / mr), nPanels, kpad, ldc * 4)
    // col2im, rows and taps in the reference's order (windows inside the image through the tap offsets).
    let at = cAt
    for (let b = b0; b < b1; b++)
      for (let oy = 0; oy < g.ho; oy++) {
        const iy0 = oy * g.sh - g.ph
        const rowsInside = iy0 >= 0 && iy0 + g.kh <= g.h
        for (let ox = 0; ox < g.wo; ox++, at += ldc) {
          const ix0 = ox * g.sw - g.pw
          if (rowsInside && ix0 >= 0 && ix0 + g.kw <= g.w) {
            const x0 = b * image + iy0 * g.w + ix0
            for (let p = 0; p < depth; p++) gx[x0 + taps[p]!]! += f32[at + p]!
            continue
          }
          for (let ic = 0, t = at; ic < g.c; ic++)
            for (let ky = 0; ky < g.kh; ky++) {
              const iy = iy0 + ky
              const rowInside = iy >= 0 && iy < g.h
              const x0 = b * image + (ic * g.h + iy) * g.w + ix0
              for (let kx = 0; kx < g.kw; kx++, t++) {
                const ix = ix0 + kx
                if (rowInside && ix >= 0 && ix < g.w) gx[x0 + kx]! += f32[t]!
              }
            }
        }
      }
  }
  return gx
}

/** `spatial.conv2dBackward` on the engine: kernel gradient, and the input gradient when needed (else zeros). */
export const convBackward = (e: GemmEngine) => (
  x: NDArray, k: NDArray, gOut: NDArray, stride: Pair, padding: Pair, padValue: number, needInput: boolean,
): { readonly input: NDArray; readonly kernel: NDArray } => {
  const g = convGeometry(x, k, stride, padding)
  const depth = g.c * g.kh * g.kw
  const rows = g.n * g.ho * g.wo
  if (rows === 0 || depth === 0 || g.o === 0)
    return { input: { shape: x.shape, data: new Float64Array(x.data.length) }, kernel: { shape: k.shape, data: new Float64Array(k.data.length) } }
  const gk = kernelGradient(e, x, gOut.data, g, padValue)
  const gx = needInput ? inputGradient(e, x, k, gOut.data, g) : new Float64Array(x.data.length)
  return { input: { shape: x.shape, data: gx }, kernel: { shape: k.shape, data: gk } }
}
