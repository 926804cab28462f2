/**
 * The ST laws of MATH.md §6 on generated networks. One binarize site of 1–3 units (any noise
 * family and scale, random pre-activation parameters, 1–2 examples) feeds a head f:
 *   - T1: f linear in the states ⇒ every ST sample equals the exact gradient;
 *   - T2: f multilinear (a linear part plus a product of affine forms of disjoint groups of
 *     units) ⇒ E[ST] equals the exact gradient;
 *   - T4: f = (v·x + c − y)² on one unit ⇒ E[ST] − exact = 4v²·p(a)·(2F(a) − 1);
 *   - T5: on random tiny SBNs the head's parameters get an unbiased ST gradient.
 * The exact gradient of T1/T2 is computed here with no interpreter code: for example n and unit j,
 * d/da_nj E[f] = Σ_x x_j·p(a_nj)·Π_{k≠j} P(x_k | a_nk)·f(x), with f evaluated by hand.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { dense, sbinary, squaredError } from '../../src/dsl/composites.js'
import type { Checked, Network, Node } from '../../src/dsl/node.js'
import type { Noise } from '../../src/dsl/noise.js'
import { add, input, matmul, mul, param } from '../../src/dsl/primitives.js'
import { key } from '../../src/dsl/random.js'
import { st } from '../../src/estimators/estimator.js'
import { gradient } from '../../src/estimators/gradient.js'
import { exact } from '../../src/interpreters/exact/index.js'
import { noiseFns } from '../../src/dsl/distributions.js'
import { checked } from '../interpreters/fixtures.js'
import type { Grads } from './fixtures.js'
import {
  addScaled, affineRow, expectGradsClose, forceStates, gridArray, gridValue, oneUnit, signVectors, stateProb, statesProb, unwrap,
  zerosLike,
} from './fixtures.js'
import { arbTiny, expectation, netOf } from './tiny.js'

const families = ['logistic', 'normal', 'uniform', 'triangular'] as const
// Scales that keep every reachable state forceable for |a| ≤ 6 (see `tiny.ts`).
const arbNoise: fc.Arbitrary<Noise> = fc.constantFrom(...families).chain((family) =>
  fc.constantFrom(...(family === 'normal' ? [1.5, 2] : [0.5, 1, 2])).map((scale): Noise => ({ family, scale })))

interface SiteCase {
  readonly noise: Noise
  readonly inputs: number
  readonly units: number
  readonly x: number[]
  readonly W: number[]
  readonly b: number[]
  /** Linear part f = Σ_j v_j x_j + c. */
  readonly v: number[]
  readonly c: number
  /** Multilinear part Π_g (Σ_{j ∈ g} u_j x_j + d_g); empty for a linear head. */
  readonly group: number[]
  readonly u: number[]
  readonly d: number[]
}

const arbSite = (multilinear: boolean): fc.Arbitrary<SiteCase> =>
  fc.record({ inputs: fc.integer({ min: 1, max: 2 }), units: fc.integer({ min: 1, max: 3 }), batch: fc.integer({ min: 1, max: 2 }) })
    .chain(({ inputs, units, batch }) => fc.record({
      noise: arbNoise,
      inputs: fc.constant(inputs),
      units: fc.constant(units),
      x: gridArray(batch * inputs, -1, 1),
      W: gridArray(inputs * units, -2, 2),
      b: gridArray(units, -2, 2),
      v: gridArray(units, -2, 2),
      c: gridValue(-2, 2),
      group: multilinear ? fc.array(fc.integer({ min: 0, max: 2 }), { minLength: units, maxLength: units }) : fc.constant([]),
      u: gridArray(units, -2, 2),
      d: gridArray(3, -2, 2),
    }))

const groupsOf = (s: SiteCase): number[] => [...new Set(s.group)].sort()

/** f of one example's states, by hand. */
const fOf = (s: SiteCase, x: readonly number[]): number =>
  x.reduce((acc, xj, j) => acc + s.v[j]! * xj, s.c) +
  (s.group.length === 0 ? 0 : groupsOf(s).reduce((prod, g) => prod * x.reduce((acc, xj, j) => acc + (s.group[j] === g ? s.u[j]! * xj : 0), s.d[g]!), 1))

/** The network: input → dense `site` → binarize `site.act` → f (output `f`); the loss is unused. */
const netOfSite = (s: SiteCase): Checked<Network> => {
  const h = sbinary(s.noise, { site: 'site.act' })(dense(s.units, { name: 'site' })(input('x', ['batch', s.inputs])))
  let f: Node = dense(1, { name: 'lin' })(h)
  const params: Record<string, Float64Array> = {
    'site.W': Float64Array.from(s.W), 'site.b': Float64Array.from(s.b), 'lin.W': Float64Array.from(s.v), 'lin.b': Float64Array.of(s.c),
  }
  if (s.group.length > 0) {
    const factors = groupsOf(s).map((g) => {
      params[`g${g}.U`] = Float64Array.from(s.u, (uj, j) => (s.group[j] === g ? uj : 0))
      params[`g${g}.d`] = Float64Array.of(s.d[g]!)
      return add(matmul(h, param(`g${g}.U`, [s.units, 1])), param(`g${g}.d`, [1]))
    })
    f = add(f, factors.slice(1).reduce<Node>((p, q) => mul(p, q), factors[0]!))
  }
  return checked({ outputs: { f, loss: squaredError(input('y', ['batch', 1]))(f) }, params })
}

