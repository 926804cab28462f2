/**
 * What kernels built on the GEMM module (`emit-gemm.ts`) need from its instance: the memory,
 * grown on demand, and the two products on operands already packed there. `wasm-gemm.ts` makes
 * one per `wasmProducts()` value; the convolution kernels (`gemmConv.ts`) pack straight from NCHW
 * tensors into it, with no float64 patch matrix in between, and run their own jobs of calls
 * (`run`) over the same threads as the products.
 */
import type { Blocking } from './emit-gemm.js'
import type { Runner } from '../../threads/jobs.js'

/**
 * C = A·B over packed f32 panels (`emit-gemm.ts`, `gemm`): byte addresses of the A panels, the B
 * panels and C; panel counts; padded depth; C's row length in bytes.
 */
export type GemmFn = (aPack: number, bPack: number, c: number, mPanels: number, nPanels: number, kpad: number, ldcBytes: number) => void
/** c[i·n + j] (i32) = popcount(A row i XOR B row j) over `words` 64-bit words (`emit-gemm.ts`, `bitgemm`). */
export type BitGemmFn = (aBits: number, bBits: number, c: number, m: number, n: number, words: number) => void

export interface GemmEngine {
  readonly blocking: Blocking
  /** Whether ±1 × ±1 products go through XOR + popcount. */
  readonly bits: boolean
  /** Grows the memory to at least `bytes`; views taken before a growth are stale afterwards. */
  readonly ensure: (bytes: number) => void
  /** Views of the whole memory as it is now (take them after `ensure`). */
  readonly f32: () => Float32Array
  readonly i32: () => Int32Array
  readonly u32: () => Uint32Array
  readonly f64: () => Float64Array
  /** The memory's buffer as it is now (for views at byte offsets). */
  readonly buffer: () => ArrayBufferLike
  /** Runs a job of calls of the module's exports, part i on thread i (`threads/jobs.ts`). */
  readonly run: Runner['run']
  /** Parts a job of `macs` multiply-adds is split into: every thread, or 1 below the split threshold. */
  readonly partsFor: (macs: number) => number
  readonly gemm: GemmFn
  readonly bitgemm: BitGemmFn
}
