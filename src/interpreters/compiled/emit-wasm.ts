/**
 * The WebAssembly back end's rule table: for each kernel tag, the emitter of its WebAssembly
 * function, or `undefined` where the kernel runs as its jitless loop on the same memory (kernels
 * whose cost is negligible next to the products, or not yet specialised). The plan reports which.
 */
import type { KernelOf, KernelTag } from './kernels.js'
import type { WasmFunction } from '../../wasm/code.js'
import { binaryDense, planeDense } from './kernels-wasm/dense.js'
import { byteDense, packBytes } from './kernels-wasm/bytes.js'
import { nibbleDense, TILE_ROWS, UNROLL } from './kernels-wasm/bytes-nibbles.js'
import { hasRelaxedSwizzle } from '../../wasm/relaxed.js'
import { binaryConv, padBits, poolOr } from './kernels-wasm/conv.js'
import { binaryHead } from './kernels-wasm/head.js'
import { packSign, realDense, unpack } from './kernels-wasm/pack.js'
import { packPlanes } from './kernels-wasm/planes.js'
import { fillRandom } from './kernels-wasm/threefry.js'
import { packPm1, stageBytes } from './kernels-wasm/entry.js'
import { realConv } from './kernels-wasm/realconv.js'

export type WasmRules = { readonly [K in KernelTag]: ((k: KernelOf<K>) => WasmFunction) | undefined }

export const wasmRules: WasmRules = {
  BinaryDense: binaryDense,
  RealDense: realDense,
  PackPlanes: packPlanes,
  PlaneDense: planeDense,
  PackBytes: packBytes,
  ByteDense: (k) => (k.nibbles === undefined ? byteDense(k) : nibbleDense(k, TILE_ROWS, UNROLL, hasRelaxedSwizzle())),
  BinaryHead: binaryHead,
  PackSign: packSign,
  Unpack: unpack,
  RealConv: realConv,
  PadBits: padBits,
  PoolOr: poolOr,
  BinaryConv: binaryConv,
  FillRandom: fillRandom,
  PackPm1: packPm1,
  StageBytes: stageBytes,
}
