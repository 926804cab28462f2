/**
 * The kernel IR: what `lower` produces and every back end (WebAssembly, JavaScript, jitless)
 * consumes. A compiled network is a linear list of kernels over numbered buffers; each kernel
 * names its buffers and carries its sizes (baked into generated code) and its fused epilogue.
 *
 * Buffers live in one linear memory. A buffer is either static (weights, thresholds: fixed size,
 * contents set at compile time or rewritten per pass by a `SampleWeights` kernel) or per-example
 * (activations: `bytes` per example, times the batch at run time). Kernels receive the byte
 * address of each buffer they use, in the order of `buffersOf`, after the row count.
 */
import type { SiteId } from '../../dsl/node.js'

// ---------------------------------------------------------------------------------------------
// Buffers

export type BufferKind = 'f64' | 'bits' | 'u32' | 'i32'

export interface BufferSpec {
  readonly id: number
  /** What it holds, for the plan (`dense1 out bits`). */
  readonly label: string
  readonly kind: BufferKind
  /** Per-example buffers scale with the batch; static ones do not. */
  readonly perExample: boolean
  /** Bytes per example (per-example buffers) or in total (static). A multiple of 16. */
  readonly bytes: number
  /**
   * The distance in bytes between consecutive examples as the kernels index them (`bytes` before
   * alignment): example r of a per-example buffer starts at address + r·stride, which is how a
   * batch is split into row ranges (threads/).
   */
  readonly stride: number
  /** Contents of a static buffer, written once when the network is instantiated. */
  readonly init?: Int32Array | Float64Array
  /**
   * A scratch buffer of `bytes` per thread (static, so it does not scale with the batch): thread
   * t's calls get address + t·bytes (threads/rowSplit.ts `argsFor`).
   */
  readonly perThread?: true
}

// ---------------------------------------------------------------------------------------------
// Epilogues: what a product kernel does with the exact integer dot product of each output.
//
// `sign` and `sample` fuse the layer's bias / batch-norm / elementwise chain and the next
// binarize: the chain is evaluated at compile time (exactly as the reference does, in float64)
// for every dot value that matters, so the kernel only compares integers.

export type Epilogue =
  /** Write the dot product as float64, [rows, N] (or NCHW for convolutions). */
  | { readonly kind: 'dot' }
  /**
   * Packed output bits, +1 iff (dot − lo_j) <ᵤ span_j: `thresholds` is an i32 buffer of
   * (lo, span) pairs per unit (see `fuseEpilogue.ts`).
   */
  | { readonly kind: 'sign'; readonly thresholds: number }
  /**
   * Packed output bits drawn with the sampling rule: per unit a header (lo, len, entry offset,
   * flags) in `headers`; inside the window, +1 iff u <ᵤ T[offset + dot − lo] with u the unit's
   * uint32 draw from `random`; below/above the window, the constant outcome in flags bit 0/1.
   */
  | { readonly kind: 'sample'; readonly headers: number; readonly table: number; readonly random: number }

// ---------------------------------------------------------------------------------------------
// Kernels. Every kernel receives (rows, ...addresses of `buffersOf(k)`, ...`scalarsOf(k)`).

/** Binary × binary dense layer: x [rows, K] packed, W packed transposed (N rows of K bits). */
export interface BinaryDense {
  readonly _tag: 'BinaryDense'
  readonly label: string
  readonly x: number
  readonly w: number
  readonly out: number
  /** Logical inputs (the dot is k − 2·popcount). */
  readonly k: number
  /** Packed row width in bits (≥ k; larger for flattened channels-last inputs). */
  readonly width: number
  readonly n: number
  readonly epilogue: Epilogue
}

/**
 * Real × binary dense layer (a real first layer): x [rows, K] float64, W packed transposed. The
 * sums are sign-select float64 sums in the reference's order (k ascending), so they are exact
 * reproductions; `dot` is then that float64 sum (fused epilogues need integer sums, see
 * `PlaneDense`, so this kernel only has the `dot` epilogue).
 */
export interface RealDense {
  readonly _tag: 'RealDense'
  readonly label: string
  readonly x: number
  readonly w: number
  readonly out: number
  readonly k: number
  readonly n: number
}

/**
 * Packs float64 rows [rows, K] into 8 bit-planes per row (plane p holds bit p of each value) and
 * returns 1 iff every value is an integer in [0, 255] (else the planes are meaningless).
 */
