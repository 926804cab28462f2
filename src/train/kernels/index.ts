/**
 * Fast matrix-product kernels for training (`prepareGradient(net, feed, { kernels })`):
 * WebAssembly SIMD in single precision with exact XOR-popcount products of ±1 operands, or a
 * float64 plain-JavaScript fallback. Choose once, pass the value; nothing is registered.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { RunError } from '../../interpreters/errors.js'
import type { Kernels } from '../../interpreters/reference/ops.js'
import { jsKernels } from './js-gemm.js'
import type { WasmKernelOptions } from './wasm-gemm.js'
import { wasmKernels } from './wasm-gemm.js'

export type { Blocking } from './emit-gemm.js'
export { defaultBlocking } from './emit-gemm.js'
export { jsKernels } from './js-gemm.js'
export type { WasmKernelOptions } from './wasm-gemm.js'
export { wasmKernels, wasmSupport } from './wasm-gemm.js'

/**
 * The fastest kernels of this host: WebAssembly SIMD (products of real operands in single
 * precision), or a `Unsupported` error saying why not (then use `jsKernels`).
 * @example
 * const kernels = E.getOrElse(() => jsKernels)(fastKernels())
 * // prepareGradient(net, feed, { kernels })
 */
export const fastKernels = (opts: WasmKernelOptions = {}): E.Either<RunError, Kernels> => wasmKernels(opts)

/** `fastKernels()` where the host supports them, else the float64 JavaScript fallback. */
export const trainingKernels = (): Kernels => E.getOrElse((): Kernels => jsKernels)(fastKernels())
