/**
 * The JavaScript back end's rule table: for each kernel tag, the emitter of its source (a
 * function expression over the views `I32`, `U32`, `F64`, sizes baked in), or `undefined` where
 * the jitless loop is used as is.
 */
import type { KernelOf, KernelTag } from './kernels.js'
import { binaryConvJs, planeDenseJs } from './kernels-js/conv.js'
import { binaryDenseJs } from './kernels-js/dense.js'

export type JsRules = { readonly [K in KernelTag]: ((k: KernelOf<K>) => string) | undefined }

export const jsRules: JsRules = {
  BinaryDense: binaryDenseJs,
  RealDense: undefined,
  PackPlanes: undefined,
  PlaneDense: planeDenseJs,
  PackBytes: undefined,
  ByteDense: undefined,
  BinaryHead: undefined,
  PackSign: undefined,
  Unpack: undefined,
  RealConv: undefined,
  PadBits: undefined,
  PoolOr: undefined,
  BinaryConv: binaryConvJs,
  FillRandom: undefined,
  PackPm1: undefined,
  StageBytes: undefined,
}
