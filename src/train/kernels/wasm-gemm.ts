/**
 * The WebAssembly SIMD training kernels: each product is packed from float64 into the module's
 * memory (f32 panels, or sign bits when both operands are ±1), computed there, and read back
 * into a fresh Float64Array. Products of real operands are therefore computed in single
 * precision (inputs rounded to f32, f32 accumulation); ±1 × ±1 products are exact.
 *
 * The kernels own one WebAssembly memory, reused across calls (their only state, invisible to
 * callers: every call packs its inputs afresh and returns a new array).
 */
import * as E from 'fp-ts/lib/Either.js'
import type { WasmMemory } from '../../interpreters/compiled/wasm/runtime.js'
import { wasmApi } from '../../interpreters/compiled/wasm/runtime.js'
import type { RunError } from '../../interpreters/errors.js'
import type { NDArray } from '../../interpreters/ndarray.js'
import type { Kernels } from '../../interpreters/reference/ops.js'
import type { Blocking } from './emit-gemm.js'
import { defaultBlocking, gemmModule } from './emit-gemm.js'
import type { Product, Strided } from './pack.js'
import { bitWords, ceilTo, packBits, packBlock, packPanels, productNN, productNT, productTN, startsWithSigns } from './pack.js'
import { relaxedProbe, simdProbe } from './simd.js'
import { wasmSampler } from './sample-wasm.js'
import { convBackward, convForward } from './conv.js'
import type { GemmEngine } from './engine.js'

export interface WasmKernelOptions {
  /** Register blocking of the f32 micro-kernel (default: the measured best, `defaultBlocking`). */
  readonly blocking?: Blocking
  /** Compute ±1 × ±1 products with XOR + popcount (default true). */
  readonly bits?: boolean
}

const PAGE = 65536

type GemmFn = (aPack: number, bPack: number, c: number, mPanels: number, nPanels: number, kpad: number, ldcBytes: number) => void
type PackFn = (src: number, ld: number, panels: number, depth: number, dst: number, kpad: number) => void
type BitGemmFn = (aBits: number, bBits: number, c: number, m: number, n: number, words: number) => void

const unsupported = (what: string, fix: string): E.Either<RunError, never> =>
  E.left({ _tag: 'Unsupported', interpreter: 'training kernels', what, fix })

/** Whether the host can run `wasmKernels` with this blocking (relaxed SIMD only if asked for). */
export const wasmSupport = (blocking: Blocking = defaultBlocking): E.Either<RunError, true> => {
  const WA = wasmApi()
  if (WA === undefined) return unsupported('a host without WebAssembly', 'use jsKernels')
  if (!WA.validate(simdProbe())) return unsupported('a WebAssembly engine without 128-bit SIMD', 'use jsKernels')
  if (blocking.fma && !WA.validate(relaxedProbe()))
    return unsupported('the fused multiply-add of relaxed SIMD on this engine', 'use a blocking with fma: false')
  return E.right(true)
}

/**
 * WebAssembly SIMD kernels for `prepareGradient(…, { kernels })`.
 * @example
 * const k = wasmKernels() // Either<RunError, Kernels>
 * // E.isRight(k) && k.right.matmul({ shape: [1, 2], data: Float64Array.of(1, 2) }, { shape: [2, 1], data: Float64Array.of(3, 4) }).data // [11]
 */
