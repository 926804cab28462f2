/**
 * MATH.md §6 T8: the identities of §4 that justify each weight recipe, in closed form.
 *
 * Notation: θ = P(w = +1) = F_w(η), μ = E[w] = 2θ − 1, N(θ) = θ log θ + (1 − θ) log(1 − θ) the
 * negative entropy. ST gives ĝ = ∂f/∂w, an estimate of ∂L/∂μ = ½·∂L/∂θ.
 *
 * - MD: η ← η − εĝ is mirror descent on θ with mirror map N (∇N(θ) = logit θ = η for logistic
 *   noise) and step ε/2; ST-GD multiplies ĝ by 2p_w(η).
 * - Uniform noise: ∇Φ = F⁻¹ = 2θ − 1 = μ is Euclidean, so MD is projected SGD on μ = clip(η).
 * - Decay: d/dθ N = logit θ = η. In the convention of MD above (data gradient ĝ in μ, step ε),
 *   the term R = c·ΣN contributes ∂R/∂μ = (c/2)·η, so η ← η − ε(ĝ + λη) is MD on L + 2λ·ΣN.
 *   (MATH.md §4 writes L + λ·ΣN; the factor 2 comes from μ = 2θ − 1, docs/training.md.)
 * - Bop: with SGD, decay λ and γ = ελ, η_t = −m_t/λ, so Bop with τ = 0 flips exactly to
 *   w_t = sign(η_t) of that MD run.
 */
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import { describe, expect, it } from 'vitest'
import { squaredError } from '../../src/dsl/composites.js'
import type { Checked, Network, Node } from '../../src/dsl/node.js'
import type { Noise } from '../../src/dsl/noise.js'
import { logistic, uniform } from '../../src/dsl/noise.js'
import { binarize, constant, input, matmul, mul, param } from '../../src/dsl/primitives.js'
import { key } from '../../src/dsl/random.js'
import { typecheck } from '../../src/dsl/typecheck.js'
import { gradient } from '../../src/estimators/gradient.js'
import { drawRunError } from '../../src/interpreters/runErrors.js'
import { noiseFns, stFactor } from '../../src/dsl/distributions.js'
import type { Optimizer, Tensors } from '../../src/train/optimizers.js'
import { adam } from '../../src/train/optimizers.js'
import type { Recipe, RecipeName, RecipeOptions } from '../../src/train/recipes.js'
import { recipe } from '../../src/train/recipes.js'

const get = (name: RecipeName, opts: RecipeOptions = {}, base: 'sgd' | 'adam' = 'sgd'): Recipe => {
  const r = recipe(name, base, opts)
  if (E.isLeft(r)) throw new Error(r.left)
  return r.right
}
const step1 = (opt: Optimizer, eta: number, g: number, lr: number): number => {
  const params = { eta: Float64Array.of(eta) }
  return opt.step(params, { eta: Float64Array.of(g) }, opt.init(params), lr).params['eta']![0]!
}
const sigmoid = (x: number): number => noiseFns(logistic(1)).cdf(x)
const negEntropy = (theta: number): number => theta * Math.log(theta) + (1 - theta) * Math.log(1 - theta)

/** f = 0.3·w for one Bernoulli weight w = sign(η − Z) with the given noise, read by x = 1. */
const oneWeight = (eta: number, noise: Noise): Checked<Network> => {
  const x = input('x', ['batch', 1])
  const t = input('t', ['batch', 1])
  const f = mul(matmul(x, binarize(param('eta', [1, 1]), noise, 'w')), constant(0.3)) as Node
  const net = typecheck({ outputs: { output: f, loss: pipe(f, squaredError(t)) }, params: { eta: Float64Array.of(eta) } })
  if (E.isLeft(net)) throw new Error(JSON.stringify(net.left))
  return net.right
}
/** One recipe step on oneWeight, the gradient taken by the gradient interpreter as the recipe says. */
const recipeStep = (r: Recipe, eta: number, lr: number, seed: number): number => {
  const net = oneWeight(eta, r.weightNoise ?? logistic(1))
  const feed = { x: { shape: [1, 1], data: Float64Array.of(1) }, t: { shape: [1, 1], data: Float64Array.of(0) } }
  const g = gradient(net, feed, { key: key(seed), latent: r.latent, weightSampling: r.weightSampling, output: 'output' })
  if (E.isLeft(g)) throw new Error(drawRunError(g.left))
  return r.optimizer.step(net.params, g.right.grad, r.optimizer.init(net.params), lr).params['eta']![0]!
}

