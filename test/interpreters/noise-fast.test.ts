import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { logistic, normal, uniform } from '../../src/dsl/noise.js'
import { noiseFns } from '../../src/dsl/distributions.js'
import { signsFromBits, threshold } from '../../src/interpreters/reference/sampling.js'

// The reference rule, written directly from its definition.
const exactRule = (u: number, a: number, scale: number): number => (u < threshold(noiseFns(logistic(scale)).cdf(a)) ? 1 : -1)

describe('signsFromBits: the fast logistic path equals the exact rule bit for bit', () => {
  it('law: on random pre-activations and random draws', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.double({ min: -60, max: 60, noNaN: true }), fc.integer({ min: 0, max: 2 ** 32 - 1 })), { minLength: 1, maxLength: 64 }),
        fc.constantFrom(0.25, 0.5, 1, 3),
        (cases, scale) => {
          const pre = Float64Array.from(cases, ([a]) => a)
          const u = Uint32Array.from(cases, ([, b]) => b)
          const out = new Float64Array(pre.length)
          signsFromBits(u, pre, 0, logistic(scale), out, 0, pre.length)
          cases.forEach(([a, b], i) => expect(out[i]).toBe(exactRule(b, a, scale)))
        },
      ),
    )
  })

  it('law: at near-ties (draws within ±3 of the threshold), where the exact rule decides', () => {
    fc.assert(
      fc.property(fc.double({ min: -40, max: 40, noNaN: true }), fc.integer({ min: -3, max: 3 }), (a, d) => {
        const T = threshold(noiseFns(logistic(1)).cdf(a))
        const u = Math.min(Math.max(T + d, 0), 2 ** 32 - 1)
        const out = new Float64Array(1)
        signsFromBits([u], [a], 0, logistic(1), out, 0, 1)
        expect(out[0]).toBe(exactRule(u, a, 1))
      }),
      { numRuns: 2000 },
    )
  })

  it('other families and offsets use the same rule', () => {
    const pre = [0.3, -0.2, 1.5, -2]
    const u = [2 ** 31, 2 ** 31, 2 ** 30, 2 ** 20]
    for (const n of [uniform(1), normal(0.5)]) {
      const out = new Float64Array(6)
      signsFromBits(u, pre, 0, n, out, 2, 4)
      pre.forEach((a, i) => expect(out[2 + i]).toBe(u[i]! < threshold(noiseFns(n).cdf(a)) ? 1 : -1))
    }
  })
})
