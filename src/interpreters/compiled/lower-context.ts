/**
 * The lowering context: what every lowering rule (lower.ts and the rule files beside it) may use.
 * It is explicit so that a rule is a function of (context, node) — the allocator of buffers, the
 * sink of steps, the constant folder, and the memoised representations of other nodes — rather
 * than one closure sharing mutable arrays.
 */
import type { Binarize, Checked, Network, Node } from '../../dsl/node.js'
import type { SampleTables, SignTables } from './fuseEpilogue.js'
import type { F64Loc } from './generic.js'
import type { BufferSpec, Epilogue, Geometry } from './kernels.js'
import type { WordBits } from './layout.js'
import type { Emit, WeightSource } from './weights.js'

export interface LowerOptions {
  /** Sampling (the `sample` and `ensemble` modes) or the deterministic mode network. */
  readonly sampling: boolean
  readonly wordBits: WordBits
  /**
   * How a real first layer on 8-bit inputs is computed: as eight bit-planes (popcounts), or as
   * bytes with SIMD masked sums (the WebAssembly back end, for constant weights).
   */
  readonly eightBit: 'planes' | 'bytes'
}

/** Where a packed binary tensor lives. */
export interface BitsLoc {
  readonly buffer: number
  readonly geometry: Geometry
  /** Bits per packed row (≥ features; a flattened channels-last row has gaps). */
  readonly width: number
  /** For flattened channels-last rows: the bit position of each logical feature. */
  readonly order?: { readonly map: Int32Array; readonly buffer: number }
}

/** The allocator, the step sink and the memo tables a lowering rule works with. */
export interface LowerCtx extends Emit {
  readonly net: Checked<Network>
  readonly opts: LowerOptions
  /** A stable name of a node for the plan (its label, or tag and topological index). */
  readonly label: (n: Node) => string
  /** The constant folder: a node's value when it is fixed at compile time in this mode. */
  readonly constOf: (n: Node) => Float64Array | undefined
  /** Binary weights as a constant or a per-pass draw of a constant, else undefined. */
  readonly weightSource: (w: Node) => WeightSource | undefined
  /** The node as float64 (memoised: lowered once). */
  readonly f64: (n: Node) => F64Loc
  /** The binary node as packed bits (memoised: lowered once). */
  readonly bits: (n: Node) => BitsLoc
  /** A fused epilogue's tables as buffers (and the draws of a sampled one, filled per pass). */
  readonly epilogueOf: (tables: SignTables | SampleTables, name: string, b: Binarize, units: number) => Epilogue
}

const align = (bytes: number): number => Math.ceil(bytes / 64) * 64

/**
 * The buffer allocator: specs appended to `into`, each a multiple of 64 bytes (`perExample`:
 * true, false, or 'perThread' for a scratch buffer of `bytes` per thread).
 */
export const allocator = (into: BufferSpec[]): Emit['buffer'] =>
  (name, kind, perExample, bytes, init) => {
    const id = into.length
    const per = perExample === 'perThread' ? { perExample: false, perThread: true as const } : { perExample }
    into.push({ id, label: name, kind, ...per, bytes: align(bytes), stride: bytes, ...(init === undefined ? {} : { init }) })
    return id
  }
