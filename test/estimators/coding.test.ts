/**
 * MATH.md §6 T6, coding equivalence: a network in ±1 coding with the ST factor 2p(a), and the
 * same network in {0,1} coding (s = (x + 1)/2) with the factor p(a), give the same gradients
 * once the parameters are mapped by the §1 re-parametrisation (a layer reading s with (W, b)
 * equals a layer reading x with (W/2, b + W·1/2)). The {0,1} gradient is written by hand here,
 * with no interpreter code; the ±1 one is the library's ST. The library's converter `toZeroOne`
 * must produce the same parameters as the hand re-parametrisation, and its network's ST gradient
 * (the factor 2p(a) at x times the ½ of s = (x + 1)/2) must be the hand {0,1} gradient.
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import { describe, it } from 'vitest'
import { dense, logisticNll, sbinary } from '../../src/dsl/composites.js'
import type { Node } from '../../src/dsl/node.js'
import { logistic } from '../../src/dsl/noise.js'
import { add, constant, input, mul } from '../../src/dsl/primitives.js'
import { key } from '../../src/dsl/random.js'
import { gradient } from '../../src/estimators/gradient.js'
import { drawCodingError, toZeroOne } from '../../src/dsl/codings.js'
import { noiseFns } from '../../src/dsl/distributions.js'
import { checked } from '../interpreters/fixtures.js'
import type { Grads } from './fixtures.js'
import { affineRow, expectGradsClose, forceStates, jointStates, unwrap } from './fixtures.js'

const L1 = logistic(1)
const p = noiseFns(L1).pdf

/** 2 inputs → 3 units (l1) → 2 units (l2) → head; `zeroOne` reads each layer's states as s = (x + 1)/2. */
const build = (zeroOne: boolean, params: Record<string, Float64Array>) => {
  const code = (x: Node): Node => (zeroOne ? mul(add(x, constant(1)), constant(0.5)) : x)
  const y = input('y', ['batch', 1], 'binary')
  const logits = pipe(
    input('x', ['batch', 2]), dense(3, { name: 'l1' }), sbinary(L1, { site: 'l1.act' }), code,
    dense(2, { name: 'l2' }), sbinary(L1, { site: 'l2.act' }), code, dense(1, { name: 'head' }),
  )
  return checked({ outputs: { output: logits, loss: logisticNll(y)(logits) }, params })
}

// ±1-coding parameters (W stored [in, out]) and the {0,1} ones: W_B = 2W, b_B = b − Σ_i W[i, :].
const pm: Record<string, Float64Array> = {
  'l1.W': Float64Array.of(0.9, -0.4, 0.3, -0.6, 0.8, 1.1),
  'l1.b': Float64Array.of(0.2, -0.1, 0.05),
  'l2.W': Float64Array.of(0.7, -1.2, 0.5, 0.3, -0.8, 0.6),
  'l2.b': Float64Array.of(0.1, -0.3),
  'head.W': Float64Array.of(1.3, -0.9),
  'head.b': Float64Array.of(0.15),
}
const reparametrise = (W: Float64Array, b: Float64Array, out: number): [Float64Array, Float64Array] => [
  W.map((w) => 2 * w),
  b.map((bj, j) => bj - W.filter((_, k) => k % out === j).reduce((s, w) => s + w, 0)),
]
const [l2W, l2b] = reparametrise(pm['l2.W']!, pm['l2.b']!, 2)
const [hW, hb] = reparametrise(pm['head.W']!, pm['head.b']!, 1)
const zo: Record<string, Float64Array> = { ...pm, 'l2.W': l2W, 'l2.b': l2b, 'head.W': hW, 'head.b': hb }

const feed = { x: { shape: [2, 2], data: Float64Array.of(0.5, -1, -0.3, 0.7) }, y: { shape: [2, 1], data: Float64Array.of(1, -1) } }
const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z))

