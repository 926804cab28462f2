/**
 * Law: the WebAssembly sampler of the training kernels ≡ the sampling rule, bit for bit, for
 * every noise family: x = +1 iff u < floor(F(a/s)·2³²) with u = fillBits(key, 0, ·), here
 * `signsInto` (the Monte Carlo interpreter's rule). Pre-activations include exact ties of the
 * fast path (u next to the threshold), huge magnitudes, zeros and sizes around the 32-draw groups.
 */
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import type { ProperNoise } from '../../../src/dsl/noise.js'
import { noiseFamilies } from '../../../src/dsl/noise.js'
import type { Key } from '../../../src/dsl/random.js'
import { fillBits, key, siteKey } from '../../../src/dsl/random.js'
import { noiseFns } from '../../../src/dsl/distributions.js'
import { signsInto, threshold } from '../../../src/interpreters/reference/sampling.js'
import { wasmProducts } from '../../../src/train/fast/wasm-gemm.js'

const kernels = wasmProducts()
const logistic1: ProperNoise = { family: 'logistic', scale: 1 }
const signs = E.isRight(kernels) ? kernels.right.signs : undefined

const pre = fc.oneof(
  fc.double({ min: -8, max: 8, noNaN: true }),
  fc.double({ min: -800, max: 800, noNaN: true }),
  fc.constantFrom(0, -0, 1e-300, -1e-300, 36, -36, 745, -745, 1e6, -1e6),
)
const noise = fc.record({ family: fc.constantFrom(...noiseFamilies), scale: fc.constantFrom(0.25, 0.5, 1, 2, 3) }) as fc.Arbitrary<ProperNoise>

const rule = (n: ProperNoise, a: Float64Array, k: Key): Float64Array => signsInto(k, 0, a, n, new Float64Array(a.length))

describe('wasm sampler', () => {
  it('the test host has WebAssembly SIMD (the sampler exists)', () => {
    expect(signs).toBeDefined()
  })

  it('wasm sampler ≡ the sampling rule bit for bit, every noise family and scale', () => {
    fc.assert(fc.property(noise, fc.array(pre, { minLength: 0, maxLength: 300 }), fc.nat(), (n, xs, seed) => {
      const a = Float64Array.from(xs)
      const k = siteKey(key(seed), 'site')
      expect(signs!(n, a, k)).toEqual(rule(n, a, k))
    }), { seed: 4040, numRuns: 300 })
  })

  it('near-ties of the logistic fast path take the exact rule (pre-activations chosen so σ(a)·2³² lands next to each draw)', () => {
    const k = siteKey(key(9), 'ties')
    const n = 4099
    const u = fillBits(k, 0, new Uint32Array(n))
    const F = noiseFns(logistic1)
    // a = F⁻¹(u / 2³²) puts the threshold within a few units of u (either side).
    const a = Float64Array.from(u, (v, i) => F.icdf(Math.min(1 - 2 ** -40, Math.max(2 ** -40, (v + (i % 5) - 2) / 2 ** 32))))
    const got = signs!(logistic1, a, k)
    expect(got).toEqual(rule(logistic1, a, k))
    // The law is not vacuous: both outcomes occur among these near-ties.
    let agree = 0
    for (let i = 0; i < n; i++) if (u[i]! < threshold(F.cdf(a[i]!))) agree++
    expect(agree).toBeGreaterThan(0)
    expect(agree).toBeLessThan(n)
  })

  it('large sites (a layer of weights) ≡ the rule', () => {
    const a = Float64Array.from({ length: 784 * 65 + 3 }, (_, i) => Math.sin(i) * 3)
    const k = siteKey(key(3), 'layer1.W')
    expect(signs!(logistic1, a, k)).toEqual(rule(logistic1, a, k))
  })

  it('law: signs into a given array (a view at an offset) ≡ a fresh array, and the array is the one returned', () => {
    fc.assert(fc.property(noise, fc.array(pre, { minLength: 0, maxLength: 200 }), fc.nat({ max: 64 }), fc.nat(), (n, xs, lo, seed) => {
      const a = Float64Array.from(xs)
      const k = siteKey(key(seed), 'site')
      const into = new Float64Array(new SharedArrayBuffer(8 * (lo + a.length + 3))).subarray(lo, lo + a.length)
      const got = signs!(n, a, k, lo, into)
      expect(got).toBe(into)
      expect(Array.from(got)).toEqual(Array.from(signs!(n, a, k, lo)))
    }), { seed: 4041, numRuns: 200 })
  })
})
