/**
 * REINFORCE with the leave-one-out baseline (Kool, van Hoof & Welling 2019; "RLOO"): K ≥ 2
 * independent passes s = 1 … K, each example n baselined by the mean objective of the other
 * passes for that example,
 *
 *   ĝ = (1/K) Σ_s [ (f_sn − b_sn) ∇ log P(x_s) + ∇_direct f_s ],   b_sn = (Σ_t f_tn − f_sn)/(K − 1).
 *
 * b_sn does not depend on pass s, so E[b_sn ∇ log P(x_s)] = 0 and the estimator is unbiased; it
 * costs K passes, and the baseline needs no running state. A Bernoulli weight, shared by the
 * batch, takes the batch means of f and b. Pass s draws with the key foldIn(key, s).
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Node } from '../dsl/node.js'
import type { Key } from '../dsl/random.js'
import { foldIn } from '../dsl/random.js'
import type { RunError } from '../interpreters/runErrors.js'
import type { NDArray } from '../interpreters/ndarray.js'
import { backward, meanWeights } from '../interpreters/reference/backward.js'
import type { WholeContext, WholeDraw } from './pass.js'
import { drawPass, objectiveSeeds, resultOf, seedSite, stopAtSites } from './pass.js'
import { score } from './score.js'
import { isWeight } from './sites.js'

/** Prepares the draws of REINFORCE-LOO with `samples` passes per draw. */
export const prepareLoo = (c: WholeContext, samples: number): E.Either<RunError, WholeDraw> => {
  if (!(Number.isInteger(samples) && samples >= 2))
    return E.left({ _tag: 'InvalidOption', option: 'samples', expected: 'an integer ≥ 2 (a leave-one-out baseline needs another pass)', found: String(samples) })
  for (const s of c.sites)
    if (s.noise.family === 'none')
      return E.left({ _tag: 'Unsupported', interpreter: 'reinforce-loo', what: `site "${s.site}" with noise "none"`, fix: 'REINFORCE needs a noise with a density at every site' })
  const B = c.batch
  const K = samples
  return E.right((key: Key) => {
    const passes = Array.from({ length: K }, (_, s) => drawPass(c, foldIn(key, s)))
    const total = new Float64Array(B)
    for (const p of passes) for (let n = 0; n < B; n++) total[n]! += p.ell[n]!
    const grads = passes.map(({ ev, ell }) => {
      const base = Float64Array.from(ell, (v, n) => (total[n]! - v) / (K - 1))
      const diffMean = ell.reduce((t, v, n) => t + v - base[n]!, 0) / B
      const at = new Map<Node, NDArray>()
      for (const s of c.sites) {
        const a = ev.values.get(s.input)!
        const x = ev.values.get(s)!
        const weight = isWeight(s)
        const per = x.data.length / (weight ? 1 : B)
        seedSite(c, at, s, a, Float64Array.from(score(s, a, x), (v, i) => {
          if (weight) return diffMean * v
          const n = Math.floor(i / per)
          return ((ell[n]! - base[n]!) / B) * v
        }))
      }
      return backward(ev, [c.root], objectiveSeeds(c, ev, meanWeights(B), at), stopAtSites, c.order)
    })
    // The reported objective is the mean over the K passes (the estimate of the expected loss).
    return resultOf(c, total.map((v) => v / K), grads, 1 / K)
  })
}
