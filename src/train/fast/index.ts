/**
 * Fast matrix-product kernels for training (`prepareGradient(net, feed, { kernels })`):
 * WebAssembly SIMD in single precision with exact XOR-popcount products of ±1 operands, or a
 * float64 plain-JavaScript fallback. Choose once, pass the value; nothing is registered.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { RunError } from '../../interpreters/runErrors.js'
import type { Kernels } from '../../interpreters/reference/ops.js'
import { jsKernels } from './js-gemm.js'
import type { WasmKernelOptions } from './wasm-gemm.js'
import { wasmKernels, wasmSupport } from './wasm-gemm.js'
import type { Blocking } from './emit-gemm.js'
import { defaultBlocking } from './emit-gemm.js'
import type { ThreadedKernels } from '../threads/threadedKernels.js'
import { threadedKernels } from '../threads/threadedKernels.js'

export type { Blocking } from './emit-gemm.js'
export { defaultBlocking } from './emit-gemm.js'
export { jsKernels } from './js-gemm.js'
export type { WasmKernelOptions } from './wasm-gemm.js'
export { wasmKernels, wasmSupport } from './wasm-gemm.js'
export type { ThreadedKernelOptions, ThreadedKernels } from '../threads/threadedKernels.js'
export { threadedKernels } from '../threads/threadedKernels.js'
export { availableCores, ThreadFailure } from '../../threads/pool.js'

/**
 * The fastest kernels of this host: WebAssembly SIMD (products of real operands in single
 * precision), with the relaxed-SIMD fused multiply-add where the engine validates it (Node ≥ 22;
 * results then differ from an unfused host in the last bits, within the same bound), or an
 * `Unsupported` error saying why not (then use `jsKernels`).
 * @example
 * const kernels = E.getOrElse(() => jsKernels)(fastKernels())
 * // prepareGradient(net, feed, { kernels })
 */
export const fastKernels = (opts: WasmKernelOptions = {}): E.Either<RunError, Kernels> =>
  wasmKernels({ ...opts, blocking: opts.blocking ?? fastBlocking() })

/** The blocking of `fastKernels`: with the fused multiply-add where the engine validates it. */
const fastBlocking = (): Blocking => {
  const fma = { ...defaultBlocking, fma: true }
  return E.isRight(wasmSupport(fma)) ? fma : defaultBlocking
}

/**
 * `fastKernels()` over `threads` threads (`threadedKernels`): the same bits; close them after use.
 * @example
 * const k = fastThreadedKernels(2) // Either<RunError, ThreadedKernels>
 * if (E.isRight(k)) k.right.close()
 */
export const fastThreadedKernels = (threads: number): E.Either<RunError, ThreadedKernels> =>
  threadedKernels({ threads, blocking: fastBlocking() })

/** `fastKernels()` where the host supports them, else the float64 JavaScript fallback. */
export const trainingKernels = (): Kernels => E.getOrElse((): Kernels => jsKernels)(fastKernels())