export interface PackPlanes {
  readonly _tag: 'PackPlanes'
  readonly label: string
  readonly x: number
  readonly planes: number
  readonly k: number
}

/**
 * Real 8-bit input × binary weights as eight binary products:
 * dot = Σ_p 2^p (2·popcount(plane_p AND w) − popcount(plane_p)), exact in integers.
 */
export interface PlaneDense {
  readonly _tag: 'PlaneDense'
  readonly label: string
  readonly planes: number
  readonly w: number
  readonly out: number
  readonly k: number
  readonly n: number
  readonly epilogue: Epilogue
}

/**
 * Packs float64 rows [rows, K] into bytes (layout.ts `bytesRow`) with each row's sum, and returns
 * 1 iff every value is an integer in [0, 255].
 */
export interface PackBytes {
  readonly _tag: 'PackBytes'
  readonly label: string
  readonly x: number
  readonly bytes: number
  readonly k: number
}

/**
 * Real 8-bit input × binary weights over bytes: dot = 2·Σ (x AND mask_j) − Σ x, exact in
 * integers (the WebAssembly SIMD twin of `PlaneDense`).
 */
export interface ByteDense {
  readonly _tag: 'ByteDense'
  readonly label: string
  readonly bytes: number
  readonly w: number
  readonly out: number
  readonly k: number
  readonly n: number
  readonly epilogue: Epilogue
  /**
   * The nibble lookup form (WebAssembly, k ≤ 4368): the weights as 4-bit patterns
   * (layout.ts `packNibblePatterns`) and a per-example scratch buffer for the input's nibble
   * tables (kernels-wasm/bytes-nibbles.ts). The masks `w` stay for the other kernels. With the
   * `sign` epilogue, `quads` holds its thresholds again by blocks of four units (patches.ts
   * `quadThresholds`), for the kernel's vector test.
   */
  readonly nibbles?: { readonly patterns: number; readonly tables: number; readonly quads?: number }
}

/**
 * A real-input convolution with ±1 weights, each output the reference's own float64 sum
 * 0 + Σ w·x over the taps in (channel, dy, dx) order, the pad value outside the image (so the
 * same bits whatever the inputs), then a float sign epilogue: bit j is set iff
 * lo_j ≤ v ≤ hi_j (`thresholds`: per pair of channels, the two lo then the two hi as float64; see
 * epilogue-float.ts). Input float64 NCHW; `grid` a per-thread scratch that each example fills
 * with its padded image (realconv-grid.ts; unused without padding); `w` per pair of channels and
 * tap the two weights as float64 (0 for the lane past an odd o). Output channels-last bits.
 */
export interface RealConv {
  readonly _tag: 'RealConv'
  readonly label: string
  readonly x: number
  readonly grid: number
  readonly w: number
  readonly thresholds: number
  readonly out: number
  readonly c: number
  /** Image height and width. */
  readonly ih: number
  readonly iw: number
  readonly o: number
  readonly kh: number
  readonly kw: number
  readonly sh: number
  readonly sw: number
  readonly ph: number
  readonly pw: number
  readonly ho: number
  readonly wo: number
  readonly pad: number
  /**
   * The ±1 weights [o, c, kh, kw] when the WebAssembly kernel may take the exact int16 path on
   * integer inputs (realconv-grid.ts): baked into its code as adds and subtracts.
   */
  readonly signs?: Int8Array
  /**
   * With `signs`, per output channel which side of its interval every reachable int16 sum
   * (|v| ≤ 255·taps) already satisfies: bit 0 the lower bound, bit 1 the upper (realconv-grid.ts
   * `openSides`), so the int16 path tests at most the other with one signed comparison.
   */
  readonly open?: Uint8Array
  /**
   * With `signs`, a per-example buffer for `infer`'s uint8 entry: each example's values as uint8
   * in a row of `bytesRow(c·ih·iw)` bytes, read by the bytes twin (entries.ts) in place of the
   * float64 input, which such a call leaves unplaced.
   */
  readonly u8?: number
  /**
   * `infer`'s uint8 entry (entries.ts): x is the `u8` buffer, each example's values as uint8;
   * always the int16 path.
   */
  readonly bytes?: true
}

/**
 * Binary activations × a real head: out[r, j] = Σ_k (x_k ? W[k, j] : −W[k, j]), k ascending (the
 * reference's order, so bit-exact). `order` (an i32 buffer) maps input k to its bit position in
 * the row, for flattened channels-last inputs; absent means identity.
 */
