/**
 * Batch-norm modes of a whole network. A network is trained with its BatchNorm nodes in `train`
 * mode (normalised by the statistics of each minibatch, which the trainer averages into the
 * running statistics) and evaluated, checkpointed and shipped with them in `inference` mode
 * (normalised by the running statistics). `withBatchNormMode` is that switch: a pure rewrite of
 * the DAG that rebuilds only the nodes above a changed BatchNorm, keeping every shared node
 * shared (a shared random node stays one random variable) and every other node identical.
 */
import type { BatchNorm, Network } from '../dsl/node.js'
import { topoOrder } from '../dsl/fold.js'
import { withBatchNormMode, withParams } from '../dsl/rewrite.js'

// ---------------------------------------------------------------------------------------------
// Model

export type BatchNormMode = BatchNorm['mode']

// ---------------------------------------------------------------------------------------------
// Combinators

// The type-preserving rewrites live with the DSL's other rewrites (dsl/rewrite.ts).
export { withBatchNormMode, withParams }

/**
 * The BatchNorm nodes of a network (training needs their running statistics).
 * @example batchNorms(net).map((b) => b.mode) // ['train', 'train']
 */
export const batchNorms = (net: Network): BatchNorm[] =>
  topoOrder(Object.values(net.outputs)).filter((n): n is BatchNorm => n._tag === 'BatchNorm')
