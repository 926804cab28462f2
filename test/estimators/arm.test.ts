/**
 * ARM is unbiased: on random tiny networks with one stochastic layer (logistic units) and a
 * deterministic head, its expectation over its own uniforms u, computed exactly, equals the exact
 * interpreter's gradient to 1e-9.
 *
 * Why summing over cells is exact. For unit i (one unit of one example) ARM draws u_i and uses
 * b1_i = [u_i > F(−a_i)] and b2_i = [u_i < F(a_i)]; both change value only at the breakpoints
 * {F(−a_i), F(a_i) = 1 − F(−a_i)}. Cut [0,1] at them in every coordinate: on each cell (a box)
 * b1 and b2 are constant, so are the forward states, f1, f2 and the head's gradient, and the
 * estimator (f1 − f2)·(u − ½) plus the pathwise terms is affine in u. The mean of an affine
 * function over a box is its value at the box's centre, so E[ĝ] = Σ_cells volume · ĝ(centre).
 * The centre is fed through `source` as bits = floor(u·2³²), which the estimator reads back as
 * u' = (bits + ½)/2³², within 2⁻³³ of the centre (an error ≤ 2⁻³³·|f1 − f2|/s per cell). The grid
 * parameters keep every non-empty cell wider than 10⁻⁵, so u' stays inside its cell.
 *
 * With Bernoulli weights upstream and REINFORCE chosen for them (a per-site choice), the weight
 * states are enumerated outside with their probabilities and the cells inside, given the weights.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { key } from '../../src/dsl/random.js'
import type { Estimator, LatentRule } from '../../src/estimators/estimator.js'
import { arm, disarm, exactGradient, reinforce } from '../../src/estimators/estimator.js'
import { gradient } from '../../src/estimators/gradient.js'
import type { BitSource } from '../../src/estimators/sites.js'
import { drawRunError } from '../../src/interpreters/runErrors.js'
import { exact } from '../../src/interpreters/exact/index.js'
import { noiseFns } from '../../src/dsl/distributions.js'
import type { SbnCase } from '../laws/sbn.js'
import type { Grads } from './fixtures.js'
import { addScaled, affineRow, bitsFor, expectGradsClose, jointStates, signVectors, statesProb, unwrap, zerosLike } from './fixtures.js'
import { arbTiny, netOf, sitesOf } from './tiny.js'

const TWO32 = 2 ** 32
// Σ ≤ 3⁶ cells of size ≤ ~50, plus the 2⁻³³ placement error per cell (≤ 2⁻³³·25 ≈ 3·10⁻⁹ in the
// worst case, ~10⁻¹¹ in practice since its signs vary): 1e-9 holds with a wide margin here.
const TOL = 1e-9

/** The cells of one coordinate: [0, lo], [lo, hi], [hi, 1] with lo, hi = F(∓|a|), empty ones dropped. */
const intervals = (F: (a: number) => number, a: number): Array<readonly [number, number]> => {
  const lo = Math.min(F(a), F(-a))
  const hi = Math.max(F(a), F(-a))
  return ([[0, lo], [lo, hi], [hi, 1]] as const).filter(([l, r]) => r > l)
}

/** Every box of the product of the coordinates' intervals, as (volume, centres). */
const boxes = (per: ReadonlyArray<ReadonlyArray<readonly [number, number]>>): Array<{ volume: number; centre: number[] }> =>
  per.reduce<Array<{ volume: number; centre: number[] }>>(
    (acc, ivs) => acc.flatMap((b) => ivs.map(([l, r]) => ({ volume: b.volume * (r - l), centre: [...b.centre, (l + r) / 2] }))),
    [{ volume: 1, centre: [] }],
  )

/**
 * E[ĝ] with ARM at the activation site `l1.act`: weight states (if any) enumerated with their
 * probabilities, ARM's uniforms integrated cell by cell given the weights.
 */