export interface BinaryHead {
  readonly _tag: 'BinaryHead'
  readonly label: string
  readonly x: number
  readonly w: number
  readonly out: number
  readonly k: number
  readonly width: number
  readonly n: number
  readonly order?: number
}

/** The geometry of a packed tensor: rows of n features, or channels-last [c, h, w] (layout.ts). */
export type Geometry =
  | { readonly form: 'rows'; readonly n: number }
  | { readonly form: 'spatial'; readonly c: number; readonly h: number; readonly w: number }

/** float64 [rows, ...] → packed bits, bit set iff value ≥ 0 (the deterministic binarize). */
export interface PackSign {
  readonly _tag: 'PackSign'
  readonly label: string
  readonly src: number
  readonly dst: number
  readonly geometry: Geometry
}

/** Packed bits → float64 ±1 [rows, ...] (NCHW for spatial). */
export interface Unpack {
  readonly _tag: 'Unpack'
  readonly label: string
  readonly src: number
  readonly dst: number
  readonly geometry: Geometry
}

/**
 * u[i] = bits(siteKey(pass, site), i) for i < count (per example × rows, or static): the uint32
 * draws of a stochastic site. Scalars: the two words of the site key.
 */
export interface FillRandom {
  readonly _tag: 'FillRandom'
  readonly label: string
  readonly out: number
  readonly count: number
  readonly perExample: boolean
  readonly site: SiteId
}

/**
 * Copies channels-last rows [rows, h, w] into a larger grid [rows, h + 2ph, w + 2pw] whose border
 * holds the padding value: +1 (every channel bit set, padding bits beyond c still zero) or −1 /
 * 0 (all zero; a 0 pad is then masked out by the convolution, see BinaryConv).
 */
export interface PadBits {
  readonly _tag: 'PadBits'
  readonly label: string
  readonly src: number
  readonly dst: number
  readonly c: number
  readonly h: number
  readonly w: number
  readonly ph: number
  readonly pw: number
  readonly ones: boolean
}

/**
 * Binary × binary convolution over channels-last rows: input grid [rows, hp, wp] (already
 * padded), kernel rows (o, dy, dx) of c bits, output [rows, ho, wo] (bits, channels-last) or, with
 * the `dot` epilogue, float64 NCHW. With a 0 pad, `mask` holds a grid [hp, wp] of rows that are
 * all ones inside the input and zero on the border, ANDed into x XOR w, and `valid` the number
 * of real input bits each output position sees (an i32 per position): dot = valid − 2·popcount.
 * Without a mask, dot = c·kh·kw − 2·popcount. The draw of output (b, o, y, x) is at NCHW index.
 */
export interface BinaryConv {
  readonly _tag: 'BinaryConv'
  readonly label: string
  readonly x: number
  readonly w: number
  readonly out: number
  readonly c: number
  readonly hp: number
  readonly wp: number
  readonly o: number
  readonly kh: number
  readonly kw: number
  readonly sh: number
  readonly sw: number
  readonly ho: number
  readonly wo: number
  readonly mask?: { readonly mask: number; readonly valid: number }
  readonly epilogue: Epilogue
  /**
   * The same kernel as patch rows (patches.ts): o rows of the c·kh·kw bits of a unit's taps
   * concatenated, so a position's whole patch fills 64-bit words (WebAssembly only, constant
   * weights). Absent: the tap rows of `w` are read. With patches, no mask and the `sign`
   * epilogue, the thresholds are those of the popcount pc = (k − dot)/2, by blocks of four units
   * (patches.ts `popcountThresholds`, `quadThresholds`).
   */
  readonly patches?: number
  /**
   * Lookup tables (conv-tables.ts: per patch byte and value, each unit's byte popcount), for a
   * small patch with constant weights, the `sign` epilogue and no mask (WebAssembly only): the
   * thresholds are then the popcount's as bytes by blocks of 16 units (`byteThresholds`).
   */
  readonly tables?: number
}

/**
 * Max-pooling of a binary map over channels-last rows: max of ±1 values is +1 iff any is +1, so
 * each output row is the OR of the window's input rows (padding bits stay zero). With `invert`
 * (a static row of c bits), the channels whose bit is set are pooled by AND instead (min of ±1),
 * as ¬OR(¬x): the sign of a non-increasing function of a max (see lower-pool.ts).
 */
