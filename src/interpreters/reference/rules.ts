/**
 * The forward rules of the semantic core: one total table, `forwardRules`, from each primitive
 * and its children's values to its value. Rules are context-free: what they read besides their
 * arguments comes in an explicit `RuleEnv` (data, parameters, matrix kernels, the binarize rule),
 * and what reverse rules need besides the value (max-pool winners, batch statistics, per-example
 * losses, convolution patches) is returned beside it, never written into a closure's maps.
 *
 * Every interpreter runs these rules: the reference fold (`forward.ts`) for the exact, Monte
 * Carlo and gradient interpreters, and the compiled interpreter's generic steps.
 */
import type { BatchNorm, Binarize, Node, NodeOf, ParamValues, Tag } from '../../dsl/node.js'
import type { Args } from '../../dsl/fold.js'
import { dispatch } from '../../dsl/fold.js'
import { unreachable } from '../../dsl/dslErrors.js'
import { concreteShape } from '../../dsl/shape.js'
import type { Feed, NDArray } from '../ndarray.js'
import * as ops from './ops.js'
import * as spatial from './spatial.js'
import type { RowParts } from './ops.js'

// ---------------------------------------------------------------------------------------------
// Model

/** What a binarize node outputs given its input's value (the interpreter's choice). */
export type BinarizeRule = (node: Binarize, input: NDArray) => NDArray

/** Everything a rule may read besides its node and its children's values. */
export interface RuleEnv {
  /** Examples in the pass (the concrete size of the batch axis). */
  readonly batch: number
  readonly feed: Feed
  readonly params: ParamValues
  /** Matrix-product kernels (the float64 reference loops, or faster ones that compute the same). */
  readonly products: ops.MatrixProducts
  readonly binarize: BinarizeRule
}

/**
 * The moments a batch-norm node normalises with: the batch's in training mode, the running ones
 * in inference mode (not the node's parameters, which are `BatchNormStats` of `sbnkit/dsl`).
 */
export interface BatchMoments { readonly mean: NDArray; readonly variance: NDArray }

/** @deprecated The old name of `BatchMoments`, which clashed with `BatchNormStats` of `sbnkit/dsl`. */
export type BatchNormStats = BatchMoments

/** The outputs a rule returns beside the node's value, by tag (what the reverse rules read). */
export interface Extras {
  /** The patch matrix (`spatial.im2col`) of the input; none when the kernels convolve themselves. */
  readonly Conv2d: { readonly patches?: Float64Array }
  /** The winning input of each max-pool cell. */
  readonly Pool: { readonly argmax: Int32Array }
  readonly BatchNorm: { readonly stats: BatchMoments }
  /** Per-example losses; the node's value is their mean. */
  readonly Loss: { readonly perExample: Float64Array }
}

/** A rule's result: the node's value, plus its extra outputs for tags that have them. */
export type Out<K extends Tag> = { readonly value: NDArray } & (K extends keyof Extras ? Extras[K] : unknown)
export type ForwardRule<K extends Tag> = (node: NodeOf<K>, args: Args<K, NDArray>, env: RuleEnv) => Out<K>

// ---------------------------------------------------------------------------------------------
// Rules

const scalar = (v: number): NDArray => ({ shape: [], data: Float64Array.of(v) })

/** The statistics a batch-norm node normalises with (batch statistics in training mode). */
export const batchNormStats = (node: BatchNorm, input: NDArray, runningMean: NDArray, runningVar: NDArray, rows?: RowParts): BatchMoments => {
  const stats = node.mode === 'train' ? spatial.batchStats(input, rows) : { mean: runningMean.data, variance: runningVar.data }
  const c = [input.shape[1]!]
  return { mean: { shape: c, data: stats.mean }, variance: { shape: c, data: stats.variance } }
}

/** The mean of the per-example losses, the value of a Loss node. */
export const meanLoss = (perExample: Float64Array): NDArray => {
  let s = 0
  for (const v of perExample) s += v
  return scalar(s / perExample.length)
}

export const forwardRules: { readonly [K in Tag]: ForwardRule<K> } = {
  Input: (n, _, env) => ({ value: env.feed[n.name] ?? unreachable(`input ${n.name} is bound before evaluation`) }),
  Param: (n, _, env) => ({ value: { shape: concreteShape(n.type.shape, env.batch), data: env.params[n.name] ?? unreachable(`parameter ${n.name} is checked by typecheck`) } }),
  Const: (n) => ({ value: scalar(n.value) }),
  MatMul: (_, { lhs, rhs }, env) => ({ value: env.products.matmul(lhs, rhs) }),
  Add: (_, { lhs, rhs }, env) => ({ value: ops.add(lhs, rhs, env.products.alloc) }),
  Mul: (_, { lhs, rhs }) => ({ value: ops.mul(lhs, rhs) }),
  Unary: (n, { arg }) => ({ value: ops.map(arg, ops.unaryFn[n.op]) }),
  Conv2d: (n, { input, kernel }, env) => {
    // Products with their own convolution need no patch matrix (nor keep one for the reverse rule).
    if (env.products.conv2d !== undefined) return { value: spatial.conv2d(input, kernel, n.stride, n.padding, n.padValue, env.products) }
    const patches = spatial.im2col(input.data, spatial.convGeometry(input, kernel, n.stride, n.padding), n.padValue)
    return { value: spatial.conv2d(input, kernel, n.stride, n.padding, n.padValue, env.products, patches), patches }
  },
  Pool: (n, { input }, env) => {
    const r = spatial.pool(n.op, input, n.window, n.stride, env.products.alloc)
    return { value: r.out, argmax: r.argmax }
  },
  Reshape: (n, { input }, env) => ({ value: { shape: concreteShape(n.type.shape, env.batch), data: input.data } }),
  BatchNorm: (n, { input, gamma, beta, runningMean, runningVar }, env) => {
    const stats = batchNormStats(n, input, runningMean, runningVar, env.products.rows)
    return { value: spatial.batchNorm(input, { gamma, beta, ...stats }, n.eps, env.products.alloc), stats }
  },
  Binarize: (n, { input }, env) => ({ value: env.binarize(n, input) }),
  Loss: (n, { logits, target }) => {
    const perExample = ops.lossPerExample(n.op, logits, target)
    return { value: meanLoss(perExample), perExample }
  },
}

/** Any rule's result, as the fold sees it: the value and whichever extra outputs the tag has. */
export type AnyOut = { readonly value: NDArray } & Partial<Extras['Conv2d'] & Extras['Pool'] & Extras['BatchNorm'] & Extras['Loss']>

/** Runs the rule of `node`'s tag on its children's values. */
export const forwardRule = (node: Node, args: Readonly<Record<string, NDArray>>, env: RuleEnv): AnyOut =>
  dispatch<NDArray, AnyOut, RuleEnv>(forwardRules, node, args, env)
