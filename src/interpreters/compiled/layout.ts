/**
 * The bit layout of packed binary tensors: the only file of sbnkit that knows how a ±1 tensor
 * is stored as bits. Kernels and emitters ask it for strides and bit positions.
 *
 * The rules:
 *
 * 1. **A set bit means +1**, a clear bit −1. Packing the sign of a real value sets the bit iff
 *    the value is ≥ 0 (the deterministic binarize, sign(0) = +1).
 * 2. **A row** is one example's features along the packed axis (the K inputs of a dense layer,
 *    or the C channels at one spatial position of a convolution). Feature f of a row is bit
 *    (f mod 32) of the 32-bit little-endian word floor(f / 32) of the row.
 * 3. **Words.** The JavaScript back end reads 32-bit words; the WebAssembly back end reads
 *    64-bit words (i64). Because memory is little-endian, the 64-bit word w of a row is exactly
 *    the pair of 32-bit words (2w, 2w + 1): the two back ends share one bit order and differ only
 *    in the row stride, which is a whole number of their words.
 * 4. **Padding.** A row of width n occupies `stride` words (ceil(n / wordBits) back-end words);
 *    the bits from n to the end of the row are padding and are **always zero**, in activations
 *    and in weights alike. XOR of two zero padding bits is 0, so padding adds nothing to
 *    popcount(x XOR w), and the dot product of two ±1 rows of width n is n − 2·popcount(x XOR w).
 *    Every kernel that writes packed bits writes zeros there.
 * 5. **Dense weights** W of shape [K, N] are stored transposed: row j holds column j of W (the K
 *    weights of output unit j), with the same rules, so a dense layer XORs row x with row j.
 * 6. **Convolutions** store activations channels-last: the row of position (b, y, x) holds the C
 *    channels; row index ((b·H + y)·W + x). A kernel [O, C, kh, kw] stores one row per
 *    (o, dy, dx), row index (o·kh + dy)·kw + dx.
 */

/** Word size of a back end: 32 (JavaScript, Int32Array) or 64 (WebAssembly, i64). */
export type WordBits = 32 | 64

/** Number of 32-bit words in a packed row of `width` features for a back end's word size. */
export const rowWords32 = (width: number, wordBits: WordBits): number =>
  wordBits === 64 ? 2 * Math.ceil(width / 64) : Math.ceil(width / 32)

/** Bytes of a packed row (a multiple of 8 for the WebAssembly back end, of 4 for JavaScript). */
export const rowBytes = (width: number, wordBits: WordBits): number => 4 * rowWords32(width, wordBits)

/** The 32-bit word holding feature f of a row, and the bit within it. */
export const wordOf = (f: number): number => f >>> 5
export const bitOf = (f: number): number => f & 31

/** A set bit means +1: the bit of a value, with sign(0) = +1. */
export const bitOfValue = (v: number): number => (v >= 0 ? 1 : 0)

/** The ±1 value of a bit. */
export const valueOfBit = (b: number): number => (b === 0 ? -1 : 1)

// ---------------------------------------------------------------------------------------------
// Packing and unpacking (used at compile time for weights, and by the jitless back end)

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
