/**
 * How the compiled interpreter's tensors sit in packed bits. The bits themselves follow the one
 * layout of the WebAssembly back end (`src/wasm/bitLayout.ts`, re-exported here): a set bit
 * means +1; feature f at bit f mod 32 of 32-bit word ⌊f/32⌋; 64-bit words are pairs of those;
 * rows padded with zero bits to whole words, so a ±1 dot product is n − 2·popcount(x XOR w).
 * This file adds, on top of those rules:
 *
 * 5. **Dense weights** W of shape [K, N] are stored transposed: row j holds column j of W (the K
 *    weights of output unit j), with the same rules, so a dense layer XORs row x with row j.
 * 6. **Convolutions** store activations channels-last: the row of position (b, y, x) holds the C
 *    channels; row index ((b·H + y)·W + x). A kernel [O, C, kh, kw] stores one row per
 *    (o, dy, dx), row index (o·kh + dy)·kw + dx.
 *
 * and the two layouts of 8-bit inputs (bit-planes, bytes) and the padding mask of a zero-padded
 * binary convolution.
 */
import type { WordBits } from '../../wasm/bitLayout.js'
import { bitOf, rowBytes, rowWords32, wordOf } from '../../wasm/bitLayout.js'

export type { WordBits } from '../../wasm/bitLayout.js'
export { bitOf, bitOfValue, packRows, rowBytes, rowWords32, unpackRows, valueOfBit, wordOf } from '../../wasm/bitLayout.js'

/**
 * Dense weights W [K, N] (row-major) → N packed rows of K bits (rule 5), as a fresh Int32Array.
 * `order[k]` optionally places input k at another feature position (for flattened
 * convolution outputs, see `flattenOrder`); positions not reached stay zero.
 */
export const packDenseWeights = (
  w: ArrayLike<number>,
  k: number,
  n: number,
  wordBits: WordBits,
  order?: Int32Array,
  width = k,
): Int32Array => {
  const stride = rowWords32(width, wordBits)
  const out = new Int32Array(n * stride)
  for (let j = 0; j < n; j++)
    for (let i = 0; i < k; i++) {
      const f = order === undefined ? i : order[i]!
      if (w[i * n + j]! >= 0) out[j * stride + wordOf(f)]! |= 1 << bitOf(f)
    }
  return out
}

/**
 * Convolution kernel K [O, C, kh, kw] (row-major) → O·kh·kw packed rows of C bits (rule 6).
 */
export const packConvWeights = (k: ArrayLike<number>, o: number, c: number, kh: number, kw: number, wordBits: WordBits): Int32Array => {
  const stride = rowWords32(c, wordBits)
  const out = new Int32Array(o * kh * kw * stride)
  for (let oc = 0; oc < o; oc++)
    for (let ic = 0; ic < c; ic++)
      for (let dy = 0; dy < kh; dy++)
        for (let dx = 0; dx < kw; dx++)
          if (k[((oc * c + ic) * kh + dy) * kw + dx]! >= 0) out[((oc * kh + dy) * kw + dx) * stride + wordOf(ic)]! |= 1 << bitOf(ic)
  return out
}

/** The all-ones row of c features (padding bits zero): the packed +1 vector. */
export const onesRow = (c: number, wordBits: WordBits): Int32Array => {
  const row = new Int32Array(rowWords32(c, wordBits))
  for (let f = 0; f < c; f++) row[wordOf(f)]! |= 1 << bitOf(f)
  return row
}

/**
 * Where the features of a flattened channels-last tensor [C, H, W] sit in its packed row: the
 * flatten of an NCHW tensor has feature c·H·W + y·W + x, which channels-last storage puts at bit
 * (y·W + x)·(words per channel row)·32 + c. Returns that position for each flat feature, and the
 * padded row width in bits.
 */
export const flattenOrder = (c: number, h: number, w: number, wordBits: WordBits): { order: Int32Array; width: number } => {
  const channelBits = 32 * rowWords32(c, wordBits)
  const order = new Int32Array(c * h * w)
  for (let ch = 0; ch < c; ch++)
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) order[(ch * h + y) * w + x] = (y * w + x) * channelBits + ch
  return { order, width: h * w * channelBits }
}

/** Bytes per example of a packed tensor: rows of n features, or h·w channel rows of c features. */
export const packedBytes = (g: { readonly form: 'rows'; readonly n: number } | { readonly form: 'spatial'; readonly c: number; readonly h: number; readonly w: number }, wordBits: WordBits): number =>
  g.form === 'rows' ? rowBytes(g.n, wordBits) : g.h * g.w * rowBytes(g.c, wordBits)

/**
 * 8-bit inputs as bit-planes (for a real first layer): per example, 8 packed rows of k features,
 * plane p holding bit p of each value, followed by one int32 (in a word of its own) holding the
 * sum of the example's values Σ x = Σ_p 2^p·popcount(plane p).
 */
