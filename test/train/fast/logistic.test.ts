/**
 * Law: the single-precision logistic comparison of the sampler (emit-logistic.ts) decides every
 * unit as the exact sampling rule does, bit for bit: on wide random pre-activations (where its
 * f32 screening decides almost every unit), on ±∞, NaN, ±0 and the edges of the f32 exponent
 * range, for every scale, for lengths that are not multiples of its four lanes, and where each
 * threshold lies just outside the near-tie margin (where a wrong error budget would show).
 */
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import type { ProperNoise } from '../../../src/dsl/noise.js'
import { fillBits, key, siteKey } from '../../../src/dsl/random.js'
import { noiseFns } from '../../../src/dsl/distributions.js'
import { signsInto } from '../../../src/interpreters/reference/sampling.js'
import { wasmProducts } from '../../../src/train/fast/wasm-gemm.js'

const kernels = wasmProducts()
if (E.isLeft(kernels)) throw new Error('the test host must have WebAssembly SIMD')
const signs = kernels.right.signs!
const rule = (n: ProperNoise, a: Float64Array, seed: number): Float64Array => signsInto(siteKey(key(seed), 's'), 0, a, n, new Float64Array(a.length))

const special = [Infinity, -Infinity, NaN, 0, -0, 86, -86, 87, -87, 88, -88, 125, -125, 1e38, -1e38, 1e300, -1e300, 2 ** -130, -(2 ** -130), 0.5, -0.5]

describe('f32 logistic comparison of the sampler', () => {
  it('≡ the sampling rule on wide pre-activations and special values, every scale and length', () => {
    fc.assert(fc.property(
      fc.array(fc.oneof(fc.double({ min: -30, max: 30, noNaN: true }), fc.constantFrom(...special)), { minLength: 0, maxLength: 70 }),
      fc.constantFrom(0.1, 0.5, 1, 3, 1000), fc.nat(),
      (xs, scale, seed) => {
        const a = Float64Array.from(xs)
        const n: ProperNoise = { family: 'logistic', scale }
        expect(Array.from(signs(n, a, siteKey(key(seed), 's')))).toEqual(Array.from(rule(n, a, seed)))
      }), { seed: 6060, numRuns: 400 })
  })

  it('≡ the sampling rule on 200 003 draws spread over the whole logistic range', () => {
    const a = Float64Array.from({ length: 200003 }, (_, i) => Math.tan(i * 0.61803) * 4)
    const n: ProperNoise = { family: 'logistic', scale: 1 }
    expect(signs(n, a, siteKey(key(11), 's'))).toEqual(rule(n, a, 11))
  })

  it('≡ the sampling rule where each threshold lies 2¹⁰–2¹⁸ units from its draw, either side', () => {
    fc.assert(fc.property(fc.constantFrom(0.25, 1, 3), fc.nat(), (scale, seed) => {
      const n: ProperNoise = { family: 'logistic', scale }
      const k = siteKey(key(seed), 's')
      const u = fillBits(k, 0, new Uint32Array(4001))
      const F = noiseFns(n)
      // Offsets of ±2^(10 + i mod 9) units: the margin (2¹⁵ units of d, 2¹⁴–2¹⁵ of u) and either side of it.
      const a = Float64Array.from(u, (v, i) => F.icdf(Math.min(1 - 2 ** -40, Math.max(2 ** -40, (v + (i % 2 === 0 ? 1 : -1) * 2 ** (10 + (i % 9))) / 2 ** 32))))
      expect(Array.from(signs(n, a, k))).toEqual(Array.from(rule(n, a, seed)))
    }), { seed: 1313, numRuns: 30 })
  })
})
