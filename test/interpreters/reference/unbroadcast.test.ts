/**
 * Laws of `unbroadcast`: the gradient of a broadcast operand is the sum of g over the cells its
 * values were copied to, each in g's flat order, bit for bit (the oracle below is that loop),
 * on fast-check shapes: conv and dense biases with channel counts that are not multiples of 4,
 * runs shorter and longer than the interleaved loop's threshold, and other broadcast patterns.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { broadcastIndex } from '../../../src/interpreters/reference/ops.js'
import { unbroadcast } from '../../../src/interpreters/reference/unbroadcast.js'

const dim = (max: number) => fc.integer({ min: 1, max })
const arrayOf = (n: number) => fc.array(fc.oneof({ weight: 9, arbitrary: fc.double({ min: -8, max: 8, noNaN: true }) }, { weight: 1, arbitrary: fc.constantFrom(0, -0, 1e300, -1e300) }),
  { minLength: n, maxLength: n }).map((xs) => Float64Array.from(xs))

/** g's shape and the operand's: [n, c, h, w] against [c, 1, 1] (a conv bias), [n, c] against [c], or [n, c, h, w] against [1, h, w]. */
const arbCase = fc.record({ n: dim(4), c: dim(11), h: dim(5), w: dim(6), kind: fc.constantFrom('conv', 'dense', 'spatial') }).chain((p) => {
  const g = p.kind === 'dense' ? [p.n, p.c] : [p.n, p.c, p.h, p.w]
  const s = p.kind === 'conv' ? [p.c, 1, 1] : p.kind === 'dense' ? [p.c] : [1, p.h, p.w]
  return arrayOf(g.reduce((a, b) => a * b, 1)).map((data) => ({ g: { shape: g, data }, s }))
})

/** out[index of i] += g[i] for every i in flat order (g itself when nothing was broadcast). */
const oracle = (g: Float64Array, gShape: readonly number[], s: readonly number[]): Float64Array => {
  if (s.reduce((a, b) => a * b, 1) === g.length) return g
  const idx = broadcastIndex(s, gShape)
  const out = new Float64Array(s.reduce((a, b) => a * b, 1))
  for (let i = 0; i < idx.length; i++) out[idx[i]!]! += g[i]!
  return out
}

const bits = (a: Float64Array): string[] => Array.from(a, (v) => (Object.is(v, -0) ? '-0' : String(v)))

describe('unbroadcast', () => {
  it('unbroadcast ≡ the flat-order sum onto the operand, bit for bit (conv and dense biases, other patterns)', () => {
    fc.assert(fc.property(arbCase, ({ g, s }) => {
      expect(bits(unbroadcast(g, s).data)).toEqual(bits(oracle(g.data, g.shape, s)))
    }), { seed: 1010, numRuns: 300 })
  })
})
