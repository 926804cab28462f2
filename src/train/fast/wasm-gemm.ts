/**
 * The WebAssembly SIMD training kernels: each product is packed from float64 into the module's
 * memory (f32 panels, or sign bits when both operands are ±1), computed there, and read back
 * into a new Float64Array. Products of real operands are therefore computed in single
 * precision (inputs rounded to f32, f32 accumulation); ±1 × ±1 products are exact.
 *
 * The kernels own one WebAssembly memory, reused across calls by the products and the sampler,
 * and a store of result arrays handed back by their caller (`release`, `recycle.ts`) for later
 * results of the same length to be written into: their only state, invisible to callers (every
 * call packs its inputs afresh and returns an array nobody else holds). Every call is a list of parts run by a `Runner`: on the calling thread here, split
 * across worker threads over a shared memory in `train/threads/threadedProducts.ts`, with the same bits.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { WasmMemory } from '../../wasm/runtime.js'
import { wasmApi } from '../../wasm/runtime.js'
import type { LinearMemory } from '../../wasm/memory.js'
import { arena, wasmMemory } from '../../wasm/memory.js'
import type { RunError } from '../../interpreters/runErrors.js'
import type { NDArray } from '../../interpreters/ndarray.js'
import type { MatrixProducts } from '../../interpreters/reference/ops.js'
import type { Blocking } from './emit-gemm.js'
import { defaultBlocking, gemmModule } from './emit-gemm.js'
import type { Product, Strided } from './panels.js'
import { bitWords, ceilTo, packBits, packBlock, packPanels, productNN, productNT, productTN, startsWithSigns } from './panels.js'
import { relaxedProbe, simdProbe } from '../../wasm/simd.js'
import { MIN_SPLIT_UNITS, samplerOn } from './sample-wasm.js'
import { convBackward, convForward } from './gemmConv.js'
import { stOn } from './st-wasm.js'
import type { BitGemmFn, GemmEngine, GemmFn } from './engine.js'
import type { Call, Runner } from '../../threads/jobs.js'
import { evenRanges, localRunner } from '../../threads/jobs.js'
import type { SplitChooser } from '../../threads/choose.js'
import { recycler } from './recycle.js'
import { InternalError } from '../../dsl/dslErrors.js'

export interface WasmProductOptions {
  /** Register blocking of the f32 micro-kernel (default: the measured best, `defaultBlocking`). */
  readonly blocking?: Blocking
  /** Compute ±1 × ±1 products with XOR + popcount (default true). */
  readonly bits?: boolean
}

const unsupported = (what: string, fix: string): E.Either<RunError, never> =>
  E.left({ _tag: 'Unsupported', interpreter: 'training kernels', what, fix })

/** Whether the host can run `wasmProducts` with this blocking (relaxed SIMD only if asked for). */
export const wasmSupport = (blocking: Blocking = defaultBlocking): E.Either<RunError, true> => {
  const WA = wasmApi()
  if (WA === undefined) return unsupported('a host without WebAssembly', 'use jsProducts')
  if (!WA.validate(simdProbe())) return unsupported('a WebAssembly engine without 128-bit SIMD', 'use jsProducts')
  if (blocking.fma && !WA.validate(relaxedProbe()))
    return unsupported('the fused multiply-add of relaxed SIMD on this engine', 'use a blocking with fma: false')
  return E.right(true)
}

/**
 * WebAssembly SIMD kernels for `prepareGradient(…, { products })`.
 * @example
 * const k = wasmProducts() // Either<RunError, MatrixProducts>
 * // E.isRight(k) && k.right.matmul({ shape: [1, 2], data: Float64Array.of(1, 2) }, { shape: [2, 1], data: Float64Array.of(3, 4) }).data // [11]
 */
export const wasmProducts = (opts: WasmProductOptions = {}): E.Either<RunError, MatrixProducts> => {
  const blocking = opts.blocking ?? defaultBlocking
  const ok = wasmSupport(blocking)
  if (E.isLeft(ok)) return ok
  // A shared memory where the host has one, though no other thread uses it: growing a plain
  // memory detaches its old buffer, and the first detached buffer of a process invalidates V8's
  // ArrayBufferDetaching protector for good, after which every typed-array access of optimised
  // JavaScript checks for detachment (a float64 read-modify-write loop 1.7× slower; about 8 % of
  // the MLP step, docs/training.md). A shared memory keeps its old buffer when it grows.
  const inst = E.orElse(() => gemmInstance(blocking, false))(gemmInstance(blocking, true))
  return E.map((i: GemmInstance) => productsOn(i, blocking, opts.bits ?? true, localRunner(i.exports)))(inst)
}

