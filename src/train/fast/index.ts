/**
 * Fast matrix-product kernels for training (`prepareGradient(net, feed, { products })`):
 * WebAssembly SIMD in single precision with exact XOR-popcount products of ±1 operands, or a
 * float64 plain-JavaScript fallback. Choose once, pass the value; nothing is registered.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { RunError } from '../../interpreters/runErrors.js'
import type { MatrixProducts } from '../../interpreters/reference/ops.js'
import { jsProducts } from './js-gemm.js'
import type { WasmProductOptions } from './wasm-gemm.js'
import { wasmProducts, wasmSupport } from './wasm-gemm.js'
import type { Blocking } from './emit-gemm.js'
import { defaultBlocking } from './emit-gemm.js'
import type { ThreadedProducts } from '../threads/threadedProducts.js'
import { threadedProducts } from '../threads/threadedProducts.js'

export type { Blocking } from './emit-gemm.js'
export { defaultBlocking } from './emit-gemm.js'
export { jsProducts } from './js-gemm.js'
export type { WasmProductOptions } from './wasm-gemm.js'
export { wasmProducts, wasmSupport } from './wasm-gemm.js'
export type { ThreadedProductOptions, ThreadedProducts } from '../threads/threadedProducts.js'
export { threadedProducts } from '../threads/threadedProducts.js'
export { availableCores, ThreadFailure } from '../../threads/pool.js'

/**
 * The fastest kernels of this host: WebAssembly SIMD (products of real operands in single
 * precision), with the relaxed-SIMD fused multiply-add where the engine validates it (Node ≥ 22;
 * results then differ from an unfused host in the last bits, within the same bound), or an
 * `Unsupported` error saying why not (then use `jsProducts`).
 * @example
 * const kernels = E.getOrElse(() => jsProducts)(fastProducts())
 * // prepareGradient(net, feed, { products })
 */
export const fastProducts = (opts: WasmProductOptions = {}): E.Either<RunError, MatrixProducts> =>
  wasmProducts({ ...opts, blocking: opts.blocking ?? fastBlocking() })

/** The blocking of `fastProducts`: with the fused multiply-add where the engine validates it. */
const fastBlocking = (): Blocking => {
  const fma = { ...defaultBlocking, fma: true }
  return E.isRight(wasmSupport(fma)) ? fma : defaultBlocking
}

/**
 * `fastProducts()` over `threads` threads (`threadedProducts`): the same bits; close them after use.
 * @example
 * const k = fastThreadedProducts(2) // Either<RunError, ThreadedProducts>
 * if (E.isRight(k)) k.right.close()
 */
export const fastThreadedProducts = (threads: number): E.Either<RunError, ThreadedProducts> =>
  threadedProducts({ threads, blocking: fastBlocking() })

/** `fastProducts()` where the host supports them, else the float64 JavaScript fallback. */
export const trainingProducts = (): MatrixProducts => E.getOrElse((): MatrixProducts => jsProducts)(fastProducts())