export interface PoolOr {
  readonly _tag: 'PoolOr'
  readonly label: string
  readonly src: number
  readonly dst: number
  readonly invert?: number
  readonly c: number
  readonly h: number
  readonly w: number
  readonly kh: number
  readonly kw: number
  readonly sh: number
  readonly sw: number
  readonly ho: number
  readonly wo: number
}

/**
 * Entry kernels (the typed-array inputs of `infer`, see infer.ts): ±1 values staged in memory as
 * int8 or float32 rows [rows, n] at `src` → packed rows at `dst` (what `PackSign` would write
 * from the same values). Returns the flat index of the first value that is not ±1, or −1: the
 * validation is the same single vectorised pass as the packing.
 */
export interface PackPm1 {
  readonly _tag: 'PackPm1'
  readonly label: string
  readonly src: number
  readonly dst: number
  readonly n: number
  readonly from: 'int8' | 'float32'
}

/**
 * Entry kernel: uint8 values [rows, k] written by `infer` straight into the bytes layout of
 * `PackBytes` (`src` is the `bytes` buffer itself, rows at its stride `bytesPerExample(k)`): the
 * kernel zeroes each row's padding up to `bytesRow(k)` and writes the row's sum after it, in
 * place. So a uint8 call needs no float64 input buffer (`BytesEntry.unused`). Every uint8 is an
 * integer in [0, 255], so nothing can fail: `ByteDense` follows unconditionally.
 */
export interface StageBytes {
  readonly _tag: 'StageBytes'
  readonly label: string
  readonly src: number
  readonly bytes: number
  readonly k: number
}

export type Kernel = PackPm1 | StageBytes | RealConv | PoolOr | BinaryDense | RealDense | PackPlanes | PlaneDense | PackBytes | ByteDense | BinaryHead | PackSign | Unpack | FillRandom | PadBits | BinaryConv

export type KernelTag = Kernel['_tag']
export type KernelOf<K extends KernelTag> = Extract<Kernel, { readonly _tag: K }>

const epilogueBuffers = (e: Epilogue): number[] =>
  e.kind === 'dot' ? [] : e.kind === 'sign' ? [e.thresholds] : [e.headers, e.table, e.random]

/** The buffers a kernel reads and writes, in the order its generated code receives them. */
export const buffersOf = (k: Kernel): number[] => {
  switch (k._tag) {
    case 'BinaryDense':
      return [k.x, k.w, k.out, ...epilogueBuffers(k.epilogue)]
    case 'RealDense':
      return [k.x, k.w, k.out]
    case 'PackPlanes':
      return [k.x, k.planes]
    case 'PlaneDense':
      return [k.planes, k.w, k.out, ...epilogueBuffers(k.epilogue)]
    case 'PackBytes':
      return [k.x, k.bytes]
    case 'ByteDense':
      return [k.bytes, k.w, k.out, ...epilogueBuffers(k.epilogue), ...(k.nibbles === undefined ? [] : [k.nibbles.patterns, k.nibbles.tables, ...(k.nibbles.quads === undefined ? [] : [k.nibbles.quads])])]
    case 'BinaryHead':
      return k.order === undefined ? [k.x, k.w, k.out] : [k.x, k.w, k.out, k.order]
    case 'PackSign':
    case 'Unpack':
      return [k.src, k.dst]
    case 'FillRandom':
      return [k.out]
    case 'PackPm1':
      return [k.src, k.dst]
    case 'StageBytes':
      return [k.src, k.bytes]
    case 'RealConv':
      return [k.x, k.grid, k.w, k.thresholds, k.out]
    case 'PadBits':
      return [k.src, k.dst]
    case 'PoolOr':
      return k.invert === undefined ? [k.src, k.dst] : [k.src, k.dst, k.invert]
    case 'BinaryConv':
      return [k.x, k.w, k.out, ...(k.mask === undefined ? [] : [k.mask.mask, k.mask.valid]), ...epilogueBuffers(k.epilogue), ...(k.patches === undefined ? [] : [k.patches]), ...(k.tables === undefined ? [] : [k.tables])]
  }
}

/** The site whose key words follow the buffer addresses, if any. */
export const siteOf = (k: Kernel): SiteId | undefined => (k._tag === 'FillRandom' ? k.site : undefined)

/** Number of values per example of a geometry. */
export const geometrySize = (g: Geometry): number => (g.form === 'rows' ? g.n : g.c * g.h * g.w)
