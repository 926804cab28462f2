/**
 * The exact gradient as an estimator (`exactGradient()`): the oracle the others are measured
 * against. This estimator is the exact interpreter, with latent parameters reported in the
 * estimators' convention; so this file is a composition above both the exact interpreter and the
 * gradient interpreter (docs/architecture.md), and `gradient.ts` is what chooses it.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Checked, Network } from '../dsl/node.js'
import type { RunError } from '../interpreters/runErrors.js'
import { exact } from '../interpreters/exact/index.js'
import type { Feed } from '../interpreters/ndarray.js'
import type { ParamGrads } from '../interpreters/reference/grads.js'
import type { GradientOptions, SiteConfig } from './perSite.js'
import type { GradientResult, PreparedGradient } from './result.js'
import { isWeight, toMirror } from './sites.js'

/**
 * The exact gradient of a configuration `configureSites` checked, with latent parameters in the
 * chosen convention; every draw returns the same result (no randomness is involved).
 */
export const prepareOracle = (
  net: Checked<Network>, feed: Feed, opts: Omit<GradientOptions, 'key' | 'baseline'>, c: SiteConfig,
): E.Either<RunError, PreparedGradient> => {
  if (opts.output !== undefined)
    return E.left({ _tag: 'Unsupported', interpreter: 'exact', what: 'differentiating an output other than the loss', fix: 'use the loss output' })
  const { sites, latent, shapes, estimators } = c
  return E.map((r: { loss: number; perExample: Float64Array; grad?: ParamGrads }) => {
    const grad = r.grad!
    if (latent === 'mirror')
      for (const s of sites)
        if (isWeight(s) && s.input._tag === 'Param') {
          const eta = net.params[s.input.name]!
          const g = toMirror(s, { shape: [eta.length], data: eta }, { shape: [eta.length], data: grad[s.input.name]! })
          grad[s.input.name] = g.data.slice()
        }
    const res: GradientResult = { loss: r.loss, perExample: r.perExample, grad, shapes, latent, estimators, batchStats: {} }
    return (): GradientResult => res
  })(exact(net, feed, { grad: true }))
}
