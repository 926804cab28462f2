/**
 * The training kernels on every core: the WebAssembly products of `wasm-gemm.ts` on a shared
 * memory, each product split by panel ranges (of its operands while packing, of its output while
 * multiplying) across `threads − 1` worker threads and the calling one. Every output element is
 * computed by the same micro-kernel from the same packed panels whichever thread owns it, so the
 * results are the bits of one thread, for any number of threads (docs/training.md, "Threads").
 *
 * Whether a product or a sampled site is split at all is decided by timing it both ways, per kind
 * of job (`threads/choose.ts`): on a host where waking a worker costs more than half the job, the
 * job stays on the calling thread, so two threads are not slower than one for want of an idle
 * core. The workers start on the first product large enough to split (`MIN_SPLIT_MACS`), so
 * small networks never start a thread. A worker that fails makes the product throw `ThreadFailure`
 * (from `threads/pool.ts`), which `train()` turns into an error value after a checkpoint.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { RunError } from '../../interpreters/runErrors.js'
import type { MatrixProducts } from '../../interpreters/reference/ops.js'
import { poolRunner } from '../../threads/jobs.js'
import { threadsUnavailable } from '../../threads/pool.js'
import { splitChooser } from '../../threads/choose.js'
import { defaultBlocking } from '../fast/emit-gemm.js'
import type { WasmProductOptions } from '../fast/wasm-gemm.js'
import { gemmInstance, productsOn, wasmProducts, wasmSupport } from '../fast/wasm-gemm.js'

/** Matrix products that may own worker threads: close them when done (a no-op for one thread). */
export interface ThreadedProducts extends MatrixProducts {
  /** Threads in all, the calling one included. */
  readonly threads: number
  /** Stops the workers, if any were started; the kernels then compute on the calling thread. */
  readonly close: () => void
  /** Whether worker threads were started (the first product large enough to split starts them). */
  readonly started: () => boolean
  /** For tests: the next product that reaches worker `worker` (1-based) makes it throw or exit. */
  readonly injectFailure: (worker: number, how: 'throw' | 'exit') => void
}

export interface ThreadedProductOptions extends WasmProductOptions {
  /** Threads in all (≥ 1); 1 gives the single-threaded `wasmProducts`. */
  readonly threads: number
  /**
   * Products of fewer multiply-adds run on the calling thread. Default: `MIN_SPLIT_MACS`, and
   * above it each kind of product or sampled site is split only if timing shows that it pays
   * (`threads/choose.ts`). Given explicitly (tests use 0), every job above it is split.
   */
  readonly splitAbove?: number
}

/**
 * WebAssembly kernels over `threads` threads, bit-identical to `wasmProducts` with the same
 * options; an `Unsupported` error where the host has no WebAssembly SIMD, and, for threads > 1,
 * no worker_threads or shared memory (then use one thread).
 * @example
 * const k = threadedProducts({ threads: 2 })
 * // E.isRight(k): prepareGradient(net, feed, { products: k.right }) …, then k.right.close()
 */
export const threadedProducts = (opts: ThreadedProductOptions): E.Either<RunError, ThreadedProducts> => {
  const blocking = opts.blocking ?? defaultBlocking
  if (opts.threads <= 1) return E.map((k: MatrixProducts) => ({ ...k, threads: 1, close: () => undefined, started: () => false, injectFailure: () => undefined }))(wasmProducts(opts))
  const ok = wasmSupport(blocking)
  if (E.isLeft(ok)) return ok
  const why = threadsUnavailable()
  if (why !== undefined) return E.left({ _tag: 'Unsupported', interpreter: 'training kernels', what: `${opts.threads} threads: ${why}`, fix: 'train with threads: 1' })
  return E.map((inst: Parameters<typeof productsOn>[0]) => {
    const runner = poolRunner({ module: inst.module, memory: inst.memory, exports: inst.names, instance: inst.exports, threads: opts.threads })
    const choose = opts.splitAbove === undefined ? splitChooser() : undefined
    const kernels = productsOn(inst, blocking, opts.bits ?? true, runner, opts.splitAbove, choose)
    return { ...kernels, threads: opts.threads, close: runner.close, started: runner.started, injectFailure: runner.injectFailure }
  })(gemmInstance(blocking, true))
}
