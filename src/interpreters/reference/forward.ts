/**
 * The reference forward pass: a total rule table (`forwardRules`) run by the memoised fold.
 * What a `Binarize` node produces is not fixed here: the caller passes a rule for it (sample
 * with a key, take the sign, read an enumerated state, relax…), so the Monte Carlo, exact and
 * gradient interpreters share every other rule.
 */
import type { Binarize, Checked, Network, Node } from '../../dsl/node.js'
import type { Algebra } from '../algebra.js'
import { fold, topoOrder } from '../algebra.js'
import type { Feed, NDArray } from '../ndarray.js'
import { concreteShape } from '../../dsl/shape.js'
import * as ops from './ops.js'
import * as spatial from './spatial.js'

/** What a binarize node outputs given its input's value (the interpreter's choice). */
export type BinarizeRule = (node: Binarize, input: NDArray) => NDArray

/** Values of every node of one forward pass, plus what reverse rules need. */
export interface Evaluation {
  readonly values: ReadonlyMap<Node, NDArray>
  /** Per-example losses of each Loss node (its value is their mean). */
  readonly lossPerExample: ReadonlyMap<Node, Float64Array>
  /** Winning input of each max-pool cell. */
  readonly argmax: ReadonlyMap<Node, Int32Array>
  /** The patch matrix (`spatial.im2col`) of each convolution, for its reverse rule. */
  readonly patches: ReadonlyMap<Node, Float64Array>
  /** Mean and variance used by each batch-norm node (batch statistics in training mode). */
  readonly bnStats: ReadonlyMap<Node, { readonly mean: NDArray; readonly variance: NDArray }>
  readonly batch: number
  /** Nodes whose values were given (a cut): reverse passes stop there too. */
  readonly cut: ReadonlyMap<Node, NDArray>
  /** The evaluation order (children first); reverse passes over the same roots reuse it. */
  readonly order: readonly Node[]
  /** The kernels of the pass; the reverse pass uses the same. */
  readonly kernels: ops.Kernels
}

export interface ForwardContext {
  readonly net: Checked<Network>
  readonly feed: Feed
  readonly batch: number
  readonly binarize: BinarizeRule
  /** Matrix-product kernels (default: the float64 reference loops). */
  readonly kernels?: ops.Kernels
}

const scalar = (v: number): NDArray => ({ shape: [], data: Float64Array.of(v) })

const rulesFor = (ctx: ForwardContext, ev: {
  lossPerExample: Map<Node, Float64Array>; argmax: Map<Node, Int32Array>; patches: Map<Node, Float64Array>; bnStats: Map<Node, { mean: NDArray; variance: NDArray }>
}): Algebra<NDArray> => ({
  Input: (n) => {
    const v = ctx.feed[n.name]
    if (v === undefined) throw new Error(`unreachable: input ${n.name} is bound before evaluation`)
    return v
  },
  Param: (n) => ({ shape: concreteShape(n.type.shape, ctx.batch), data: ctx.net.params[n.name]! }),
  Const: (n) => scalar(n.value),
  MatMul: (_, { lhs, rhs }) => (ctx.kernels ?? ops.referenceKernels).matmul(lhs, rhs),
  Add: (_, { lhs, rhs }) => ops.add(lhs, rhs),
  Mul: (_, { lhs, rhs }) => ops.mul(lhs, rhs),
  Unary: (n, { arg }) => ops.map(arg, ops.unaryFn[n.op]),
  Conv2d: (n, { input, kernel }) => {
    // Kernels with their own convolution need no patch matrix (nor keep one for the reverse rule).
    if (ctx.kernels?.conv2d !== undefined) return spatial.conv2d(input, kernel, n.stride, n.padding, n.padValue, ctx.kernels)
    const cols = spatial.im2col(input.data, spatial.convGeometry(input, kernel, n.stride, n.padding), n.padValue)
    ev.patches.set(n, cols)
    return spatial.conv2d(input, kernel, n.stride, n.padding, n.padValue, ctx.kernels ?? ops.referenceKernels, cols)
  },
  Pool: (n, { input }) => {
    const r = spatial.pool(n.op, input, n.window, n.stride)
    ev.argmax.set(n, r.argmax)
    return r.out
  },
  Reshape: (n, { input }) => ({ shape: concreteShape(n.type.shape, ctx.batch), data: input.data }),
  BatchNorm: (n, { input, gamma, beta, runningMean, runningVar }) => {
    const stats = n.mode === 'train' ? spatial.batchStats(input) : { mean: runningMean.data, variance: runningVar.data }
    const c = [input.shape[1]!]
    const mean = { shape: c, data: stats.mean }
    const variance = { shape: c, data: stats.variance }
    ev.bnStats.set(n, { mean, variance })
    return spatial.batchNorm(input, { gamma, beta, mean, variance }, n.eps)
  },
  Binarize: (n, { input }) => ctx.binarize(n, input),
  Loss: (n, { logits, target }) => {
    const per = ops.lossPerExample(n.op, logits, target)
    ev.lossPerExample.set(n, per)
    let s = 0
    for (const v of per) s += v
    return scalar(s / per.length)
  },
})

/** Evaluates every node below `roots` (default: all outputs) once; nodes of `cut` take the given values. */
export const evaluate = (
  ctx: ForwardContext,
  roots: readonly Node[] = Object.values(ctx.net.outputs),
  cut: ReadonlyMap<Node, NDArray> = new Map(),
  /** `topoOrder(roots, cut)`, when the caller evaluates the same graph many times. */
  order: readonly Node[] = topoOrder(roots, cut),
): Evaluation => {
  const side = { lossPerExample: new Map<Node, Float64Array>(), argmax: new Map<Node, Int32Array>(), patches: new Map<Node, Float64Array>(), bnStats: new Map<Node, { mean: NDArray; variance: NDArray }>() }
  return { values: fold(rulesFor(ctx, side), roots, cut, order), ...side, batch: ctx.batch, cut, order, kernels: ctx.kernels ?? ops.referenceKernels }
}

export { ops, spatial }
