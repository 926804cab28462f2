/**
 * The relaxed estimators differentiate their own forward pass exactly: with the key fixed,
 * Concrete (x = tanh((a − Z)/(2τ)), weights likewise) and mean-field (x = 2F(a) − 1, μ = 2F(η) − 1)
 * are smooth deterministic functions of the parameters, and their gradients in the `st-gd`
 * convention (∂/∂η) are those functions' derivatives: checked by central differences.
 * Mean-field has no randomness at all: every key gives the same gradient.
 */
import { describe, expect, it } from 'vitest'
import type { Noise } from '../../src/dsl/noise.js'
import { key } from '../../src/dsl/random.js'
import type { Estimator } from '../../src/estimators/estimator.js'
import { concrete, gumbelSt, meanfield, st } from '../../src/estimators/estimator.js'
import { gradient } from '../../src/estimators/gradient.js'
import { stFactor } from '../../src/dsl/distributions.js'
import { buildSbn } from '../laws/sbn.js'
import { unwrap } from './fixtures.js'

const params = {
  'l1.W': Float64Array.of(0.5, -0.3, 0.8, -0.6, 0.2, 0.1), 'l1.b': Float64Array.of(0.1, -0.2, 0.3),
  'head.W': Float64Array.of(0.3, -0.2, 0.5, -0.4, 0.6, 0.1), 'head.b': Float64Array.of(0, 0.1),
}
const netWith = (noise: Noise, p: Record<string, Float64Array>) =>
  buildSbn({ inputs: 2, widths: [3], binaryWeights: [true], noise, weightNoise: noise, head: 'softmax', classes: 2, skip: false }, p)
const feed = { x: { shape: [2, 2], data: Float64Array.of(0.5, -1, -0.3, 0.7) }, y: { shape: [2], data: Float64Array.of(1, 0) } }

// Central differences with h = 1e-5 on a loss of size ~1 with derivatives of order 1/τ³ ≤ 10:
// truncation h²·|f'''|/6 ≤ 2·10⁻¹⁰, rounding ~ε/h ≈ 2·10⁻¹¹; 1e-7 leaves a wide margin.
const H = 1e-5
const TOL = 1e-7

const checkDerivatives = (noise: Noise, estimator: Estimator): void => {
  const opts = { key: key(3), estimator, weights: estimator, latent: 'st-gd' } as const
  const g = unwrap(gradient(netWith(noise, params), feed, opts)).grad
  for (const [name, values] of Object.entries(params)) {
    values.forEach((_, i) => {
      const at = (d: number): number => {
        const p = { ...params, [name]: values.map((v, j) => (j === i ? v + d : v)) }
        return unwrap(gradient(netWith(noise, p), feed, opts)).loss
      }
      const fd = (at(H) - at(-H)) / (2 * H)
      expect(Math.abs(g[name]![i]! - fd), `${estimator.label} ${noise.family} ${name}[${i}]`).toBeLessThanOrEqual(TOL)
    })
  }
}

describe('relaxations are exact derivatives of their own forward pass (key fixed, st-gd)', () => {
  for (const noise of [{ family: 'logistic', scale: 1 }, { family: 'normal', scale: 0.7 }] as const) {
    it(`law: concrete(τ) for τ ∈ {0.5, 1}, ${noise.family} noise`, () => {
      checkDerivatives(noise, concrete(0.5))
      checkDerivatives(noise, concrete(1))
    })
    it(`law: mean-field, ${noise.family} noise`, () => checkDerivatives(noise, meanfield()))
  }

  it('mean-field is deterministic, and mirror = st-gd / 2p_w(η) at the latent weights', () => {
    const net = netWith({ family: 'logistic', scale: 1 }, params)
    const first = unwrap(gradient(net, feed, { key: key(0), estimator: meanfield(), weights: meanfield(), latent: 'st-gd' }))
    for (let k = 1; k < 5; k++) expect(unwrap(gradient(net, feed, { key: key(k), estimator: meanfield(), weights: meanfield(), latent: 'st-gd' }))).toEqual(first)
    const mirror = unwrap(gradient(net, feed, { key: key(0), estimator: meanfield(), weights: meanfield(), latent: 'mirror' })).grad['l1.W']!
    const f = stFactor({ family: 'logistic', scale: 1 })
    mirror.forEach((g, i) => expect(Math.abs(g * f(params['l1.W']![i]!) - first.grad['l1.W']![i]!)).toBeLessThanOrEqual(1e-15))
  })
})

describe('straight-through Gumbel-softmax: the hard sample forward, the relaxation backward', () => {
  it('law: its forward states are ST\'s (same key), and under a head linear in x its hidden gradient is Concrete\'s at the same Z', () => {
    const net = netWith({ family: 'logistic', scale: 1 }, params)
    for (const t of [0.1, 0.5, 2])
      for (let k = 0; k < 8; k++) {
        const base = { key: key(k), weights: st(), latent: 'st-gd' } as const
        const g = unwrap(gradient(net, feed, { ...base, estimator: gumbelSt(t) }))
        expect(g.perExample).toEqual(unwrap(gradient(net, feed, { ...base, estimator: st() })).perExample)
        // Differentiating the logits (linear in the states): ∂η/∂x does not depend on x, so the
        // only difference from Concrete, the forward value, does not reach layer 1's gradient.
        const lin = unwrap(gradient(net, feed, { ...base, estimator: gumbelSt(t), output: 'output' })).grad
        const rel = unwrap(gradient(net, feed, { ...base, estimator: concrete(t), output: 'output' })).grad
        for (const name of ['l1.W', 'l1.b']) lin[name]!.forEach((v, i) => expect(Math.abs(v - rel[name]![i]!)).toBeLessThanOrEqual(1e-15))
      }
  })
})