const armExpectation = (c: SbnCase, latent: LatentRule, est: Estimator = arm()): Grads => {
  const net = netOf(c)
  const { spec, params, feed } = c
  const batch = feed['x']!.shape[0]!
  const width = spec.widths[0]!
  const F = noiseFns(spec.noise).cdf
  const mean = zerosLike(net.params)
  const weightSites = sitesOf(spec, batch).filter(([name]) => name.endsWith('.W'))
  let mass = 0
  for (const w of jointStates(weightSites)) {
    const W = spec.binaryWeights[0] === true ? w['l1.W']! : params['l1.W']!
    const pw = spec.binaryWeights[0] === true ? statesProb(spec.weightNoise, w['l1.W']!, [...params['l1.W']!]) : 1
    const a = Array.from({ length: batch }, (_, n) => affineRow(feed['x']!.data, n, spec.inputs, W, params['l1.b']!, width)).flat()
    for (const { volume, centre } of boxes(a.map((v) => intervals(F, v)))) {
      const bits = Uint32Array.from(centre, (u) => Math.floor(u * TWO32))
      const source: BitSource = (_pass, site) => (site === 'l1.act' ? bits : Uint32Array.from(w[site]!, bitsFor))
      const opts = { key: key(0), estimator: est, weights: reinforce(), latent, source }
      addScaled(mean, unwrap(gradient(net, feed, opts)).grad, pw * volume)
      mass += pw * volume
    }
  }
  expect(Math.abs(mass - 1)).toBeLessThanOrEqual(1e-12) // the cells partition the cube
  return mean
}

/**
 * Two stochastic layers, one example, real weights. Besides the base pass (u₁ at l1.act, u₂ at
 * l2.act), ARM at l1.act runs two fresh passes of the network below it, continuing from b1 and
 * from b2; there l2.act is drawn by ARM's forward rule, a Bernoulli(F(a₂)) state, enumerated with
 * its probability (bits 0xffffffff read as u ≈ 1 > F(−a₂) give +1, bits 0 give −1). The fresh
 * passes are told apart by the order of their first draw (f1's pass runs before f2's). Given
 * both boxes and both fresh states, ĝ is a sum of terms affine in u₁ or in u₂, so the centre rule
 * stays exact.
 */
const armTwoLayers = (c: SbnCase, est: Estimator = arm()): Grads => {
  const net = netOf(c)
  const { spec, params, feed } = c
  const [m1, m2] = spec.widths as [number, number]
  const F = noiseFns(spec.noise).cdf
  const a1 = affineRow(feed['x']!.data, 0, spec.inputs, params['l1.W']!, params['l1.b']!, m1)
  const a2Of = (x1: readonly number[]): number[] => affineRow(x1, 0, m1, params['l2.W']!, params['l2.b']!, m2)
  const base = key(0).join(',')
  const mean = zerosLike(net.params)
  for (const box1 of boxes(a1.map((v) => intervals(F, v)))) {
    const b1 = box1.centre.map((u, i) => (u > F(-a1[i]!) ? 1 : -1))
    const b2 = box1.centre.map((u, i) => (u < F(a1[i]!) ? 1 : -1))
    const bits1 = Uint32Array.from(box1.centre, (u) => Math.floor(u * TWO32))
    for (const box2 of boxes(a2Of(b1).map((v) => intervals(F, v)))) {
      const bits2 = Uint32Array.from(box2.centre, (u) => Math.floor(u * TWO32))
      for (const s0 of signVectors(m2)) {
        for (const s1 of signVectors(m2)) {
          const prob = box1.volume * box2.volume * statesProb(spec.noise, s0, a2Of(b1)) * statesProb(spec.noise, s1, a2Of(b2))
          if (prob === 0) continue
          const fresh: string[] = []
          const source: BitSource = (pass, site) => {
            const id = pass.join(',')
            if (id === base) return site === 'l1.act' ? bits1 : bits2
            if (!fresh.includes(id)) fresh.push(id)
            return Uint32Array.from(fresh.indexOf(id) === 0 ? s0 : s1, (x) => (x === 1 ? 0xffffffff : 0))
          }
          addScaled(mean, unwrap(gradient(net, feed, { key: key(0), estimator: est, source })).grad, prob)
        }
      }
    }
  }
  return mean
}

const exactIn = (c: SbnCase, latent: LatentRule): Grads =>
  latent === 'st-gd'
    ? unwrap(exact(netOf(c), c.feed, { grad: true })).grad!
    : unwrap(gradient(netOf(c), c.feed, { key: key(0), estimator: exactGradient(), latent })).grad

