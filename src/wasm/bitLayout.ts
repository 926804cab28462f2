/**
 * The one bit layout of ±1 values, for inference (the compiled interpreter, its model exports)
 * and training (the XOR–popcount products): every packer and every kernel of sbnkit that stores
 * a ±1 value as a bit follows these four rules, and asks this file for strides and positions.
 *
 * 1. **A set bit means +1**, a clear bit −1. Packing the sign of a real value sets the bit iff
 *    the value is ≥ 0 (the deterministic binarize, sign(0) = +1; −0 packs as +1).
 * 2. **Bit order.** A row holds the features along the packed axis. Feature f of a row is bit
 *    (f mod 32) of the little-endian 32-bit word ⌊f / 32⌋ of the row.
 * 3. **Words.** The JavaScript back ends read 32-bit words; WebAssembly reads 64-bit words (i64,
 *    and v128 pairs of them). Memory is little-endian, so the 64-bit word w of a row is exactly
 *    the 32-bit words (2w, 2w + 1): one bit order, and the back ends differ only in the row
 *    stride, a whole number of their words (`rowWords32`).
 * 4. **Padding.** A row of width n occupies ⌈n / wordBits⌉ words; the bits from n to the end of
 *    the row are padding and are **always zero**, in both operands of a product. XOR of two zero
 *    bits is 0, so the padding adds nothing to popcount(x XOR w), and the dot product of two ±1
 *    rows of width n is **n − 2·popcount(x XOR w)** (`signDot`; emitted by `popcount.ts`).
 *
 * ```
 *   feature:  f = 0   1   2  …  31 | 32  …  63 | 64 … n−1 | n … (padding, 0)
 *   32-bit:   word 0, bit f        | word 1     | word 2 …
 *   64-bit:   word 0 (low half = 32-bit word 0, high half = 32-bit word 1) | word 1 …
 *   value:    bit 1 ↔ +1, bit 0 ↔ −1
 * ```
 *
 * How tensors map onto rows (dense weights transposed, convolutions channels-last, 8-bit planes)
 * is the compiled interpreter's business (`interpreters/compiled/layout.ts`), built on these rules.
 */

/** Word size of a back end: 32 (JavaScript, Int32Array) or 64 (WebAssembly, i64). */
export type WordBits = 32 | 64

/** Number of 64-bit words in a packed row of `width` features (the WebAssembly row stride). */
export const rowWords64 = (width: number): number => Math.ceil(width / 64)

/** Number of 32-bit words in a packed row of `width` features for a back end's word size. */
export const rowWords32 = (width: number, wordBits: WordBits): number =>
  wordBits === 64 ? 2 * rowWords64(width) : Math.ceil(width / 32)

/** Bytes of a packed row (a multiple of 8 for the WebAssembly back end, of 4 for JavaScript). */
export const rowBytes = (width: number, wordBits: WordBits): number => 4 * rowWords32(width, wordBits)

/** The 32-bit word holding feature f of a row, and the bit within it. */
export const wordOf = (f: number): number => f >>> 5
export const bitOf = (f: number): number => f & 31

/** A set bit means +1: the bit of a value, with sign(0) = +1. */
export const bitOfValue = (v: number): number => (v >= 0 ? 1 : 0)

/** The ±1 value of a bit. */
export const valueOfBit = (b: number): number => (b === 0 ? -1 : 1)

/** The dot product of two ±1 rows of width n from popcount(x XOR w): agreements − disagreements. */
export const signDot = (n: number, popcount: number): number => n - 2 * popcount

// ---------------------------------------------------------------------------------------------
// Packing and unpacking rows

/**
 * Packs `rows` rows of `width` values (row-major in `src`, starting at `srcOffset`, row pitch
 * `srcPitch`) into `dst` (32-bit words, starting at word `dstOffset`), bit set iff value ≥ 0.
 * Padding bits are written as zeros.
 */
export const packRows = (
  src: ArrayLike<number>,
  rows: number,
  width: number,
  wordBits: WordBits,
  dst: Int32Array,
  dstOffset = 0,
  srcOffset = 0,
  srcPitch = width,
): void => {
  const stride = rowWords32(width, wordBits)
  for (let r = 0; r < rows; r++) {
    const base = dstOffset + r * stride
    dst.fill(0, base, base + stride)
    const s = srcOffset + r * srcPitch
    for (let f = 0; f < width; f++) if (src[s + f]! >= 0) dst[base + wordOf(f)]! |= 1 << bitOf(f)
  }
}

/** Unpacks `rows` packed rows of `width` features into ±1 values (row-major, pitch `width`). */
export const unpackRows = (
  src: Int32Array,
  rows: number,
  width: number,
  wordBits: WordBits,
  dst: Float64Array,
  srcOffset = 0,
  dstOffset = 0,
): void => {
  const stride = rowWords32(width, wordBits)
  for (let r = 0; r < rows; r++)
    for (let f = 0; f < width; f++)
      dst[dstOffset + r * width + f] = (src[srcOffset + r * stride + wordOf(f)]! >>> bitOf(f)) & 1 ? 1 : -1
}
