/**
 * The exact gradient as an estimator (`exactGradient()`): the oracle the others are measured
 * against. It is the one place the estimators use another interpreter, by design: this estimator
 * is the exact interpreter, with latent parameters reported in the estimators' convention.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Binarize, Checked, Network } from '../dsl/node.js'
import type { RunError } from '../interpreters/runErrors.js'
import { exact } from '../interpreters/exact/index.js'
import type { Feed } from '../interpreters/ndarray.js'
import type { ParamGrads } from '../interpreters/reference/grads.js'
import type { LatentRule } from './estimator.js'
import type { GradientResult } from './result.js'
import { isWeight, toMirror } from './sites.js'

/** The exact gradient, with latent parameters reported in the chosen convention. */
export const exactAsEstimator = (
  net: Checked<Network>, feed: Feed, shapes: Readonly<Record<string, readonly number[]>>, sites: readonly Binarize[], latent: LatentRule, estimators: Record<string, string>,
): E.Either<RunError, GradientResult> =>
  E.map((r: { loss: number; perExample: Float64Array; grad?: ParamGrads }) => {
    const grad = r.grad!
    if (latent === 'mirror')
      for (const s of sites)
        if (isWeight(s) && s.input._tag === 'Param') {
          const eta = net.params[s.input.name]!
          const g = toMirror(s, { shape: [eta.length], data: eta }, { shape: [eta.length], data: grad[s.input.name]! })
          grad[s.input.name] = g.data.slice()
        }
    return { loss: r.loss, perExample: r.perExample, grad, shapes, latent, estimators, batchStats: {} }
  })(exact(net, feed, { grad: true }))
