/**
 * The scratch of a real first convolution (`RealConv`): one example's, per thread, filled by each
 * example in turn; shared by its lowering (lower-bytes.ts, which sizes the buffer) and its
 * WebAssembly kernel (which addresses it):
 *
 * 1. the **integer grid**: the image as int16 values, padded with the pad value, each row
 *    `wq` lanes wide so that 8 consecutive output positions read one 128-bit vector per tap;
 * 2. the **float grid**: the padded float64 image of the exact float path (only with padding);
 * 3. the **bounds** (after the grids): per output channel its integer interval ⌈lo⌉ … ⌊hi⌋ as
 *    (lo, span) in two vectors of eight int16 lanes, computed by the kernel from the float
 *    thresholds at the start of each call (each thread's call, into its own scratch).
 *
 * The integer path is exact when every input value is an integer in [−255, 255] and the pad value
 * is one too: then every partial sum of the reference's float64 sum is an integer of magnitude
 * at most S = 255·taps ≤ 16 320, so float64 adds it exactly (and never produces −0), the int16
 * sum equals it whatever the order, and lo ≤ v ≤ hi ⇔ ⌈lo⌉ ≤ v ≤ ⌊hi⌋. With the bounds clamped to
 * ±(S + 1), v − ⌈lo⌉ lies in ±(2S + 2) and the span in [0, 2S + 3], so the unsigned 16-bit test
 * (v − lo) <ᵤ span is exact while 4S + 5 ≤ 65 536 (taps ≤ 64). The kernel checks the values per
 * example.
 */
import type { RealConv } from './kernels.js'

/** Largest input magnitude, and largest number of taps, of the int16 path. */
export const INT_VALUE_LIMIT = 255
export const INT_TAPS_LIMIT = 64

type Geometry = Pick<RealConv, 'c' | 'ih' | 'iw' | 'o' | 'kh' | 'kw' | 'sw' | 'ph' | 'pw' | 'wo' | 'pad'>

/** Whether the integer path applies to this convolution (decided at compile time; values per example). */
export const intPathFits = (k: Geometry): boolean =>
  k.sw === 1 && Number.isInteger(k.pad) && Math.abs(k.pad) <= INT_VALUE_LIMIT && k.c * k.kh * k.kw <= INT_TAPS_LIMIT

export interface GridLayout {
  /** Rows and lanes per row of one channel of the integer grid. */
  readonly hq: number
  readonly wq: number
  /** Bytes of the integer grid (a multiple of 16), of the float grid, and where the bounds start. */
  readonly intBytes: number
  readonly floatBytes: number
  readonly boundsAt: number
  /** Bytes of the scratch in all (one example's). */
  readonly bytes: number
}

export const gridLayout = (k: Geometry): GridLayout => {
  const hq = k.ih + 2 * k.ph
  const wq = 8 * Math.ceil(k.wo / 8) + k.kw - 1
  const intBytes = intPathFits(k) ? 16 * Math.ceil((2 * k.c * hq * wq) / 16) : 0
  const floatBytes = k.ph > 0 || k.pw > 0 ? 8 * k.c * hq * (k.iw + 2 * k.pw) : 0
  const boundsAt = intBytes + floatBytes
  return { hq, wq, intBytes, floatBytes, boundsAt, bytes: boundsAt + (intBytes > 0 ? 32 * k.o : 0) }
}

/**
 * Per output channel, the sides of its float interval lo ≤ v ≤ hi (`intervals`: lo, hi pairs,
 * epilogue-float.ts) that every sum of the int16 path satisfies, |v| ≤ S = 255·taps: bit 0 when
 * lo ≤ −S, bit 1 when hi ≥ S. NaN bounds and empty intervals leave both bits clear, so the
 * kernel tests both sides and never sets the bit.
 */
export const openSides = (k: Pick<RealConv, 'c' | 'kh' | 'kw'>, intervals: Float64Array): Uint8Array => {
  const s = INT_VALUE_LIMIT * k.c * k.kh * k.kw
  const out = new Uint8Array(intervals.length / 2)
  for (let j = 0; j < out.length; j++) {
    const [lo, hi] = [intervals[2 * j]!, intervals[2 * j + 1]!]
    if (lo <= hi) out[j] = (lo <= -s ? 1 : 0) | (hi >= s ? 2 : 0)
  }
  return out
}
