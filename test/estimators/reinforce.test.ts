/**
 * REINFORCE is unbiased: on random tiny networks its expectation over its own randomness,
 * computed by enumerating every joint state of the Bernoulli weights and hidden units with its
 * probability (`tiny.ts`), equals the exact interpreter's gradient to 1e-9. For Bernoulli
 * weights both latent conventions are checked: `st-gd` is ∂L/∂η, the exact interpreter's own
 * gradient; `mirror` is ∂L/∂μ = (∂L/∂η)/(2p_w(η)), which the exact estimator reports the same way.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { key } from '../../src/dsl/random.js'
import type { LatentRule } from '../../src/estimators/estimator.js'
import { exactGradient, reinforce } from '../../src/estimators/estimator.js'
import { gradient } from '../../src/estimators/gradient.js'
import { exact } from '../../src/interpreters/exact/index.js'
import { stFactor } from '../../src/dsl/distributions.js'
import type { SbnCase } from '../laws/sbn.js'
import { showCase } from '../laws/sbn.js'
import type { Grads } from './fixtures.js'
import { expectGradsClose, gridValue, unwrap } from './fixtures.js'
import { arbTiny, expectation, netOf } from './tiny.js'

// Σ of ≤ 2^10 products of probabilities and gradients of size ≤ ~50 in float64: rounding ≤ 1e-12.
const TOL = 1e-9

const exactGrad = (c: SbnCase): Grads => unwrap(exact(netOf(c), c.feed, { grad: true })).grad!

const reinforceMean = (c: SbnCase, latent: LatentRule, baseline?: number): Grads =>
  expectation(c, { key: key(0), estimator: reinforce(), weights: reinforce(), latent, ...(baseline === undefined ? {} : { baseline }) })

describe('REINFORCE: E[ĝ] by exact enumeration of its randomness = exact gradient (1e-9)', () => {
  it('law: one stochastic layer of 1–3 logistic units, 1–3 examples, real weights', () => {
    fc.assert(fc.property(arbTiny(), (c) => {
      expectGradsClose(reinforceMean(c, 'st-gd'), exactGrad(c), TOL)
    }), { seed: 4101, numRuns: 40 })
  })

  it('law: two stochastic layers', () => {
    fc.assert(fc.property(arbTiny({ maxLayers: 2, maxBatch: 2 }), (c) => {
      expectGradsClose(reinforceMean(c, 'st-gd'), exactGrad(c), TOL)
    }), { seed: 4102, numRuns: 30 })
  })

  it('law: any baseline leaves the expectation unchanged (E[score] = 0)', () => {
    fc.assert(fc.property(arbTiny({ maxLayers: 2, maxBatch: 2 }), gridValue(-3, 3, 8), (c, b) => {
      expectGradsClose(reinforceMean(c, 'st-gd', b), exactGrad(c), TOL)
    }), { seed: 4103, numRuns: 20 })
  })

  it('law: Bernoulli weights of 1–4 bits, in both latent conventions', () => {
    const arb = arbTiny({ maxLayers: 2, binaryWeights: true, maxBits: 10 }).filter((c) => c.spec.binaryWeights[0] === true)
    fc.assert(fc.property(arb, (c) => {
      const why = showCase(c)
      const stGd = exactGrad(c)
      expectGradsClose(reinforceMean(c, 'st-gd'), stGd, TOL)
      // mirror: the exact estimator reports ∂L/∂μ = (∂L/∂η)/(2p_w(η)) for the latent parameter.
      const net = netOf(c)
      const mirror = unwrap(gradient(net, c.feed, { key: key(0), estimator: exactGradient(), latent: 'mirror' })).grad
      const eta = net.params['l1.W']!
      const byHand = stGd['l1.W']!.map((g, i) => g / stFactor(c.spec.weightNoise)(eta[i]!))
      expect(Math.max(...byHand.map((g, i) => Math.abs(g - mirror['l1.W']![i]!))), why).toBeLessThanOrEqual(1e-12)
      expectGradsClose(reinforceMean(c, 'mirror'), mirror, TOL)
    }), { seed: 4104, numRuns: 15 })
  })
})
