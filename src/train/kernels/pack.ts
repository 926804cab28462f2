/**
 * The three products of `Kernels` as one problem, C[m,n] = Σ_p A(i,p)·B(p,j), with both operands
 * seen as strided "rows × depth" views (A by its rows i, B by its columns j), so that a single
 * packing routine serves every transpose. Packing converts float64 to the kernel's formats:
 * f32 panels (zero-padded) for the SIMD micro-kernel, or sign bits for ±1 operands.
 */
import type { NDArray } from '../../interpreters/ndarray.js'

/** Element (r, d) of the view is `data[r·rs + d·ds]`. */
export interface Strided {
  readonly data: Float64Array
  readonly rs: number
  readonly ds: number
}

/** C[m,n] = Σ_{p<k} A(i,p)·B(p,j), with `b` viewed as B's columns (j, p). */
export interface Product {
  readonly m: number
  readonly n: number
  readonly k: number
  readonly a: Strided
  readonly b: Strided
}

/** [m,k]·[k,n] → [m,n] */
export const productNN = (a: NDArray, b: NDArray): Product => {
  const [m, k] = a.shape as [number, number]
  const n = b.shape[1]!
  return { m, n, k, a: { data: a.data, rs: k, ds: 1 }, b: { data: b.data, rs: 1, ds: n } }
}

/** [m,n]·[k,n]ᵀ → [m,k] */
export const productNT = (a: NDArray, b: NDArray): Product => {
  const [m, depth] = a.shape as [number, number]
  const n = b.shape[0]!
  return { m, n, k: depth, a: { data: a.data, rs: depth, ds: 1 }, b: { data: b.data, rs: depth, ds: 1 } }
}

/** [m,k]ᵀ·[m,n] → [k,n] */
export const productTN = (a: NDArray, b: NDArray): Product => {
  const [depth, m] = a.shape as [number, number]
  const n = b.shape[1]!
  return { m, n, k: depth, a: { data: a.data, rs: 1, ds: m }, b: { data: b.data, rs: 1, ds: n } }
}

export const ceilTo = (x: number, q: number): number => Math.ceil(x / q) * q

/**
 * Whether the first values are all ±1: a cheap test that rejects real operands (gradients,
 * pixels) before any packing, so only plausible sign operands are packed as bits.
 */
export const startsWithSigns = (data: Float64Array): boolean => {
  const n = Math.min(8, data.length)
  for (let i = 0; i < n; i++) if (Math.abs(data[i]!) !== 1) return false
  return true
}

/**
 * Packs `rows × depth` of `v` into f32 panels of `w` rows: panel q holds rows q·w … q·w+w−1,
 * element (r, p) at `at + (q·kpad + p)·w + r − q·w`. Rows past `rows` and depths past `depth`
 * are zero, so the micro-kernel can run full blocks.
 */
export const packPanels = (dst: Float32Array, at: number, v: Strided, rows: number, depth: number, w: number, kpad: number): void => {
  const panels = Math.ceil(rows / w)
  const { data, rs, ds } = v
  if (rows % w !== 0 || kpad !== depth) dst.fill(0, at, at + panels * kpad * w)
  if (ds === 1) {
    // Rows contiguous in the source: w read streams (one per row of the panel), one write stream.
    for (let q = 0; q < panels; q++) {
      const r0 = q * w
      const r1 = Math.min(rows, r0 + w) - r0
      const base = at + q * kpad * w
      for (let r = 0; r < r1; r++) {
        const src = (r0 + r) * rs
        for (let p = 0, d = base + r; p < depth; p++, d += w) dst[d] = data[src + p]!
      }
    }
    return
  }
  // Depth-major source (a row of it spans every panel): tiles of TILE depth indices keep the
  // source rows read by one tile in cache and in the TLB while every panel takes its slice.
  const TILE = 16
  for (let p0 = 0; p0 < depth; p0 += TILE) {
    const p1 = Math.min(depth, p0 + TILE)
    for (let q = 0; q < panels; q++) {
      const r0 = q * w
      const r1 = Math.min(rows, r0 + w) - r0
      let d = at + (q * kpad + p0) * w
      for (let p = p0; p < p1; p++, d += w) {
        const src = r0 * rs + p * ds
        for (let r = 0; r < r1; r++) dst[d + r] = data[src + r * rs]!
      }
    }
  }
}

/** 64-bit words per packed row of `depth` signs, rounded to an even count (the kernel reads pairs). */
export const bitWords = (depth: number): number => ceilTo(Math.max(1, Math.ceil(depth / 64)), 2)

/** The high word of ±1 without its sign bit; the low word of ±1 is 0. */
const ONE_HI = 0x3ff00000

/**
 * Packs the signs of a view as bits (1 for −1), row r at u32 index `at + 2·words·r`, bit p of
 * the row at word p >> 5, bit p & 31; padding bits are 0 in both operands, so they never
 * differ. Reads each float's two words (branchless: random signs would defeat a branch
 * predictor) and returns whether every value was exactly ±1; if not, the bits are meaningless.
 */
export const packBits = (dst: Uint32Array, at: number, v: Strided, rows: number, depth: number, words: number): boolean => {
  const { data, rs, ds } = v
  const u = new Uint32Array(data.buffer, data.byteOffset, data.length * 2)
  const w32 = 2 * words
  let bad = 0
  if (ds === 1) {
    for (let r = 0; r < rows; r++) {
      const src = 2 * r * rs
      const row = at + r * w32
      for (let p0 = 0, k = 0; p0 < depth; p0 += 32, k++) {
        const end = Math.min(32, depth - p0)
        let word = 0
        for (let t = 0, e = src + 2 * p0; t < end; t++, e += 2) {
          const hi = u[e + 1]!
          bad |= u[e]! | ((hi & 0x7fffffff) ^ ONE_HI)
          word |= (hi >>> 31) << t
        }
        dst[row + k] = word
      }
      for (let k = Math.ceil(depth / 32); k < w32; k++) dst[row + k] = 0
    }
    return bad === 0
  }
  dst.fill(0, at, at + rows * w32)
  for (let p = 0; p < depth; p++) {
    const bit = p & 31
    const word = at + (p >> 5)
    for (let r = 0, e = 2 * p * ds; r < rows; r++, e += 2 * rs) {
      const hi = u[e + 1]!
      bad |= u[e]! | ((hi & 0x7fffffff) ^ ONE_HI)
      dst[word + r * w32]! |= (hi >>> 31) << bit
    }
  }
  return bad === 0
}