describe('T8: mirror descent and ST-GD (MATH.md §4 golden)', () => {
  it('η = 0.8, ∂f/∂w = 0.3, ε = 0.1, logistic: md gives 0.77 and st-gd 0.787165418208782, through the gradient interpreter', () => {
    for (const seed of [1, 2, 3]) {
      expect(Math.abs(recipeStep(get('md'), 0.8, 0.1, seed) - 0.77)).toBeLessThanOrEqual(1e-15)
      expect(Math.abs(recipeStep(get('st-gd'), 0.8, 0.1, seed) - 0.787165418208782)).toBeLessThanOrEqual(1e-15)
    }
    // the same with the interpreter's factor 2p_w(η) applied by hand
    expect(Math.abs(step1(get('st-gd').optimizer, 0.8, stFactor(logistic(1))(0.8) * 0.3, 0.1) - 0.787165418208782)).toBeLessThanOrEqual(1e-15)
  })
  it('md is natural-gradient descent on η: the ST-GD gradient divided by the Fisher information θ(1 − θ) is 2ĝ', () => {
    fc.assert(fc.property(fc.double({ min: -20, max: 20, noNaN: true }), (eta) => {
      // θ(1 − θ) = σ(η)σ(−η), each factor accurate to a few ulps even where 1 − θ would cancel
      const fisher = sigmoid(eta) * sigmoid(-eta)
      expect(Math.abs(stFactor(logistic(1))(eta) / fisher - 2)).toBeLessThanOrEqual(1e-14)
    }))
  })
  it('st-gd steps vanish for large |η|, md steps do not', () => {
    const eta = 30
    expect(Math.abs(step1(get('st-gd').optimizer, eta, stFactor(logistic(1))(eta) * 0.3, 0.1) - eta)).toBeLessThan(1e-12)
    expect(Math.abs(Math.abs(step1(get('md').optimizer, eta, 0.3, 0.1) - eta) - 0.03)).toBeLessThanOrEqual(1e-14) // ulp(30) ≈ 3.6e−15
  })
  it('law: under Adam a constant factor on the gradients hardly matters (only through ε)', () => {
    fc.assert(fc.property(fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 1, maxLength: 10 }), fc.double({ min: 0.25, max: 4, noNaN: true }), (gs, c) => {
      const run = (scale: number): number => {
        const opt = get('md', {}, 'adam').optimizer
        let params: Tensors = { eta: Float64Array.of(0.8) }
        let state = opt.init(params)
        for (const g of gs) ({ params, state } = opt.step(params, { eta: Float64Array.of(scale * g) }, state, 0.01))
        return params['eta']![0]!
      }
      // each of ≤ 10 steps changes by at most lr·ε/|g| relative terms; |g| ≥ 1e-3 dominate, so 1e-6 covers them
      if (gs.every((g) => Math.abs(g) > 1e-3)) expect(Math.abs(run(c) - run(1))).toBeLessThanOrEqual(1e-6)
    }))
    expect(adam().name).toBe('adam(0.9,0.999)')
  })
})

describe('T8: uniform noise — mirror descent is clipping (projected SGD on μ)', () => {
  const U = noiseFns(uniform(1))
  it('the mirror map of uniform noise is Euclidean: ∇Φ(θ) = F⁻¹(θ) = 2θ − 1 = μ', () => {
    fc.assert(fc.property(fc.double({ min: 0, max: 1, noNaN: true }), (theta) => {
      expect(Math.abs(U.icdf(theta) - (2 * theta - 1))).toBeLessThanOrEqual(1e-15)
    }))
  })
  it('law: the bnn step is clip(η − εĝ, −1, 1) = the mean weight 2F(η − εĝ) − 1 after an unconstrained step, i.e. the projection of μ − εĝ', () => {
    const opt = get('bnn').optimizer
    fc.assert(fc.property(
      fc.double({ min: -1, max: 1, noNaN: true }), fc.double({ min: -10, max: 10, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }),
      (eta, g, lr) => {
        const next = step1(opt, eta, g, lr)
        const free = eta - lr * g
        expect(next).toBe(Math.min(1, Math.max(-1, free)))
        expect(Math.abs(next - (2 * U.cdf(free) - 1))).toBeLessThanOrEqual(1e-15)
        // for η ∈ [−1, 1] the latent is the mean weight itself
        expect(Math.abs(2 * U.cdf(next) - 1 - next)).toBeLessThanOrEqual(1e-15)
      },
    ))
  })
  it('through the gradient interpreter with the recipe’s uniform(1) weights: 0.8 − 0.1·0.3, and a step past 1 is clipped', () => {
    expect(Math.abs(recipeStep(get('bnn'), 0.8, 0.1, 4) - 0.77)).toBeLessThanOrEqual(1e-15)
    expect(recipeStep(get('bnn'), 0.99, -1, 5)).toBe(1)
  })
})

