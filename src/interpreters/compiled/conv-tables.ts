/**
 * The lookup-table form of a small binary convolution (WebAssembly, mode network): the popcount
 * of a position's patch against every unit, summed from per-byte tables instead of computed by
 * XOR and popcount per unit.
 *
 * A tap of c channels is ⌈c/8⌉ bytes of its channels-last row (layout.ts: channel 8b + i at bit
 * i of byte b; padding bits zero). For every such byte q of the patch (tap t = dy·kw + dx, byte
 * b, q = t·⌈c/8⌉ + b) and every value v of it, the table holds, for each unit j, the byte
 * popcount(v XOR w_j(q)), w_j(q) the unit's weight bits at the same place (bit set iff ≥ 0, the
 * padding bits zero like the input's). So the popcount of the whole patch against unit j is
 * Σ_q T[q][x_q][j], and the kernel adds one 16-unit row of bytes per patch byte and vector: for
 * `conv:16,32`'s second convolution (16 channels, 3×3, 32 units) 18 bytes × 2 vectors of adds
 * instead of 32 units × 3 XOR–popcounts.
 *
 * The sums are exact in bytes while the patch has at most 254 bits (the count never exceeds
 * 254, so no byte wraps, and a span of 255 still fits a byte); the sign thresholds of the
 * popcount (patches.ts `popcountThresholds`) then fit bytes too, and the test
 * (pc − lo) <ᵤ span runs on 16 units per vector.
 */
import { DOT_LIMIT } from './fuseEpilogue.js'

/** Largest patch (bits) whose popcount fits a byte lane with room for the span. */
export const TABLE_BITS_LIMIT = 254

/** Largest table (bytes): it should stay in the 1 MiB L2 with the rest of the working set. */
export const TABLE_BYTES_LIMIT = 256 * 1024

/** Table bytes per patch byte and value: the units rounded up to whole 16-byte vectors. */
export const tableUnits = (o: number): number => 16 * Math.ceil(o / 16)

/** Bytes of one tap of c channels in the patch (its channels-last row, padding bits zero). */
export const tapBytes = (c: number): number => Math.ceil(c / 8)

/** Bytes of the tables of a convolution [o, c, kh, kw]. */
export const tableBytes = (o: number, c: number, kh: number, kw: number): number => kh * kw * tapBytes(c) * 256 * tableUnits(o)

/** Whether the lookup-table kernel computes this convolution exactly and within the size limit. */
export const tablesFit = (o: number, c: number, kh: number, kw: number): boolean =>
  c * kh * kw <= Math.min(TABLE_BITS_LIMIT, DOT_LIMIT) && tableBytes(o, c, kh, kw) <= TABLE_BYTES_LIMIT

const popcount8 = (v: number): number => {
  let n = 0
  for (let x = v; x !== 0; x &= x - 1) n++
  return n
}

/**
 * The tables of a constant kernel K [o, c, kh, kw] (±1 values, bit set iff ≥ 0): byte
 * ((q·256 + v)·U + j) = popcount(v XOR w_j(q)), U = tableUnits(o); 0 for the lanes j ≥ o.
 */
export const packConvTables = (k: ArrayLike<number>, o: number, c: number, kh: number, kw: number): Uint8Array => {
  const units = tableUnits(o)
  const per = tapBytes(c)
  const out = new Uint8Array(tableBytes(o, c, kh, kw))
  const wbyte = new Uint8Array(units)
  for (let t = 0; t < kh * kw; t++)
    for (let b = 0; b < per; b++) {
      const q = t * per + b
      wbyte.fill(0)
      for (let j = 0; j < o; j++)
        for (let i = 0; i < 8 && 8 * b + i < c; i++)
          if (k[((j * c + 8 * b + i) * kh + Math.floor(t / kw)) * kw + (t % kw)]! >= 0) wbyte[j]! |= 1 << i
      for (let v = 0; v < 256; v++) {
        const row = (q * 256 + v) * units
        for (let j = 0; j < o; j++) out[row + j] = popcount8(v ^ wbyte[j]!)
      }
    }
  return out
}

/**
 * Popcount thresholds (lo, span) pairs (patches.ts `popcountThresholds`) as bytes by blocks of
 * 16 units, [lo₀ … lo₁₅ span₀ … span₁₅]; the lanes past o as (0, 0), never +1.
 */
export const byteThresholds = (t: Int32Array, o: number): Uint8Array => {
  const out = new Uint8Array(2 * tableUnits(o))
  for (let j = 0; j < o; j++) {
    const [q, lane] = [j >> 4, j & 15]
    out[32 * q + lane] = t[2 * j]!
    out[32 * q + 16 + lane] = t[2 * j + 1]!
  }
  return out
}