/** The {0,1}-coding ST gradient, by hand: ∂L/∂a := p(a)·∂L/∂s at every layer, for given ±1 states. */
const zeroOneSt = (x1: readonly number[], x2: readonly number[]): Grads => {
  const g: Record<string, Float64Array> = Object.fromEntries(Object.entries(zo).map(([k, v]) => [k, new Float64Array(v.length)]))
  const x0 = feed.x.data
  for (let n = 0; n < 2; n++) {
    const s1 = x1.slice(3 * n, 3 * n + 3).map((x) => (x + 1) / 2)
    const s2 = x2.slice(2 * n, 2 * n + 2).map((x) => (x + 1) / 2)
    const a1 = affineRow(x0, n, 2, zo['l1.W']!, zo['l1.b']!, 3)
    const a2 = affineRow(s1, 0, 3, zo['l2.W']!, zo['l2.b']!, 2)
    const eta = affineRow(s2, 0, 2, zo['head.W']!, zo['head.b']!, 1)[0]!
    const y = feed.y.data[n]!
    const gEta = (-y * sigmoid(-y * eta)) / 2 // d/dη of the batch mean of log(1 + exp(−yη))
    const ga2 = a2.map((a, j) => p(a) * zo['head.W']![j]! * gEta)
    const ga1 = a1.map((a, i) => p(a) * ga2.reduce((s, gj, j) => s + zo['l2.W']![i * 2 + j]! * gj, 0))
    s2.forEach((s, j) => (g['head.W']![j]! += s * gEta))
    g['head.b']![0]! += gEta
    s1.forEach((s, i) => ga2.forEach((gj, j) => (g['l2.W']![i * 2 + j]! += s * gj)))
    ga2.forEach((gj, j) => (g['l2.b']![j]! += gj))
    for (let i = 0; i < 2; i++) ga1.forEach((gj, j) => (g['l1.W']![i * 3 + j]! += x0[n * 2 + i]! * gj))
    ga1.forEach((gj, j) => (g['l1.b']![j]! += gj))
  }
  return g
}

/** The chain rule through (W, b)_± = (W_B/2, b_B + Σ_i W_B[i, :]/2): the ±1 gradient seen from the {0,1} parameters. */
const pullBack = (g: Grads): Grads => {
  const layer = (W: Float64Array, b: Float64Array, out: number) => [W.map((w, k) => w / 2 + b[k % out]! / 2), b] as const
  const [l2W_, l2b_] = layer(g['l2.W']!, g['l2.b']!, 2)
  const [hW_, hb_] = layer(g['head.W']!, g['head.b']!, 1)
  return { ...g, 'l2.W': l2W_, 'l2.b': l2b_, 'head.W': hW_, 'head.b': hb_ }
}

describe('T6: ±1 coding with 2p(a) ≡ {0,1} coding with p(a) after the §1 re-parametrisation', () => {
  const plusMinus = build(false, pm)
  const zeroOne = build(true, zo)
  const states = jointStates([['l1.act', 6], ['l2.act', 4]])

  it('law: for every one of the 1024 joint states, hand {0,1} ST = pulled-back ±1 ST (to 1e-12)', () => {
    for (const s of states) {
      const g = unwrap(gradient(plusMinus, feed, { key: key(0), source: forceStates(s) })).grad
      expectGradsClose(pullBack(g), zeroOneSt(s['l1.act']!, s['l2.act']!), 1e-12)
    }
  })

  it('law: the {0,1} coding written in the DSL (s = 0.5·(x + 1)) back-propagates p(a), as by hand', () => {
    for (const s of states.filter((_, i) => i % 7 === 0)) {
      const g = unwrap(gradient(zeroOne, feed, { key: key(0), source: forceStates(s) })).grad
      expectGradsClose(g, zeroOneSt(s['l1.act']!, s['l2.act']!), 1e-12)
    }
  })

  it('law: toZeroOne re-parametrises as by hand, and its network back-propagates p(a) (every 7th state)', () => {
    const converted = toZeroOne(plusMinus)
    if (E.isLeft(converted)) throw new Error(drawCodingError(converted.left))
    expectGradsClose(converted.right.params, zo, 1e-15)
    for (const s of states.filter((_, i) => i % 7 === 3)) {
      const g = unwrap(gradient(converted.right, feed, { key: key(0), source: forceStates(s) })).grad
      expectGradsClose(g, zeroOneSt(s['l1.act']!, s['l2.act']!), 1e-12)
    }
  })
})
