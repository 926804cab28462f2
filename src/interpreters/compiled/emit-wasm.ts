/**
 * The WebAssembly back end's rule table: for each kernel tag, the emitter of its WebAssembly
 * function, or `undefined` where the kernel runs as its jitless loop on the same memory (kernels
 * whose cost is negligible next to the products, or not yet specialised). The plan reports which.
 */
import type { KernelOf, KernelTag } from './kernels.js'
import type { WasmFunction } from './wasm/code.js'
import { binaryDense } from './kernels-wasm/dense.js'

export type WasmRules = { readonly [K in KernelTag]: ((k: KernelOf<K>) => WasmFunction) | undefined }

export const wasmRules: WasmRules = {
  BinaryDense: binaryDense,
  RealDense: undefined,
  PackPlanes: undefined,
  PlaneDense: undefined,
  BinaryHead: undefined,
  PackSign: undefined,
  Unpack: undefined,
  FillRandom: undefined,
}