describe('ARM: E[ĝ] by exact integration of its uniforms = exact gradient (1e-9)', () => {
  it('law: one stochastic layer of 1–3 logistic units (any scale), 1–3 examples, real weights', () => {
    // units × examples ≤ 6 keeps the product of cells at ≤ 3⁶ = 729 gradient calls per case.
    const arb = arbTiny({ maxLayers: 1 }).filter((c) => c.spec.widths[0]! * c.feed['x']!.shape[0]! <= 6)
    fc.assert(fc.property(arb, (c) => expectGradsClose(armExpectation(c, 'st-gd'), exactIn(c, 'st-gd'), TOL)), { seed: 4201, numRuns: 30 })
  })

  it('law: per-site choice — REINFORCE at 1–4 Bernoulli weights, ARM at the activations — is unbiased in both latent conventions', () => {
    const arb = arbTiny({ maxLayers: 1, binaryWeights: true, maxBatch: 2, maxWidth: 2 })
      .filter((c) => c.spec.binaryWeights[0] === true && c.spec.widths[0]! * c.feed['x']!.shape[0]! <= 4)
    fc.assert(fc.property(arb, (c) => {
      for (const latent of ['st-gd', 'mirror'] as const) expectGradsClose(armExpectation(c, latent), exactIn(c, latent), TOL)
    }), { seed: 4202, numRuns: 15 })
  })

  it('law: two stochastic layers (fresh downstream passes per layer), one example', () => {
    const arb = arbTiny({ maxLayers: 2, maxBatch: 1 }).filter((c) => c.spec.widths.length === 2)
    fc.assert(fc.property(arb, (c) => expectGradsClose(armTwoLayers(c), exactIn(c, 'st-gd'), TOL)), { seed: 4203, numRuns: 12 })
  })

  it('ARM at a non-logistic site is a clear error', () => {
    const c = fc.sample(arbTiny({ families: ['normal'] }), { seed: 1, numRuns: 1 })[0]!
    const r = gradient(netOf(c), c.feed, { key: key(0), estimator: arm() })
    if (r._tag === 'Right') throw new Error('ARM accepted a normal-noise site')
    expect(drawRunError(r.left)).toBe('arm: site l1.act with normal noise is not supported; ARM needs logistic noise; use reinforce or st there')
  })
})

/**
 * DisARM reads the same uniforms, pair and fresh passes as ARM; its estimate depends on u only
 * through the pair (b1, b2), so it is constant on every cell and the same integration is exact.
 */
describe('DisARM: E[ĝ] by exact integration of its uniforms = exact gradient (1e-9)', () => {
  it('law: one stochastic layer of 1–3 logistic units (any scale), 1–3 examples, real weights', () => {
    const arb = arbTiny({ maxLayers: 1 }).filter((c) => c.spec.widths[0]! * c.feed['x']!.shape[0]! <= 6)
    fc.assert(fc.property(arb, (c) => expectGradsClose(armExpectation(c, 'st-gd', disarm()), exactIn(c, 'st-gd'), TOL)), { seed: 4211, numRuns: 30 })
  })

  it('law: REINFORCE at Bernoulli weights, DisARM at the activations, both latent conventions', () => {
    const arb = arbTiny({ maxLayers: 1, binaryWeights: true, maxBatch: 2, maxWidth: 2 })
      .filter((c) => c.spec.binaryWeights[0] === true && c.spec.widths[0]! * c.feed['x']!.shape[0]! <= 4)
    fc.assert(fc.property(arb, (c) => {
      for (const latent of ['st-gd', 'mirror'] as const) expectGradsClose(armExpectation(c, latent, disarm()), exactIn(c, latent), TOL)
    }), { seed: 4212, numRuns: 10 })
  })

  it('law: two stochastic layers (fresh downstream passes per layer), one example', () => {
    const arb = arbTiny({ maxLayers: 2, maxBatch: 1 }).filter((c) => c.spec.widths.length === 2)
    fc.assert(fc.property(arb, (c) => expectGradsClose(armTwoLayers(c, disarm()), exactIn(c, 'st-gd'), TOL)), { seed: 4213, numRuns: 12 })
  })

  it('DisARM at a non-logistic site is a clear error', () => {
    const c = fc.sample(arbTiny({ families: ['normal'] }), { seed: 1, numRuns: 1 })[0]!
    const r = gradient(netOf(c), c.feed, { key: key(0), estimator: disarm() })
    if (r._tag === 'Right') throw new Error('DisARM accepted a normal-noise site')
    expect(drawRunError(r.left)).toBe('disarm: site l1.act with normal noise is not supported; DisARM needs logistic noise; use reinforce or st there')
  })
})