describe('T8: latent weight decay is an entropy regulariser', () => {
  it('d/dθ N(θ) = logit(θ) = η (central differences)', () => {
    // h = 1e−4·min(θ, 1 − θ): truncation h²|N‴|/6 ≤ 1e−8/3 (|N‴| ≤ 2/min(θ,1−θ)²); rounding ≤ 1e−16/h ≤ 2e−10 for |η| ≤ 8
    fc.assert(fc.property(fc.double({ min: -8, max: 8, noNaN: true }), (eta) => {
      const theta = sigmoid(eta)
      const h = 1e-4 * Math.min(theta, 1 - theta)
      const fd = (negEntropy(theta + h) - negEntropy(theta - h)) / (2 * h)
      expect(Math.abs(fd - eta)).toBeLessThanOrEqual(1e-7)
    }))
  })
  it('law: the decay step η − ε(ĝ + λη) is the md step on L + 2λ·ΣN, its gradient in μ taken numerically', () => {
    fc.assert(fc.property(
      fc.double({ min: -6, max: 6, noNaN: true }), fc.double({ min: -1, max: 1, noNaN: true }), fc.double({ min: 1e-3, max: 1, noNaN: true }),
      (eta, g, lambda) => {
        const mu = 2 * sigmoid(eta) - 1
        const reg = (m: number): number => 2 * lambda * negEntropy((1 + m) / 2)
        const h = 1e-4 * (1 - Math.abs(mu)) // stays inside (−1, 1); same error budget as above, times λ ≤ 1
        const dRdMu = (reg(mu + h) - reg(mu - h)) / (2 * h)
        expect(Math.abs(dRdMu - lambda * eta)).toBeLessThanOrEqual(1e-7)
        const decay = step1(get('decay', { decay: lambda }).optimizer, eta, g, 0.1)
        expect(Math.abs(decay - step1(get('md').optimizer, eta, g + dRdMu, 0.1))).toBeLessThanOrEqual(1e-8)
        expect(Math.abs(decay - (eta - 0.1 * (g + lambda * eta)))).toBeLessThanOrEqual(1e-15 * (1 + Math.abs(eta)))
      },
    ))
  })
  it('decay pulls θ toward ½: with ĝ = 0, |η| shrinks geometrically by (1 − ελ)', () => {
    const opt = get('decay', { decay: 0.5 }).optimizer
    expect(step1(opt, 4, 0, 0.1)).toBeCloseTo(4 * (1 - 0.05), 15)
    expect(step1(opt, -4, 0, 0.1)).toBeCloseTo(-4 * (1 - 0.05), 15)
  })
})

describe('T8: Bop with τ = 0 is mirror descent with weight decay, rounded', () => {
  it('law: with γ = ελ, Bop’s average is m_t = −λη_t of the decay run and its weights are sign(η_t), step by step', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 5 }).chain((n) => fc.record({
        w0: fc.array(fc.constantFrom(-1, 1), { minLength: n, maxLength: n }),
        grads: fc.array(fc.array(fc.integer({ min: -100, max: 100 }).map((k) => k / 100), { minLength: n, maxLength: n }), { minLength: 1, maxLength: 30 }),
        lambda: fc.constantFrom(0.1, 0.5, 1, 2),
        eps: fc.constantFrom(0.01, 0.1, 0.5),
      })),
      ({ w0, grads, lambda, eps }) => {
        const gamma = eps * lambda
        const md = get('decay', { decay: lambda }).optimizer
        const bop = get('bop', { bopGamma: gamma, bopThreshold: 0 }).optimizer
        // m_0 = 0 ⇔ η_0 = 0; Bop's initial weights are arbitrary (they change only when m ≠ 0)
        let eta: Tensors = { w: new Float64Array(w0.length) }
        let w: Tensors = { w: Float64Array.from(w0) }
        let sMd = md.init(eta)
        let sBop = bop.init(w)
        for (const g of grads) {
          const prev = w['w']!
          ;({ params: eta, state: sMd } = md.step(eta, { w: Float64Array.from(g) }, sMd, eps))
          ;({ params: w, state: sBop } = bop.step(w, { w: Float64Array.from(g) }, sBop, eps))
          const m = sBop.slots['w']![0]!
          for (let i = 0; i < g.length; i++) {
            const e = eta['w']![i]!
            // both recurrences are linear in the same gradients: they differ by rounding only (≤ 30 steps of ~1e−16 relative)
            expect(Math.abs(m[i]! + lambda * e)).toBeLessThanOrEqual(1e-13 * gamma)
            if (Math.abs(m[i]!) > 1e-9 * gamma) expect(w['w']![i]).toBe(e >= 0 ? 1 : -1)
            else if (m[i] === 0) expect(w['w']![i]).toBe(prev[i])
          }
        }
      },
    ), { numRuns: 200 })
  })
  it('Bop trains the mode network: weights w = sign(η), no weight noise, η stored as ±1', () => {
    const r = get('bop')
    expect([r.weightSampling, r.weightNoise, r.latent]).toEqual(['mode', { family: 'none' }, 'mirror'])
    // through the gradient interpreter: ĝ = 0.3 builds m = γ·0.3 > τ against w = +1, so w flips
    expect(recipeStep(get('bop', { bopGamma: 0.1, bopThreshold: 0.01 }), 0.8, 0.1, 6)).toBe(-1)
    expect(recipeStep(get('bop', { bopGamma: 0.1, bopThreshold: 0.05 }), 0.8, 0.1, 6)).toBe(1)
  })
})
