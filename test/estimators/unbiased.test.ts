/**
 * MuProp and REINFORCE with the leave-one-out baseline are unbiased: on random tiny networks their
 * expectation over their own randomness, computed by enumerating every joint state with its
 * probability (`tiny.ts`), equals the exact interpreter's gradient to 1e-9.
 *
 * MuProp's only randomness is the ancestral sample (its control variates come from deterministic
 * mean-field passes), so the enumeration of `expectation` applies as is. REINFORCE-LOO draws K
 * independent passes (keys foldIn(key, s)); the source below tells them apart by their key and
 * forces a joint state per pass, and the probability of the K-tuple is the product.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { foldIn, key } from '../../src/dsl/random.js'
import type { LatentRule } from '../../src/estimators/estimator.js'
import { exactGradient, muprop, reinforce, st } from '../../src/estimators/estimator.js'
import { gradient } from '../../src/estimators/gradient.js'
import type { BitSource } from '../../src/estimators/sites.js'
import { drawRunError } from '../../src/interpreters/runErrors.js'
import { exact } from '../../src/interpreters/exact/index.js'
import type { SbnCase } from '../laws/sbn.js'
import type { Grads } from './fixtures.js'
import { addScaled, bitsFor, expectGradsClose, jointStates, unwrap, zerosLike } from './fixtures.js'
import { arbTiny, bitsOf, expectation, netOf, probOf, sitesOf } from './tiny.js'

// Σ of ≤ 2^10 products of probabilities and gradients of size ≤ ~50 in float64: rounding ≤ 1e-12.
const TOL = 1e-9

const exactIn = (c: SbnCase, latent: LatentRule): Grads =>
  latent === 'st-gd'
    ? unwrap(exact(netOf(c), c.feed, { grad: true })).grad!
    : unwrap(gradient(netOf(c), c.feed, { key: key(0), estimator: exactGradient(), latent })).grad

/** E[ĝ] of REINFORCE-LOO with K passes: every K-tuple of joint states, weighted by its probability. */
const looExpectation = (c: SbnCase, K: number, latent: LatentRule): Grads => {
  const net = netOf(c)
  const states = jointStates(sitesOf(c.spec, c.feed['x']!.shape[0]!))
  const probs = states.map((s) => probOf(c, s))
  const passIds = Array.from({ length: K }, (_, s) => foldIn(key(0), s).join(','))
  const mean = zerosLike(net.params)
  const tuple = new Array<number>(K).fill(0)
  for (;;) {
    const prob = tuple.reduce((p, t) => p * probs[t]!, 1)
    if (prob > 0) {
      const source: BitSource = (pass, site) => Uint32Array.from(states[tuple[passIds.indexOf(pass.join(','))]!]![site]!, bitsFor)
      addScaled(mean, unwrap(gradient(net, c.feed, { key: key(0), estimator: reinforce({ baseline: 'loo', samples: K }), latent, source })).grad, prob)
    }
    let d = 0
    while (d < K && ++tuple[d]! === states.length) tuple[d++] = 0
    if (d === K) break
  }
  return mean
}