const feedOf = (s: SiteCase) => {
  const batch = s.x.length / s.inputs
  return { x: { shape: [batch, s.inputs], data: Float64Array.from(s.x) }, y: { shape: [batch, 1], data: new Float64Array(batch) } }
}

/** The exact gradient of the batch mean of f with respect to site.W and site.b, by hand. */
const exactSite = (s: SiteCase): Grads => {
  const { pdf } = noiseFns(s.noise)
  const batch = s.x.length / s.inputs
  const gW = new Float64Array(s.inputs * s.units)
  const gb = new Float64Array(s.units)
  for (let n = 0; n < batch; n++) {
    const a = affineRow(s.x, n, s.inputs, s.W, s.b, s.units)
    for (const x of signVectors(s.units)) {
      const fx = fOf(s, x)
      for (let j = 0; j < s.units; j++) {
        const others = a.reduce((p, aj, k) => (k === j ? p : p * stateProb(s.noise, x[k]!, aj)), 1)
        const d = (x[j]! * pdf(a[j]!) * others * fx) / batch
        gb[j]! += d
        for (let i = 0; i < s.inputs; i++) gW[i * s.units + j]! += s.x[n * s.inputs + i]! * d
      }
    }
  }
  return { 'site.W': gW, 'site.b': gb }
}

// Sums of ≤ 2⁶ terms of size ≤ ~100 in float64: rounding ≤ 1e-12; 1e-9 as MATH.md asks.
const TOL = 1e-9
const SITE = ['site.W', 'site.b']

describe('ST on one binarize site (generated: noise family and scale, pre-activations, head)', () => {
  it('law (T1): a linear f makes every ST sample exact', () => {
    fc.assert(fc.property(arbSite(false), (s) => {
      const net = netOfSite(s)
      const want = exactSite(s)
      for (let k = 0; k < 4; k++) expectGradsClose(unwrap(gradient(net, feedOf(s), { key: key(k), output: 'f' })).grad, want, TOL, SITE)
    }), { seed: 4301, numRuns: 60 })
  })

  it('law (T2): a multilinear f makes E[ST] exact (enumerating every joint state)', () => {
    fc.assert(fc.property(arbSite(true), (s) => {
      const net = netOfSite(s)
      const feed = feedOf(s)
      const batch = s.x.length / s.inputs
      const a = Array.from({ length: batch }, (_, n) => affineRow(s.x, n, s.inputs, s.W, s.b, s.units)).flat()
      const mean = zerosLike(net.params)
      for (const x of signVectors(a.length)) {
        const prob = statesProb(s.noise, x, a)
        if (prob > 0) addScaled(mean, unwrap(gradient(net, feed, { key: key(0), output: 'f', source: forceStates({ 'site.act': x }) })).grad, prob)
      }
      expectGradsClose(mean, exactSite(s), TOL, SITE)
    }), { seed: 4302, numRuns: 60 })
  })

  it('law (T4): for f = (v·x + c − y)², E[ST] − exact = 4v²·p(a)·(2F(a) − 1)', () => {
    const arb = fc.tuple(arbNoise, gridValue(-3, 3), gridValue(-2, 2), gridValue(-2, 2), gridValue(-2, 2))
    fc.assert(fc.property(arb, ([noise, a, v, c, y]) => {
      const { net, feed } = oneUnit(noise, a, v, c, y)
      const { cdf: F, pdf: p } = noiseFns(noise)
      const ex = unwrap(exact(net, feed, { grad: true })).grad!['unit.b']![0]!
      const mean = [1, -1].reduce((m, x) =>
        m + stateProb(noise, x, a) * unwrap(gradient(net, feed, { key: key(0), source: forceStates({ 'unit.act': [x] }) })).grad['unit.b']![0]!, 0)
      expect(Math.abs(mean - ex - 4 * v * v * p(a) * (2 * F(a) - 1))).toBeLessThanOrEqual(TOL)
    }), { seed: 4303, numRuns: 100 })
  })
})

describe('T5 on generated networks: the head gets an unbiased ST gradient', () => {
  it('law: E[ST] of head.W and head.b = exact (1–2 layers, any noise family, Bernoulli weights allowed)', () => {
    const arb = arbTiny({ maxLayers: 2, binaryWeights: true, families, maxBits: 9 })
    fc.assert(fc.property(arb, (c) => {
      const ex = unwrap(exact(netOf(c), c.feed, { grad: true })).grad!
      expectGradsClose(expectation(c, { key: key(0), estimator: st(), weights: st() }), ex, TOL, ['head.W', 'head.b'])
    }), { seed: 4304, numRuns: 40 })
  })
})
