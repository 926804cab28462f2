/**
 * What a gradient draw returns, whichever estimator made it (the gradient interpreter, the
 * whole-network procedures, or the exact gradient as the oracle).
 */
import type { Checked, Loss, Network } from '../dsl/node.js'
import { concreteShape } from '../dsl/shape.js'
import type { Key } from '../dsl/random.js'
import { topoOrder } from '../dsl/fold.js'
import type { ParamGrads } from '../interpreters/reference/grads.js'
import type { LatentRule } from './estimator.js'

export interface GradientResult {
  /** Mean loss of the differentiated forward pass, and its per-example values. */
  readonly loss: number
  readonly perExample: Float64Array
  readonly grad: ParamGrads
  readonly shapes: Readonly<Record<string, readonly number[]>>
  readonly latent: LatentRule
  /** The estimator label used at each site. */
  readonly estimators: Readonly<Record<string, string>>
  /**
   * Batch statistics of each training-mode batch norm, keyed by the name of its running-mean
   * parameter (with the running-variance name), for the trainer's running averages.
   */
  readonly batchStats: Readonly<Record<string, { readonly varName: string; readonly momentum: number; readonly mean: Float64Array; readonly variance: Float64Array }>>
}

/** The concrete shape of every parameter below the loss (batch axis taken as 1). */
export const shapesOf = (net: Checked<Network>, loss: Loss): Record<string, readonly number[]> =>
  Object.fromEntries(
    topoOrder([loss]).flatMap((n) => (n._tag === 'Param' ? [[n.name, concreteShape(n.type.shape, 1)] as const] : [])),
  )

/** A gradient function prepared for one network, batch and configuration: call it with a key per draw. */
export type PreparedGradient = (key: Key, baseline?: number) => GradientResult
