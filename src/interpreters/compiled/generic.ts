/**
 * Generic steps: the typed-array loops a node falls back to when no specialised kernel applies
 * (real matrix products, pooling, losses, batch norm in training mode, sampling a real tensor…).
 * They run the reference's own float64 kernels (`reference/ops.ts`, `reference/spatial.ts`) on
 * views of the compiled program's memory, so a fallback is bit-exact by construction; the plan
 * lists every one of them with its reason.
 */
import type { Node, Shape, SiteId } from '../../dsl/node.js'
import type { Noise } from '../../dsl/noise.js'
import { concreteShape } from '../../dsl/shape.js'
import type { NDArray } from '../ndarray.js'
import { signsInto } from '../reference/sampling.js'
import { elementwise, lossPerExample, map, matmul, unaryFn } from '../reference/ops.js'
import { batchStats } from '../reference/spatial.js'
import { addInto, batchNormInto, conv2dInto, poolInto } from './float-steps.js'
import type { UnitFn } from './epilogue.js'
import type { StepEnv } from './plan.js'
import { packRows } from './layout.js'
import type { WordBits } from './layout.js'

/** Where a float64 tensor lives: its buffer and its symbolic shape. */
export interface F64Loc {
  readonly buffer: number
  readonly shape: Shape
}

/** A float64 tensor of the memory as an NDArray (a view, no copy). */
export const read = (env: StepEnv, loc: F64Loc): NDArray => {
  const shape = concreteShape(loc.shape, env.rows)
  const size = shape.reduce((a, b) => a * b, 1)
  return { shape, data: new Float64Array(env.views.buffer, env.addr(loc.buffer), size) }
}

const write = (env: StepEnv, loc: F64Loc, value: Float64Array): void => {
  env.views.f64.set(value, env.addr(loc.buffer) / 8)
}

/**
 * The generic step of a node from its children's locations, or undefined for nodes that need no
 * step (inputs, parameters, constants, reshapes). `sampling` selects the binarize rule.
 */
export const genericStep = (
  node: Node,
  kids: readonly F64Loc[],
  out: F64Loc,
  sampling: boolean,
): ((env: StepEnv) => void) | undefined => {
  const arg = (env: StepEnv, i: number): NDArray => read(env, kids[i]!)
  switch (node._tag) {
    case 'Input':
    case 'Param':
    case 'Const':
    case 'Reshape':
      return undefined
    case 'MatMul':
      return (env) => write(env, out, matmul(arg(env, 0), arg(env, 1)).data)
    case 'Add':
      return (env) => addInto(arg(env, 0), arg(env, 1), read(env, out).data)
    case 'Mul':
      return (env) => write(env, out, elementwise(arg(env, 0), arg(env, 1), (a, b) => a * b).data)
    case 'Unary': {
      const f = unaryFn[node.op]
      return (env) => write(env, out, map(arg(env, 0), f).data)
    }
    case 'Conv2d':
      return (env) => conv2dInto(arg(env, 0), arg(env, 1), node.stride, node.padding, node.padValue, read(env, out).data)
    case 'Pool':
      return (env) => poolInto(node.op, arg(env, 0), node.window, node.stride, read(env, out).data)
    case 'BatchNorm':
      return (env) => {
        const x = arg(env, 0)
        const c = [x.shape[1]!]
        const stats = node.mode === 'train' ? batchStats(x) : { mean: arg(env, 3).data, variance: arg(env, 4).data }
        const p = { gamma: arg(env, 1), beta: arg(env, 2), mean: { shape: c, data: stats.mean }, variance: { shape: c, data: stats.variance } }
        batchNormInto(x, p, node.eps, read(env, out).data)
      }
    case 'Binarize':
      return binarizeStep(node.noise, node.site, kids[0]!, out, sampling)
    case 'Loss':
      return (env) => {
        const per = lossPerExample(node.op, arg(env, 0), arg(env, 1))
        let s = 0
        for (const v of per) s += v
        write(env, out, Float64Array.of(s / per.length))
      }
  }
}

/** The binarize rule over a float64 tensor: sign in the mode network, else the sampling rule. */
const binarizeStep = (noise: Noise, site: SiteId, src: F64Loc, out: F64Loc, sampling: boolean) =>
  (env: StepEnv): void => {
    const pre = read(env, src).data
    const dst = read(env, out).data
    if (!sampling) for (let i = 0; i < pre.length; i++) dst[i] = pre[i]! >= 0 ? 1 : -1
    else signsInto(env.siteKey(site), 0, pre, noise, dst)
  }

/**
 * The unfused epilogue: pre-activations a_j(dot) from a float64 dot product [rows, N], the
 * binarize rule (sign, or sampling at `site`), packed into the rows of `bits`.
 */
export const epilogueStep = (
  units: readonly UnitFn[],
  dot: F64Loc,
  bitsBuffer: number,
  noise: Noise,
  site: SiteId,
  sampling: boolean,
  wordBits: WordBits,
) =>
  (env: StepEnv): void => {
    const d = read(env, dot).data
    const n = units.length
    const pre = new Float64Array(d.length)
    for (let i = 0; i < d.length; i++) pre[i] = units[i % n]!(d[i]!)
    const signs = new Float64Array(d.length)
    if (!sampling || noise.family === 'none') for (let i = 0; i < pre.length; i++) signs[i] = pre[i]! >= 0 ? 1 : -1
    else signsInto(env.siteKey(site), 0, pre, noise, signs)
    packRows(signs, env.rows, n, wordBits, env.views.i32, env.addr(bitsBuffer) / 4)
  }

