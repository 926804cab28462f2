/**
 * The laws T1–T6 of MATH.md §6 with their golden values. Expectations of ST are computed by
 * enumerating its randomness exactly: a `source` forces every joint state of the stochastic
 * units, and each state's gradient is weighted by its probability. T7 is in `matched.test.ts`;
 * T8 belongs to the optimizers.
 */
import { describe, expect, it } from 'vitest'
import type { Checked, Network } from '../../src/dsl/node.js'
import { logistic } from '../../src/dsl/noise.js'
import { key } from '../../src/dsl/random.js'
import { gradient } from '../../src/estimators/gradient.js'
import { exact } from '../../src/interpreters/exact/index.js'
import type { Feed } from '../../src/interpreters/ndarray.js'
import { noiseFns } from '../../src/dsl/distributions.js'
import { goldenLayer } from '../interpreters/fixtures.js'
import type { Grads } from './fixtures.js'
import { addScaled, expectGradsClose, forceStates, maxDiff, oneUnit, signVectors, statesProb, unwrap, zerosLike } from './fixtures.js'

const L1 = logistic(1)
const { cdf: F, pdf: p } = noiseFns(L1)

const oneUnitL1 = (a: number, v: number, c: number, y: number) => oneUnit(L1, a, v, c, y)

/** ST's gradient when the site `site` is forced to `states`. */
const stAt = (net: Checked<Network>, feed: Feed, site: string, states: readonly number[], output?: string): Grads =>
  unwrap(gradient(net, feed, { key: key(0), source: forceStates({ [site]: states }), ...(output === undefined ? {} : { output }) })).grad

/** E[ĝ] and E[ĝ²] (entrywise) of ST over every joint state of the site's units, with their probabilities. */
const stMoments = (net: Checked<Network>, feed: Feed, site: string, a: readonly number[], output?: string): { mean: Grads; square: Grads } => {
  const mean = zerosLike(net.params)
  const square = zerosLike(net.params)
  for (const s of signVectors(a.length)) {
    const g = stAt(net, feed, site, s, output)
    const w = statesProb(L1, s, a)
    addScaled(mean, g, w)
    addScaled(square, Object.fromEntries(Object.entries(g).map(([k, v]) => [k, v.map((x) => x * x)])), w)
  }
  return { mean, square }
}

const golden = (values: readonly number[]): Grads => ({ 'layer1.b': Float64Array.from(values) })
const A = [1.1, -0.85, -0.7] // MATH.md §6 pre-activations of the golden layer

describe('MATH.md §6 goldens', () => {
  it('T1: f linear ⇒ every ST sample equals the exact derivative 1.410022273209567 (60 keys and both forced states)', () => {
    const { net, feed } = oneUnitL1(0.5, 3, 1, 0)
    const want = 1.410022273209567
    // Exact: d/da E[f] = p(a)·(f(+1) − f(−1)) = 6 p(0.5).
    expect(Math.abs(p(0.5) * 6 - want)).toBeLessThanOrEqual(1e-15)
    for (let k = 0; k < 60; k++) {
      const g = unwrap(gradient(net, feed, { key: key(k), output: 'output' })).grad
      expect(Math.abs(g['unit.b']![0]! - want)).toBeLessThanOrEqual(1e-12)
      expect(Math.abs(g['unit.W']![0]! - want)).toBeLessThanOrEqual(1e-12) // x = 1
    }
    for (const s of [1, -1]) expect(Math.abs(stAt(net, feed, 'unit.act', [s], 'output')['unit.b']![0]! - want)).toBeLessThanOrEqual(1e-12)
  })

  it('T2: f multilinear (the linear head η = v·x + c) ⇒ E[ST] over the 8 states = exact dE/da = (0.26231783, −0.46150021, 0.17737030)', () => {
    const { net, feed } = goldenLayer('logistic')
    const want = golden([0.26231783, -0.46150021, 0.17737030])
    // Exact, by the single-unit identity d/da_j E[η] = p(a_j)·(f(+1) − f(−1)) = 2 v_j p(a_j).
    const v = [0.7, -1.1, 0.4]
    expectGradsClose(golden(A.map((a, j) => 2 * v[j]! * p(a))), want, 5e-9)
    const { mean, square } = stMoments(net, feed, 'layer1.act', A, 'output')
    expectGradsClose(mean, want, 5e-9, ['layer1.b']) // golden printed to 8 decimals
    // A linear head even makes every sample exact: E[ĝ²] = E[ĝ]².
    expectGradsClose({ b: square['layer1.b']! }, { b: mean['layer1.b']!.map((m) => m * m) }, 1e-12)
  })

  it('T3: f nonlinear ⇒ E[ST] ≠ exact; logistic NLL and squared loss, both golden', () => {
    const cases = [
      ['logistic', [-0.10314194, 0.18997333, -0.05524827], [-0.08795465, 0.15474011, -0.05947191]],
      ['squared', [-0.25880409, 0.53920398, -0.00297561], [-0.07499056, 0.13193216, -0.05070604]],
    ] as const
    for (const [head, exactWant, stWant] of cases) {
      const { net, feed } = goldenLayer(head)
      const ex = unwrap(exact(net, feed, { grad: true })).grad!
      expectGradsClose(ex, golden(exactWant), 5e-9, ['layer1.b'])
      expectGradsClose(stMoments(net, feed, 'layer1.act', A).mean, golden(stWant), 5e-9, ['layer1.b'])
    }
  })

  it('T4: f = (x − 0.2)², a = 0.5: exact = −0.188002969761276, E[ST] = 0.042224209648007, Var[ST] = 0.830623361837723, E[ST] − exact = 4c₂·p(a)·(2F(a) − 1)', () => {
    const { net, feed } = oneUnitL1(0.5, 1, 0, 0.2)
    const ex = unwrap(exact(net, feed, { grad: true })).grad!['unit.b']![0]!
    const { mean, square } = stMoments(net, feed, 'unit.act', [0.5])
    const m = mean['unit.b']![0]!
    expect(Math.abs(ex - -0.188002969761276)).toBeLessThanOrEqual(1e-12)
    expect(Math.abs(m - 0.042224209648007)).toBeLessThanOrEqual(1e-12)
    expect(Math.abs(square['unit.b']![0]! - m * m - 0.830623361837723)).toBeLessThanOrEqual(1e-12)
    expect(Math.abs(m - ex - 4 * 1 * p(0.5) * (2 * F(0.5) - 1))).toBeLessThanOrEqual(1e-12)
  })

  it('T5: the head gets an unbiased ST gradient, the hidden layer does not (golden layer, both losses)', () => {
    for (const head of ['logistic', 'squared'] as const) {
      const { net, feed } = goldenLayer(head)
      const ex = unwrap(exact(net, feed, { grad: true })).grad!
      const { mean } = stMoments(net, feed, 'layer1.act', A)
      expectGradsClose(mean, ex, 1e-12, ['head.W', 'head.b'])
      // The T3 goldens differ by ≥ 0.015 in the first unit: far beyond rounding.
      expect(maxDiff(mean, ex, ['layer1.W', 'layer1.b'])).toBeGreaterThan(0.015)
    }
  })
})
