/**
 * The reference forward pass: the core's rule table (`forwardRules`, rules.ts) run by the
 * memoised fold.
 * What a `Binarize` node produces is not fixed here: the caller passes a rule for it (sample
 * with a key, take the sign, read an enumerated state, relax…), so the Monte Carlo, exact and
 * gradient interpreters share every other rule.
 */
import type { Checked, Network, Node } from '../../dsl/node.js'
import { foldWith, topoOrder } from '../../dsl/fold.js'
import type { Feed, NDArray } from '../ndarray.js'
import type { BatchMoments, BinarizeRule, RuleEnv } from './rules.js'
import { forwardRule } from './rules.js'
import * as ops from './ops.js'
import * as spatial from './spatial.js'

export type { BinarizeRule }

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
  readonly products: ops.MatrixProducts
}

export interface ForwardContext {
  readonly net: Checked<Network>
  readonly feed: Feed
  readonly batch: number
  readonly binarize: BinarizeRule
  /** Matrix-product kernels (default: the float64 reference loops). */
  readonly products?: ops.MatrixProducts
}

/** Evaluates every node below `roots` (default: all outputs) once; nodes of `cut` take the given values. */
export const evaluate = (
  ctx: ForwardContext,
  roots: readonly Node[] = Object.values(ctx.net.outputs),
  cut: ReadonlyMap<Node, NDArray> = new Map(),
  /** `topoOrder(roots, cut)`, when the caller evaluates the same graph many times. */
  order: readonly Node[] = topoOrder(roots, cut),
): Evaluation => {
  const kernels = ctx.products ?? ops.referenceProducts
  const env: RuleEnv = { batch: ctx.batch, feed: ctx.feed, params: ctx.net.params, products: kernels, binarize: ctx.binarize }
  const side = { lossPerExample: new Map<Node, Float64Array>(), argmax: new Map<Node, Int32Array>(), patches: new Map<Node, Float64Array>(), bnStats: new Map<Node, BatchMoments>() }
  // Each rule returns its extra outputs beside the value; the evaluation keeps them by node.
  const step = (node: Node, args: Readonly<Record<string, NDArray>>): NDArray => {
    const out = forwardRule(node, args, env)
    if (out.perExample !== undefined) side.lossPerExample.set(node, out.perExample)
    if (out.argmax !== undefined) side.argmax.set(node, out.argmax)
    if (out.patches !== undefined) side.patches.set(node, out.patches)
    if (out.stats !== undefined) side.bnStats.set(node, out.stats)
    return out.value
  }
  return { values: foldWith(step, roots, cut, order), ...side, batch: ctx.batch, cut, order, products: kernels }
}

export { ops, spatial }
