/**
 * The weight recipes: what each one tells the gradient interpreter (latent convention, weight
 * sampling, weight noise), its optimizer's steps, and its errors. The identities that justify
 * them (MATH.md §4) are in t8.test.ts.
 */
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { showNoise } from '../../src/dsl/noise.js'
import type { Optimizer } from '../../src/train/optimizers.js'
import { adam } from '../../src/train/optimizers.js'
import type { BaseName, Recipe, RecipeName, RecipeOptions } from '../../src/train/recipes.js'
import { baseOptimizer, parseRecipeName, recipe, recipeNames } from '../../src/train/recipes.js'

const get = (name: RecipeName, base: BaseName, opts: RecipeOptions = {}): Recipe => {
  const r = recipe(name, base, opts)
  if (E.isLeft(r)) throw new Error(r.left)
  return r.right
}
const err = <A>(r: E.Either<string, A>): string => (E.isLeft(r) ? r.left : 'no error')
/** n steps on one scalar η with gradient gOf(η) at each step; returns the trace of η. */
const steps = (opt: Optimizer, eta: number, gOf: (eta: number) => number, n: number, lr: number): number[] => {
  let params: Readonly<Record<string, Float64Array>> = { eta: Float64Array.of(eta) }
  let state = opt.init(params)
  const trace: number[] = []
  for (let k = 0; k < n; k++) {
    ;({ params, state } = opt.step(params, { eta: Float64Array.of(gOf(params['eta']![0]!)) }, state, lr))
    trace.push(params['eta']![0]!)
  }
  return trace
}
const step1 = (opt: Optimizer, eta: number[], g: number[], lr: number): number[] => {
  const params = { eta: Float64Array.from(eta) }
  return [...opt.step(params, { eta: Float64Array.from(g) }, opt.init(params), lr).params['eta']!]
}

describe('recipe table', () => {
  it('each recipe names its latent convention, weight sampling, weight noise and optimizer', () => {
    const rows = recipeNames.flatMap((n) => (['sgd', 'adam'] as const).map((b) => {
      const r = recipe(n, b, { momentum: 0.9 })
      return E.isLeft(r)
        ? `${n} + ${b}: error`
        : `${n} + ${b}: latent ${r.right.latent}, weights ${r.right.weightSampling}, noise ${r.right.weightNoise === undefined ? 'model' : showNoise(r.right.weightNoise)}, ${r.right.optimizer.name}`
    }))
    expect(rows).toMatchInlineSnapshot(`
      [
        "md + sgd: latent mirror, weights per-pass, noise model, sgd(momentum=0.9)",
        "md + adam: latent mirror, weights per-pass, noise model, adam(0.9,0.999)",
        "st-gd + sgd: latent st-gd, weights per-pass, noise model, sgd(momentum=0.9)",
        "st-gd + adam: latent st-gd, weights per-pass, noise model, adam(0.9,0.999)",
        "bnn + sgd: latent mirror, weights per-pass, noise uniform(1), clip[-1,1](sgd(momentum=0.9))",
        "bnn + adam: latent mirror, weights per-pass, noise uniform(1), clip[-1,1](adam(0.9,0.999))",
        "decay + sgd: latent mirror, weights per-pass, noise model, sgd(momentum=0.9,wd=0.0001)",
        "decay + adam: latent mirror, weights per-pass, noise model, adam(0.9,0.999,wd=0.0001)",
        "bop + sgd: latent mirror, weights mode, noise none, bop(gamma=0.0001,threshold=1e-8)",
        "bop + adam: error",
      ]
    `)
  })
  it('weightSampling mode overrides the sampling (the deterministic BNN of Hubara et al.)', () => {
    expect(get('bnn', 'adam', { weightSampling: 'mode' }).weightSampling).toBe('mode')
  })
})

describe('errors', () => {
  it('bop has no Adam form; options out of range are named', () => {
    expect([
      err(recipe('bop', 'adam')),
      err(recipe('md', 'sgd', { momentum: 1 })),
      err(recipe('decay', 'sgd', { decay: -1 })),
      err(recipe('bop', 'sgd', { bopGamma: 0 })),
      err(recipe('bop', 'sgd', { bopThreshold: Number.NaN })),
      err(baseOptimizer('adam', { beta2: 1 })),
      err(baseOptimizer('sgd', { nesterov: true })),
      err(parseRecipeName('latent')),
    ]).toMatchInlineSnapshot(`
      [
        "recipe bop: Bop is its own optimizer (a thresholded gradient average with no learning rate) and has no Adam form; use --optimizer sgd with bop, or another recipe with adam",
        "recipe md: momentum must be in [0, 1), found 1",
        "recipe decay: decay must be ≥ 0, found -1",
        "recipe bop: bopGamma must be in (0, 1], found 0",
        "recipe bop: bopThreshold must be ≥ 0, found NaN",
        "beta2 must be in [0, 1), found 1",
        "sgd: nesterov needs a momentum > 0",
        "recipe: expected one of md, st-gd, bnn, decay, bop, found "latent"",
      ]
    `)
  })
  it('every recipe name parses to itself', () => {
    for (const n of recipeNames) expect(parseRecipeName(n)).toEqual(E.right(n))
  })
})