export const planesBytes = (k: number, wordBits: WordBits): number => 8 * rowBytes(k, wordBits) + wordBits / 8

/** Byte offset of the value sum within an example's planes. */
export const planesSumOffset = (k: number, wordBits: WordBits): number => 8 * rowBytes(k, wordBits)

/**
 * 8-bit inputs as bytes (the WebAssembly SIMD form of a real first layer): per example, the k
 * values as uint8 in a row padded to a multiple of 16 bytes, then their sum as an int32 in a
 * 16-byte slot. The matching weights are byte masks: per unit, 0xFF where w = +1 and 0 where
 * w = −1 and in the padding, so Σ_{w=+1} x = Σ (x AND mask) whatever the input's padding bytes.
 */
export const bytesRow = (k: number): number => 16 * Math.ceil(k / 16)
export const bytesPerExample = (k: number): number => bytesRow(k) + 16

/** Dense weights W [K, N] → N rows of byte masks (see `bytesRow`), as int32 words. */
export const packByteMasks = (w: ArrayLike<number>, k: number, n: number): Int32Array => {
  const row = bytesRow(k)
  const bytes = new Uint8Array(n * row)
  for (let j = 0; j < n; j++) for (let i = 0; i < k; i++) if (w[i * n + j]! >= 0) bytes[j * row + i] = 0xff
  return new Int32Array(bytes.buffer)
}

/**
 * The nibble lookup form of the same product (kernels-wasm/bytes-nibbles.ts): inputs in chunks of
 * four, weights as 4-bit patterns, per group of 16 units and chunk c a 16-byte vector whose byte
 * u is unit 16g + u's pattern on inputs 4c … 4c + 3 (bit b set iff w = +1; 0 past k and past n),
 * groups after one another: ⌈n/16⌉ · ⌈k/4⌉ · 16 bytes. Per example the kernel builds, per chunk, two
 * 16-byte tables of the 16 subset sums of the inputs' low and high nibbles (`nibbleTablesBytes`).
 */
export const nibbleChunks = (k: number): number => Math.ceil(k / 4)
/** Inputs up to which the kernel's 16-bit sums of nibbles (≤ 15 each) cannot wrap: 15·k < 2^16. */
export const NIBBLE_LIMIT = 4368
export const nibbleTablesBytes = (k: number): number => 32 * nibbleChunks(k)
export const packNibblePatterns = (w: ArrayLike<number>, k: number, n: number): Int32Array => {
  const chunks = nibbleChunks(k)
  const bytes = new Uint8Array(16 * Math.ceil(n / 16) * chunks)
  for (let j = 0; j < n; j++)
    for (let i = 0; i < k; i++) if (w[i * n + j]! >= 0) bytes[((j >> 4) * chunks + (i >> 2)) * 16 + (j & 15)]! |= 1 << (i & 3)
  return new Int32Array(bytes.buffer)
}

// ---------------------------------------------------------------------------------------------
// Zero padding of a binary convolution (a pad value 0 is neither bit)

/**
 * The padding mask of a zero-padded binary convolution: a grid [h + 2ph, w + 2pw] of rows of c
 * bits, all ones inside the input and zero on the border; ANDed into x XOR w it drops the taps
 * that fall on the padding.
 */
export const paddingMaskGrid = (c: number, h: number, w: number, ph: number, pw: number, wordBits: WordBits): Int32Array => {
  const stride = rowWords32(c, wordBits)
  const wp = w + 2 * pw
  const ones = onesRow(c, wordBits)
  const grid = new Int32Array((h + 2 * ph) * wp * stride)
  for (let y = ph; y < ph + h; y++) for (let x = pw; x < pw + w; x++) grid.set(ones, (y * wp + x) * stride)
  return grid
}

/** Per output position of a zero-padded convolution, how many real input bits its window sees. */
export const validCounts = (
  g: { readonly c: number; readonly h: number; readonly w: number; readonly kh: number; readonly kw: number; readonly sh: number; readonly sw: number; readonly ph: number; readonly pw: number; readonly ho: number; readonly wo: number },
): Int32Array => {
  const valid = new Int32Array(g.ho * g.wo)
  for (let y = 0; y < g.ho; y++)
    for (let x = 0; x < g.wo; x++) {
      let n = 0
      for (let dy = 0; dy < g.kh; dy++)
        for (let dx = 0; dx < g.kw; dx++) {
          const iy = y * g.sh + dy - g.ph
          const ix = x * g.sw + dx - g.pw
          if (iy >= 0 && iy < g.h && ix >= 0 && ix < g.w) n += g.c
        }
      valid[y * g.wo + x] = n
    }
  return valid
}