/** The products' module instantiated on a memory of its own (shared, for threads). */
export interface GemmInstance {
  readonly module: object
  /** The memory under the back end's manager (src/wasm/memory.ts). */
  readonly linear: LinearMemory
  /** The same memory as modules and worker threads import it. */
  readonly memory: WasmMemory
  readonly exports: Readonly<Record<string, unknown>>
  /** The exported function names (a pool's call lists index them). */
  readonly names: readonly string[]
}

/**
 * The module of `blocking` on a fresh managed memory; `shared` makes it a shared memory for
 * worker threads, or an `Unsupported` error where the host has none.
 */
export const gemmInstance = (blocking: Blocking, shared: boolean): E.Either<RunError, GemmInstance> => {
  const WA = wasmApi()!
  const bytes = gemmModule(blocking, shared)
  const made = wasmMemory(WA, { initialPages: 16, shared, who: 'training kernels' })
  if (E.isLeft(made)) return unsupported(`a shared WebAssembly memory on this host (${made.left})`, 'train with one thread')
  const linear = made.right
  const memory = linear.wasm
  try {
    const module = new WA.Module(bytes)
    const exports = new WA.Instance(module, { env: { mem: memory } }).exports
    return E.right({ module, linear, memory, exports, names: Object.keys(exports) })
  } catch (err) {
    // The probes passed, so a module that does not compile is our bug, not the host's.
    throw new InternalError(`the generated GEMM module (${bytes.length} bytes) failed to instantiate: ${String(err)}`)
  }
}

/**
 * Products of fewer multiply-adds than this run on the calling thread alone: waking a worker
 * costs about as much. Only who computes an output changes with it, never its value.
 */
export const MIN_SPLIT_MACS = 1 << 18

/**
 * The kernels over an instance, with `runner` deciding who runs each part: every product is
 * packed, multiplied and widened back to float64 in parts (panel ranges of its operands, then
 * panel ranges of its output), each part computing its outputs exactly as a single call would.
 * Products of fewer than `splitAbove` multiply-adds are not split, nor sampled sites of fewer
 * than min(MIN_SPLIT_UNITS, splitAbove) units. The sampler (`sample-wasm.ts`) shares the memory.
 */
