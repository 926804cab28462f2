/**
 * The three products of `MatrixProducts` as one problem, C[m,n] = Σ_p A(i,p)·B(p,j), with both operands
 * seen as strided "rows × depth" views (A by its rows i, B by its columns j), so that a single
 * packing routine serves every transpose. Packing converts float64 to the kernel's formats:
 * f32 panels (zero-padded) for the SIMD micro-kernel, or sign bits for ±1 operands.
 */
import type { NDArray } from '../../interpreters/ndarray.js'
import { rowWords64 } from '../../wasm/bitLayout.js'

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
  if (rows % w !== 0 || kpad !== depth) dst.fill(0, at, at + Math.ceil(rows / w) * kpad * w)
  packBlock(dst, at, v, 0, rows, 0, depth, w, kpad)
}

/**
 * Writes rows [r0, r1) × depths [p0, p1) of `v` into the panel layout of `packPanels` (no
 * padding): the whole job in plain JavaScript, or the remainders around a WebAssembly pack.
 */
export const packBlock = (
  dst: Float32Array, at: number, v: Strided, r0: number, r1: number, p0: number, p1: number, w: number, kpad: number,
): void => {
  const { data, rs, ds } = v
  if (ds === 1) {
    // Rows contiguous in the source: one read stream per row, writes with stride w.
    for (let r = r0; r < r1; r++) {
      const q = (r / w) | 0
      const src = r * rs
      for (let p = p0, d = at + (q * kpad + p0) * w + (r - q * w); p < p1; p++, d += w) dst[d] = data[src + p]!
    }
    return
  }
  // Depth-major (or general) source, a row of which spans every panel: tiles of TILE depth
  // indices keep the source rows of one tile in cache and in the TLB while each panel takes its slice.
  const TILE = 16
  for (let t0 = p0; t0 < p1; t0 += TILE) {
    const t1 = Math.min(p1, t0 + TILE)
    for (let q = (r0 / w) | 0; q * w < r1; q++) {
      const a = Math.max(r0, q * w)
      const b = Math.min(r1, q * w + w)
      for (let p = t0, d = at + (q * kpad + t0) * w - q * w; p < t1; p++, d += w) {
        const src = p * ds
        for (let r = a; r < b; r++) dst[d + r] = data[src + r * rs]!
      }
    }
  }
}

/** 64-bit words per packed row of `depth` signs: the row stride of the one bit layout (bitLayout.ts). */
export const bitWords = (depth: number): number => Math.max(1, rowWords64(depth))

/** The high word of ±1 without its sign bit; the low word of ±1 is 0. */
const ONE_HI = 0x3ff00000

/**
 * Packs the signs of a view as bits in the one bit layout (src/wasm/bitLayout.ts: a set bit is
 * +1, bit p of a row at 32-bit word p >> 5, bit p & 31, padding bits zero), row r at u32 index
 * `at + 2·words·r`. The bit of ±1 is its float64 sign bit inverted (`~hi >>> 31`, rule 1). Reads
 * each float's two words (branchless: random signs would defeat a branch predictor) and returns
 * whether every value was exactly ±1; if not, the bits are meaningless.
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
          word |= (~hi >>> 31) << t
        }
        dst[row + k] = word
      }
      for (let k = Math.ceil(depth / 32); k < w32; k++) dst[row + k] = 0
    }
    return bad === 0
  }
  // Depth-major source: one word (32 depth indices of one row) at a time, so each word is
  // written once; the 32 source rows of a word stay in cache while the rows sweep across them.
  const words32 = Math.ceil(depth / 32)
  for (let k = 0; k < words32; k++) {
    const p0 = 32 * k
    const end = Math.min(32, depth - p0)
    for (let r = 0; r < rows; r++) {
      let word = 0
      for (let t = 0, e = 2 * (p0 * ds + r * rs); t < end; t++, e += 2 * ds) {
        const hi = u[e + 1]!
        bad |= u[e]! | ((hi & 0x7fffffff) ^ ONE_HI)
        word |= (~hi >>> 31) << t
      }
      dst[at + r * w32 + k] = word
    }
  }
  for (let r = 0; r < rows; r++) for (let k = words32; k < w32; k++) dst[at + r * w32 + k] = 0
  return bad === 0
}
