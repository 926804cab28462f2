/**
 * The real head over binary activations (`BinaryHead`, kernels-wasm/head.ts): tiles of two rows,
 * inputs read word by word, units in chunks of 10 (two rows) or 16 (one row), an odd unit in a
 * scalar lane. Each output is a float64 sum in k order, so the law is bit-exact against the
 * reference, on generated sizes across every edge: k below, at and past 64-bit words and the
 * 8-input unrolling, odd and even unit counts across the chunks, odd batches, and weights of
 * mixed magnitudes (so a changed order of the additions would change the bits).
 */
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { input, matmul, param } from '../../../src/dsl/primitives.js'
import { forward } from '../../../src/interpreters/montecarlo/index.js'
import { compile, drawCompileError } from '../../../src/interpreters/compiled/index.js'
import type { Feed } from '../../../src/interpreters/ndarray.js'
import { checked, uniforms } from './nets.js'

const headNet = (k: number, n: number, seed: number) => {
  const rnd = uniforms(seed)
  // Magnitudes from 2^-30 to 2^20: float64 sums of these depend on their order.
  const W = Float64Array.from({ length: k * n }, () => (rnd() * 2 - 1) * 2 ** Math.floor(rnd() * 50 - 30))
  const output = matmul(input('x', ['batch', k], 'binary'), param('W', [k, n]))
  return checked({ outputs: { output }, params: { W } })
}

const feedOf = (batch: number, k: number, seed: number): Feed => {
  const rnd = uniforms(seed ^ 0x5bd1e995)
  return { x: { shape: [batch, k], data: Float64Array.from({ length: batch * k }, () => (rnd() < 0.5 ? -1 : 1)) } }
}

const sizes = fc.record({
  k: fc.oneof(fc.integer({ min: 1, max: 200 }), fc.constantFrom(7, 8, 9, 63, 64, 65, 127, 128, 129, 4096)),
  n: fc.oneof(fc.integer({ min: 1, max: 25 }), fc.constantFrom(9, 10, 11, 16, 17, 20, 21)),
  batch: fc.integer({ min: 1, max: 7 }),
  seed: fc.integer({ min: 1, max: 2 ** 30 }),
})

describe('BinaryHead (binary activations × a real head)', () => {
  it('law: the WebAssembly head ≡ the reference bit for bit (row pairs, word-wise bits, every chunk and tail)', () => {
    fc.assert(
      fc.property(sizes, ({ k, n, batch, seed }) => {
        const net = headNet(k, n, seed)
        const feed = feedOf(batch, k, seed)
        const want = forward(net, feed, { mode: 'mode' })
        if (E.isLeft(want)) throw new Error('reference failed')
        const c = compile(net, { backend: 'wasm', mode: 'mode' })
        if (E.isLeft(c)) throw new Error(drawCompileError(c.left))
        expect(c.right.describe().some((d) => d.includes('BinaryHead')), c.right.describe().join('\n')).toBe(true)
        const got = c.right.run(feed)
        if (E.isLeft(got)) throw new Error('run failed')
        const w = want.right.values.get(net.outputs['output']!)!.data
        const g = got.right['output']!.data
        expect(g.every((v, i) => Object.is(v, w[i])), `k ${k} n ${n} batch ${batch}`).toBe(true)
      }),
      { numRuns: 80, seed: 1311 },
    )
  })
})