describe('MuProp: E[ĝ] by exact enumeration of its randomness = exact gradient (1e-9)', () => {
  it('law: one or two stochastic layers, logistic or normal units of any scale, 1–3 examples', () => {
    fc.assert(fc.property(arbTiny({ maxLayers: 2, families: ['logistic', 'normal'] }), (c) => {
      expectGradsClose(expectation(c, { key: key(0), estimator: muprop(), latent: 'st-gd' }), exactIn(c, 'st-gd'), TOL)
    }), { seed: 4301, numRuns: 30 })
  })

  it('law: uniform and triangular units (densities with corners)', () => {
    fc.assert(fc.property(arbTiny({ maxLayers: 2, maxBatch: 2, families: ['uniform', 'triangular'] }), (c) => {
      expectGradsClose(expectation(c, { key: key(0), estimator: muprop(), latent: 'st-gd' }), exactIn(c, 'st-gd'), TOL)
    }), { seed: 4302, numRuns: 20 })
  })

  it('law: Bernoulli weights of 1–4 bits, in both latent conventions', () => {
    const arb = arbTiny({ maxLayers: 2, binaryWeights: true, maxBits: 10 }).filter((c) => c.spec.binaryWeights[0] === true)
    fc.assert(fc.property(arb, (c) => {
      for (const latent of ['st-gd', 'mirror'] as const)
        expectGradsClose(expectation(c, { key: key(0), estimator: muprop(), latent }), exactIn(c, latent), TOL)
    }), { seed: 4303, numRuns: 12 })
  })

  it('MuProp at a single site, or per-site overrides under MuProp, are clear errors (it treats the whole network)', () => {
    const c = fc.sample(arbTiny(), { seed: 1, numRuns: 1 })[0]!
    const r = gradient(netOf(c), c.feed, { key: key(0), estimator: st(), sites: { 'l1.act': muprop() } })
    if (r._tag === 'Right') throw new Error('muprop accepted as a per-site estimator')
    expect(drawRunError(r.left)).toBe('gradient: muprop at a single site (l1.act) is not supported; muprop treats the whole network: pass it as the estimator of the network')
    const o = gradient(netOf(c), c.feed, { key: key(0), estimator: muprop(), sites: { 'l1.act': st() } })
    if (o._tag === 'Right') throw new Error('per-site override accepted')
    expect(drawRunError(o.left)).toMatchInlineSnapshot(`"muprop: per-site estimators (l1.act) is not supported; muprop treats every site of the network by its own rule; drop the per-site choice or use a per-site estimator (st, reinforce, arm, disarm, …) as the network's"`)
  })
})

describe('REINFORCE-LOO: E[ĝ] over K independent passes, enumerated = exact gradient (1e-9)', () => {
  it('law: K = 2, one or two stochastic layers (≤ 5 bits per pass, so ≤ 2^10 tuples)', () => {
    const arb = arbTiny({ maxLayers: 2, maxBits: 5, families: ['logistic', 'normal'] })
    fc.assert(fc.property(arb, (c) => expectGradsClose(looExpectation(c, 2, 'st-gd'), exactIn(c, 'st-gd'), TOL)), { seed: 4311, numRuns: 25 })
  })

  it('law: K = 3 on ≤ 3 bits per pass', () => {
    const arb = arbTiny({ maxLayers: 2, maxBits: 3 })
    fc.assert(fc.property(arb, (c) => expectGradsClose(looExpectation(c, 3, 'st-gd'), exactIn(c, 'st-gd'), TOL)), { seed: 4312, numRuns: 15 })
  })

  it('law: Bernoulli weights (drawn per pass), both latent conventions, K = 2', () => {
    const arb = arbTiny({ maxLayers: 1, binaryWeights: true, maxBits: 5 }).filter((c) => c.spec.binaryWeights[0] === true && bitsOf(c.spec, c.feed['x']!.shape[0]!) <= 5)
    fc.assert(fc.property(arb, (c) => {
      for (const latent of ['st-gd', 'mirror'] as const) expectGradsClose(looExpectation(c, 2, latent), exactIn(c, latent), TOL)
    }), { seed: 4313, numRuns: 10 })
  })

  it('fewer than two samples is a clear error', () => {
    const c = fc.sample(arbTiny(), { seed: 1, numRuns: 1 })[0]!
    const r = gradient(netOf(c), c.feed, { key: key(0), estimator: reinforce({ baseline: 'loo', samples: 1 }) })
    if (r._tag === 'Right') throw new Error('accepted one sample')
    expect(drawRunError(r.left)).toMatchInlineSnapshot(`"option samples: expected an integer ≥ 2 (a leave-one-out baseline needs another pass), found 1"`)
  })
})