export const productsOn = (
  inst: GemmInstance, blocking: Blocking, useBits: boolean, runner: Runner, splitAbove = MIN_SPLIT_MACS, choose?: SplitChooser,
): MatrixProducts => {
  const { memory, linear } = inst
  const exported = new Set(inst.names)
  let { f32, u32, i32, f64 } = linear.views()
  /** Grows the memory if needed and re-reads the views (the sampler may have grown it too). */
  const ensure = (bytes: number): void => {
    linear.ensure(bytes)
    ;({ f32, u32, i32, f64 } = linear.views())
  }
  const { mr, nr, unroll } = blocking
  const results = recycler()
  /**
   * `job(parts)` with every thread for a job of `macs` multiply-adds from `splitAbove` on, or, with
   * a chooser, with every thread or one as `choose` finds faster for this kind of job.
   */
  const splitting = <T>(kind: string, macs: number, job: (parts: number) => T): T =>
    macs < splitAbove || runner.threads === 1 ? job(1) : choose === undefined ? job(runner.threads) : choose(kind, (split) => job(split ? runner.threads : 1))

  /** XOR–popcount rows of A against rows of B, split by rows of A into `parts` parts. */
  const bitgemmIn = (aBits: number, bBits: number, c: number, m: number, n: number, words: number, parts: number): void =>
    runner.run(evenRanges(m, Math.min(parts, m)).map(([i0, i1]): Call[] =>
      i1 > i0 ? [['bitgemm', aBits + 8 * words * i0, bBits, c + 4 * n * i0, i1 - i0, n, words]] : []))
  /** XOR–popcount over the runner's threads from `splitAbove` multiply-adds on (the convolutions' entry). */
  const bitgemm: BitGemmFn = (aBits, bBits, c, m, n, words) =>
    bitgemmIn(aBits, bBits, c, m, n, words, m * n * words * 64 >= splitAbove ? runner.threads : 1)

  /**
   * The product by XOR + popcount if both operands are ±1, as a new array (else undefined, and
   * nothing written): the counts are widened to depth − 2c in the module (`unpack_pop`) and copied out.
   */
  const signProduct = (p: Product, into?: Float64Array): Float64Array | undefined => {
    if (!startsWithSigns(p.a.data) || !startsWithSigns(p.b.data)) return undefined
    const words = bitWords(p.k)
    // The rows of A and of B (u32 indices), the popcounts (i32 indices), the float64 products (f64 indices).
    const space = arena()
    const aAt = space.alloc(p.m * words * 8) / 4
    const bAt = space.alloc(p.n * words * 8) / 4
    const cAt = space.alloc(p.m * p.n * 4) / 4
    const outAt = space.alloc(p.m * p.n * 8) / 8
    const stageA = space.alloc(p.a.data.length * 8) / 8
    const stageB = space.alloc(p.b.data.length * 8) / 8
    ensure(space.end())
    if (!packSigns(p.a, p.m, p.k, words, aAt, stageA) || !packSigns(p.b, p.n, p.k, words, bAt, stageB)) return undefined
    splitting(`bits ${p.m}×${p.n}×${words}`, p.m * p.n * words * 64, (parts) => bitgemmIn(aAt * 4, bAt * 4, cAt * 4, p.m, p.n, words, parts))
    runner.run([[['unpack_pop', cAt * 4, p.n * 4, p.m, p.n, outAt * 8, p.n * 8, p.k]]])
    return copyOut(outAt, p.m * p.n, into)
  }

  /**
   * `packBits` of `rows × depth` of `v` at u32 index `at`, by WebAssembly from a verbatim copy of
   * its data at f64 index `stage` where the view is row- or depth-major (`emit-bits.ts`: the same
   * words), else in JavaScript; false if a value is not ±1.
   */
  const packSigns = (v: Strided, rows: number, depth: number, words: number, at: number, stage: number): boolean => {
    const name = v.ds === 1 ? 'pack_bits_rm' : v.rs === 1 ? 'pack_bits_dm' : undefined
    if (name === undefined || !exported.has(name)) return packBits(u32, at, v, rows, depth, words)
    f64.set(v.data, stage)
    const fn = inst.exports[name] as (src: number, ld: number, rows: number, depth: number, dst: number, w32: number) => number
    return fn(stage * 8, v.ds === 1 ? v.rs : v.ds, rows, depth, at * 4, 2 * words) === 0
  }

  /**
   * A new array holding `length` float64 of the memory from f64 index `at`: a released one of that
   * length if there is one (`recycle.ts`), else constructed from the view (which spares the
   * zero-filling of `new Float64Array(length)` before the copy); or `into`, written.
   */
  const copyOut = (at: number, length: number, into?: Float64Array): Float64Array => {
    if (into === undefined) return results.copyOf(f64.subarray(at, at + length))
    into.set(f64.subarray(at, at + length))
    return into
  }

  /**
   * `packPanels` into memory at f32 index `at`, in `parts` parts: the whole panels by WebAssembly
   * (ranges of panels) from a verbatim copy of the float64 data at f64 index `stage`, and the
   * remainders (a partial last panel, a depth tail) by the returned JavaScript.
   */
  const pack = (v: Strided, rows: number, depth: number, w: number, at: number, kpad: number, stage: number, parts: number): { calls: Call[][]; rest: () => void } => {
    const full = Math.floor(rows / w)
    const rowMajor = v.ds === 1
    const name = rowMajor ? `pack_rm${w}` : v.rs === 1 ? `pack_dm${w}` : undefined
    const depth4 = rowMajor ? depth - (depth % 4) : depth
    if (name === undefined || !exported.has(name) || full === 0 || depth4 === 0) return { calls: [], rest: () => packPanels(f32, at, v, rows, depth, w, kpad) }
    if (kpad !== depth) f32.fill(0, at, at + Math.ceil(rows / w) * kpad * w)
    f64.set(v.data, stage)
    const ld = rowMajor ? v.rs : v.ds
    const calls = evenRanges(full, Math.min(parts, full)).map(([q0, q1]): Call[] => {
      const src = stage * 8 + 8 * q0 * w * (rowMajor ? ld : 1)
      return q1 > q0 ? [[name, src, ld, q1 - q0, depth4, (at + q0 * kpad * w) * 4, kpad]] : []
    })
    return {
      calls,
      rest: () => {
        if (depth4 < depth) packBlock(f32, at, v, 0, full * w, depth4, depth, w, kpad)
        if (full * w < rows) {
          f32.fill(0, at + full * kpad * w, at + (full + 1) * kpad * w)
          packBlock(f32, at, v, full * w, rows, 0, depth, w, kpad)
        }
      },
    }
  }

  const floatProduct = (p: Product, into?: Float64Array): Float64Array =>
    splitting(`f32 ${p.m}×${p.k}×${p.n} ${p.a.ds === 1 ? 'r' : 'd'}${p.b.ds === 1 ? 'r' : 'd'}`, p.m * p.n * p.k, (parts) => floatProductIn(p, parts, into))

  /** The product in `parts` parts: its operands packed by ranges of panels, then C by panel ranges. */
  const floatProductIn = (p: Product, parts: number, into?: Float64Array): Float64Array => {
    const mPanels = Math.ceil(p.m / mr)
    const nPanels = Math.ceil(p.n / nr)
    const kpad = ceilTo(p.k, unroll)
    const ldc = nPanels * nr
    // The panels and C (offsets in f32 elements), then the staging areas of the packers and the
    // float64 result (f64 indices), each 16-byte aligned.
    const space = arena()
    const aAt = space.alloc(mPanels * mr * kpad * 4) / 4
    const bAt = space.alloc(nPanels * nr * kpad * 4) / 4
    const cAt = space.alloc(mPanels * mr * ldc * 4) / 4
    const stageA = space.alloc(p.a.data.length * 8) / 8
    const stageB = space.alloc(p.b.data.length * 8) / 8
    const outAt = space.alloc(p.m * p.n * 8) / 8
    ensure(space.end())
    const packA = pack(p.a, p.m, p.k, mr, aAt, kpad, stageA, parts)
    const packB = pack(p.b, p.n, p.k, nr, bAt, kpad, stageB, parts)
    runner.run(Array.from({ length: parts }, (_, t) => [...(packA.calls[t] ?? []), ...(packB.calls[t] ?? [])]), () => {
      packA.rest()
      packB.rest()
    })
    // The output in panel ranges of its longer side; each block then widened to float64.
    const byColumns = nPanels >= mPanels
    const blocks = evenRanges(byColumns ? nPanels : mPanels, Math.min(parts, byColumns ? nPanels : mPanels)).map(([q0, q1]): Call[] => {
      if (q1 <= q0) return []
      const [i0, i1, j0, j1] = byColumns ? [0, mPanels, q0, q1] : [q0, q1, 0, nPanels]
      const c = (cAt + i0 * mr * ldc + j0 * nr) * 4
      const rows = Math.min(p.m, i1 * mr) - i0 * mr
      const cols = Math.min(p.n, j1 * nr) - j0 * nr
      return [
        ['gemm', (aAt + i0 * mr * kpad) * 4, (bAt + j0 * nr * kpad) * 4, c, i1 - i0, j1 - j0, kpad, ldc * 4],
        ['unpack_f32', c, ldc * 4, rows, cols, (outAt + i0 * mr * p.n + j0 * nr) * 8, p.n * 8],
      ]
    })
    runner.run(blocks)
    return copyOut(outAt, p.m * p.n, into)
  }

  const run = (p: Product, into?: Float64Array): NDArray => {
    const empty = p.m * p.n === 0 || p.k === 0
    const data = empty ? (into?.fill(0) ?? new Float64Array(p.m * p.n)) : (useBits ? signProduct(p, into) : undefined) ?? floatProduct(p, into)
    return { shape: [p.m, p.n], data }
  }
  const signs = samplerOn(memory, runner, Math.min(MIN_SPLIT_UNITS, splitAbove), choose, results.copyOf)
  // The convolution kernels (gemmConv.ts) pack into the same memory and call the same products,
  // split over the runner's threads like the matrix products (by panel ranges of the longer
  // side of C, or by rows of A for XOR–popcount).
  const gemm: GemmFn = (aPack, bPack, c, mPanels, nPanels, kpad, ldcBytes) => {
    const parts = mPanels * mr * nPanels * nr * kpad >= splitAbove ? runner.threads : 1
    const byColumns = nPanels >= mPanels
    runner.run(evenRanges(byColumns ? nPanels : mPanels, Math.min(parts, byColumns ? nPanels : mPanels)).map(([q0, q1]): Call[] => {
      if (q1 <= q0) return []
      const [i0, i1, j0, j1] = byColumns ? [0, mPanels, q0, q1] : [q0, q1, 0, nPanels]
      return [['gemm', aPack + i0 * mr * kpad * 4, bPack + j0 * nr * kpad * 4, c + i0 * mr * ldcBytes + j0 * nr * 4, i1 - i0, j1 - j0, kpad, ldcBytes]]
    }))
  }
  const engine: GemmEngine = {
    blocking, bits: useBits, ensure, f32: () => f32, i32: () => i32, u32: () => u32, f64: () => f64, buffer: () => memory.buffer,
    gemm, bitgemm, run: runner.run, partsFor: (macs) => (macs >= splitAbove ? runner.threads : 1),
  }
  return {
    signs,
    // Large results of the convolutions and of the reference rules (pooling, batch norm, bias
    // adds, the ST factor) are taken from the same recycled arrays (recycle.ts).
    alloc: results.take,
    release: results.release,
    conv2d: convForward(engine, results.take),
    conv2dBackward: convBackward(engine, results.take),
    stFactorTimes: stOn(memory, runner, Math.min(MIN_SPLIT_UNITS, splitAbove), results.copyOf),
    matmul: (a, b) => run(productNN(a, b)),
    matmulNT: (a, b) => run(productNT(a, b)),
    matmulTN: (a, b) => run(productTN(a, b)),
    matmulTNInto: (a, b, out) => void run(productTN(a, b), out),
  }
}