describe('steps', () => {
  it('md and st-gd step with the base optimizer on the gradient the interpreter reports', () => {
    expect(step1(get('md', 'sgd').optimizer, [0.8], [0.3], 0.1)[0]).toBeCloseTo(0.77, 15)
    expect(step1(get('st-gd', 'sgd').optimizer, [0.8], [0.3], 0.1)[0]).toBeCloseTo(0.77, 15)
    expect(step1(get('md', 'adam').optimizer, [0.8], [0.3], 0.1)).toEqual(step1(adam(), [0.8], [0.3], 0.1))
  })
  it('law: bnn keeps every latent weight in [−1, 1] (with SGD and with Adam)', () => {
    for (const base of ['sgd', 'adam'] as const) {
      const opt = get('bnn', base, { momentum: 0.5 }).optimizer
      fc.assert(fc.property(
        fc.array(fc.tuple(fc.double({ min: -3, max: 3, noNaN: true }), fc.double({ min: -50, max: 50, noNaN: true })), { minLength: 1, maxLength: 8 }),
        fc.double({ min: 0, max: 2, noNaN: true }),
        (pairs, lr) => {
          const next = step1(opt, pairs.map(([e]) => e), pairs.map(([, g]) => g), lr)
          for (const v of next) expect(Math.abs(v)).toBeLessThanOrEqual(1)
        },
      ), { numRuns: 50 })
    }
  })
  it('decay with SGD: η ← η − ε(ĝ + λη)', () => {
    expect(step1(get('decay', 'sgd', { decay: 0.5 }).optimizer, [0.8, -2], [0.3, 0.1], 0.1)).toEqual([0.8 - 0.1 * (0.3 + 0.4), -2 - 0.1 * (0.1 - 1)])
  })
  it('decay with Adam is coupled: Adam on ĝ + λη', () => {
    const coupled = step1(get('decay', 'adam', { decay: 0.5 }).optimizer, [0.8, -2], [0.3, 0.1], 0.01)
    expect(coupled).toEqual(step1(adam(), [0.8, -2], [0.3 + 0.4, 0.1 - 1], 0.01))
  })
  it('law: decay with Adam stays at a stationary point of the regularised objective (ĝ = −λη), which AdamW would leave', () => {
    fc.assert(fc.property(fc.double({ min: -4, max: 4, noNaN: true }), fc.double({ min: 1e-3, max: 1, noNaN: true }), (eta, lambda) => {
      const trace = steps(get('decay', 'adam', { decay: lambda }).optimizer, eta, (e) => -lambda * e, 5, 0.01)
      for (const e of trace) expect(e).toBe(eta)
    }))
    // AdamW moves by lr·(m̂/(√v̂+ε) + λη) ≈ 0.01·(−1 + 0.2) on its first step at η = 2, λ = 0.1.
    const w = steps(adam({ weightDecay: 0.1, decoupled: true }), 2, (e) => -0.1 * e, 1, 0.01)[0]!
    expect(w).toBeCloseTo(2 + 0.008, 8)
  })
})

describe('bop', () => {
  const opt = get('bop', 'sgd', { bopGamma: 0.5, bopThreshold: 0.1 }).optimizer
  it('flips a weight when |m| > τ and m has the sign of w, rounds η to ±1, and ignores lr', () => {
    // m = 0.5·g: (0.4, 0.4, −0.4, 0.1, 0) against w = (+, −, −, +, +)
    const eta = [0.3, -2, -0.7, 5, 0]
    const g = [0.8, 0.8, -0.8, 0.2, 0]
    expect(step1(opt, eta, g, 0.1)).toEqual([-1, -1, 1, 1, 1])
    expect(step1(opt, eta, g, 1000)).toEqual(step1(opt, eta, g, 0.1))
  })
  it('τ adds hysteresis: the average must build up past τ before a flip', () => {
    // m = 0.075 (≤ τ: keep), 0.1125 (> τ, same sign as w = +1: flip), then m > 0 against w = −1: keep
    expect(steps(opt, 1, () => 0.15, 4, 0)).toEqual([1, -1, -1, -1])
    // from w = −1 a positive average never flips; a negative one flips once it passes −τ
    expect(steps(opt, -1, () => 0.15, 3, 0)).toEqual([-1, -1, -1])
    expect(steps(opt, -1, () => -0.15, 3, 0)).toEqual([-1, 1, 1])
  })
})
