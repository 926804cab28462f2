/**
 * The law "optimised ≡ spec": the exact interpreter (weight states shared by the batch, layer
 * messages on chains, joint enumeration otherwise) computes what `exact/spec.ts` defines, the
 * expectation over every stochastic unit enumerated jointly, example by example: loss, per-example
 * loss, predictive distribution and gradient, on generated networks (chains, a skip connection,
 * Bernoulli weights, every noise family) and on a small binary convolution with a shared node.
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { conv, dense, flatten, sbinary, softmaxCrossEntropy } from '../../../src/dsl/composites.js'
import type { Checked, Network } from '../../../src/dsl/node.js'
import { logistic, normal, uniform } from '../../../src/dsl/noise.js'
import { add, input } from '../../../src/dsl/primitives.js'
import { drawRunError } from '../../../src/interpreters/runErrors.js'
import type { ExactOptions } from '../../../src/interpreters/exact/index.js'
import { exact } from '../../../src/interpreters/exact/index.js'
import { exactSpec } from '../../../src/interpreters/exact/spec.js'
import type { Feed } from '../../../src/interpreters/ndarray.js'
import { lossHead } from '../../../src/interpreters/outputs.js'
import { checked } from '../fixtures.js'
import { arbCase, buildSbn, showCase } from '../../laws/sbn.js'

// Both sides add at most 2^8 · 4 terms of size ≤ ~10 in float64, in different orders: their
// rounding differs by far less than 1e-11 (relative to 1 + |value| for gradients).
const TOL = 1e-11

const agree = (net: Checked<Network>, feed: Feed, opts: ExactOptions, why: string): void => {
  const r = exact(net, feed, { ...opts, grad: true })
  if (E.isLeft(r)) throw new Error(`${drawRunError(r.left)}\n${why}`)
  const batch = r.right.perExample.length
  const s = exactSpec(net, feed, batch, lossHead(net)!)
  const close = (a: number, b: number): void => expect(Math.abs(a - b), why).toBeLessThanOrEqual(TOL * (1 + Math.abs(b)))
  close(r.right.loss, s.loss)
  s.perExample.forEach((v, n) => close(r.right.perExample[n]!, v))
  s.predictive.forEach((v, i) => close(r.right.predictive.data[i]!, v))
  for (const [name, g] of Object.entries(s.grad)) g.forEach((v, i) => close(r.right.grad![name]![i]!, v))
}

describe('exact interpreter ≡ its specification (exact/spec.ts)', () => {
  it('law: optimised ≡ spec on random chains (layer messages and enumeration), loss, predictive and gradient', () => {
    fc.assert(fc.property(arbCase({ maxWeightBits: 3 }), fc.constantFrom('chain' as const, 'enumeration' as const), (c, method) => {
      agree(buildSbn(c.spec, c.params), c.feed, { method }, showCase(c))
    }), { seed: 20261206, numRuns: 40 })
  })

  it('law: optimised ≡ spec on a non-chain DAG (skip connection S₁ → head)', () => {
    fc.assert(fc.property(arbCase({ skip: true, maxWeightBits: 2 }), (c) => {
      agree(buildSbn(c.spec, c.params), c.feed, {}, showCase(c))
    }), { seed: 20261207, numRuns: 20 })
  })

  it('law: optimised ≡ spec on a binary convolution with Bernoulli kernels and a shared activation', () => {
    const x = input('image', ['batch', 1, 3, 3])
    const h = pipe(x, conv(1, 2, { name: 'c', weights: 'binary', noise: uniform(1.5) }), sbinary(normal(0.7), { site: 'c.act' }))
    const logits = pipe(add(h, h), flatten(), dense(2, { name: 'head' }))
    const outputs = { output: logits, loss: softmaxCrossEntropy(input('label', ['batch'], 'index'))(logits) }
    const value = fc.double({ min: -2, max: 2, noNaN: true })
    fc.assert(fc.property(fc.array(value, { minLength: 4 + 1 + 8 + 2, maxLength: 4 + 1 + 8 + 2 }), fc.array(value, { minLength: 18, maxLength: 18 }), (p, img) => {
      const net = checked({ outputs, params: { 'c.W': Float64Array.from(p.slice(0, 4)), 'c.b': Float64Array.from(p.slice(4, 5)), 'head.W': Float64Array.from(p.slice(5, 13)), 'head.b': Float64Array.from(p.slice(13)) } })
      const feed: Feed = { image: { shape: [2, 1, 3, 3], data: Float64Array.from(img) }, label: { shape: [2], data: Float64Array.of(0, 1) } }
      agree(net, feed, {}, JSON.stringify({ p, img }))
    }), { seed: 20261208, numRuns: 15 })
  })

  it('law: optimised ≡ spec with logistic activations of scale ½ (the tanh proxy)', () => {
    fc.assert(fc.property(arbCase({ families: ['logistic'], maxWeightBits: 0 }), (c) => {
      const net = buildSbn({ ...c.spec, noise: logistic(0.5) }, c.params)
      agree(net, c.feed, {}, showCase(c))
    }), { seed: 20261209, numRuns: 20 })
  })
})