export const wasmKernels = (opts: WasmKernelOptions = {}): E.Either<RunError, Kernels> => {
  const blocking = opts.blocking ?? defaultBlocking
  const useBits = opts.bits ?? true
  const ok = wasmSupport(blocking)
  if (E.isLeft(ok)) return ok
  const WA = wasmApi()!
  const bytes = gemmModule(blocking)
  let memory: WasmMemory
  let gemm: GemmFn
  let bitgemm: BitGemmFn
  let packers: Readonly<Record<string, PackFn | undefined>>
  try {
    memory = new WA.Memory({ initial: 16 })
    const exports = new WA.Instance(new WA.Module(bytes), { env: { mem: memory } }).exports
    gemm = exports['gemm'] as GemmFn
    bitgemm = exports['bitgemm'] as BitGemmFn
    packers = exports as Record<string, PackFn>
  } catch (err) {
    // The probes passed, so a module that does not compile is our bug, not the host's.
    throw new Error(`our bug: the generated GEMM module (${bytes.length} bytes) failed to instantiate: ${String(err)}`)
  }
  let f32 = new Float32Array(memory.buffer)
  let u32 = new Uint32Array(memory.buffer)
  let i32 = new Int32Array(memory.buffer)
  let f64 = new Float64Array(memory.buffer)
  const ensure = (bytes: number): void => {
    const need = Math.ceil(bytes / PAGE) - memory.buffer.byteLength / PAGE
    if (need > 0) {
      memory.grow(need)
      f32 = new Float32Array(memory.buffer)
      u32 = new Uint32Array(memory.buffer)
      i32 = new Int32Array(memory.buffer)
      f64 = new Float64Array(memory.buffer)
    }
  }
  const { mr, nr, unroll } = blocking

  /** The product by XOR + popcount if both operands are ±1 (else false, and nothing written). */
  const signProduct = (p: Product, out: Float64Array): boolean => {
    if (!startsWithSigns(p.a.data) || !startsWithSigns(p.b.data)) return false
    const words = bitWords(p.k)
    const aAt = 0
    const bAt = aAt + p.m * words * 2
    const cAt = bAt + p.n * words * 2
    ensure((cAt + p.m * p.n) * 4)
    if (!packBits(u32, aAt, p.a, p.m, p.k, words) || !packBits(u32, bAt, p.b, p.n, p.k, words)) return false
    bitgemm(aAt * 4, bAt * 4, cAt * 4, p.m, p.n, words)
    // Σ ±1·±1 = (agreements) − (disagreements) = k − 2·popcount(a XOR b).
    for (let i = 0; i < out.length; i++) out[i] = p.k - 2 * i32[cAt + i]!
    return true
  }

  /**
   * `packPanels` into memory at f32 index `at`, with the whole panels done by WebAssembly from a
   * verbatim copy of the float64 data at f64 index `stage` (JavaScript packs the remainders).
   */
  const pack = (v: Strided, rows: number, depth: number, w: number, at: number, kpad: number, stage: number): void => {
    const full = Math.floor(rows / w)
    const rowMajor = v.ds === 1
    const fn = rowMajor ? packers[`pack_rm${w}`] : v.rs === 1 ? packers[`pack_dm${w}`] : undefined
    const depth4 = rowMajor ? depth - (depth % 4) : depth
    if (fn === undefined || full === 0 || depth4 === 0) return packPanels(f32, at, v, rows, depth, w, kpad)
    if (kpad !== depth) f32.fill(0, at, at + Math.ceil(rows / w) * kpad * w)
    f64.set(v.data, stage)
    fn(stage * 8, rowMajor ? v.rs : v.ds, full, depth4, at * 4, kpad)
    if (depth4 < depth) packBlock(f32, at, v, 0, full * w, depth4, depth, w, kpad)
    if (full * w < rows) {
      f32.fill(0, at + full * kpad * w, at + (full + 1) * kpad * w)
      packBlock(f32, at, v, full * w, rows, 0, depth, w, kpad)
    }
  }

  const floatProduct = (p: Product, out: Float64Array): void => {
    const mPanels = Math.ceil(p.m / mr)
    const nPanels = Math.ceil(p.n / nr)
    const kpad = ceilTo(p.k, unroll)
    const ldc = nPanels * nr
    // Offsets in f32 elements, 16-byte aligned.
    const aAt = 0
    const bAt = ceilTo(aAt + mPanels * mr * kpad, 4)
    const cAt = ceilTo(bAt + nPanels * nr * kpad, 4)
    // The float64 staging area for the packers, after C (f64 index).
    const stage = Math.ceil((cAt + mPanels * mr * ldc) / 2)
    ensure((stage + Math.max(p.a.data.length, p.b.data.length)) * 8)
    pack(p.a, p.m, p.k, mr, aAt, kpad, stage)
    pack(p.b, p.n, p.k, nr, bAt, kpad, stage)
    gemm(aAt * 4, bAt * 4, cAt * 4, mPanels, nPanels, kpad, ldc * 4)
    // One plain loop (a subarray per row costs more than the copy when rows are short).
    const n = p.n
    for (let i = 0, o = 0; i < p.m; i++) {
      const src = cAt + i * ldc
      for (let j = 0; j < n; j++, o++) out[o] = f32[src + j]!
    }
  }

  const run = (p: Product): NDArray => {
    const out = new Float64Array(p.m * p.n)
    if (out.length > 0 && p.k > 0) {
      if (!(useBits && signProduct(p, out))) floatProduct(p, out)
    }
    return { shape: [p.m, p.n], data: out }
  }
  const signs = wasmSampler(WA)
  // The convolution kernels (conv.ts) pack into the same memory and call the same products.
  const engine: GemmEngine = { blocking, bits: useBits, ensure, f32: () => f32, i32: () => i32, u32: () => u32, gemm, bitgemm }
  return E.right({
    signs,
    conv2d: convForward(engine),
    conv2dBackward: convBackward(engine),
    matmul: (a, b) => run(productNN(a, b)),
    matmulNT: (a, b) => run(productNT(a, b)),
    matmulTN: (a, b) => run(productTN(a, b)),
  })
}
