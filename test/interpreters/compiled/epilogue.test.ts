import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Noise } from '../../../src/dsl/noise.js'
import { noiseFns } from '../../../src/dsl/distributions.js'
import { threshold } from '../../../src/interpreters/reference/sampling.js'
import { sampleTables, signTables } from '../../../src/interpreters/compiled/fuseEpilogue.js'
import type { UnitFn } from '../../../src/interpreters/compiled/fuseEpilogue.js'

const TWO32 = 4294967296

/** Random monotone unit functions: affine maps (either direction), optionally through tanh/exp/log. */
const arbUnit: fc.Arbitrary<UnitFn> = fc
  .record({
    slope: fc.double({ min: -3, max: 3, noNaN: true }),
    shift: fc.double({ min: -50, max: 50, noNaN: true }),
    outer: fc.constantFrom('id', 'tanh', 'exp', 'log'),
  })
  .map(({ slope, shift, outer }) => (d: number) => {
    const a = d * slope + shift
    return outer === 'tanh' ? Math.tanh(a) : outer === 'exp' ? Math.exp(a) : outer === 'log' ? Math.log(a) : a
  })

const arbNoise: fc.Arbitrary<Noise> = fc.record({
  family: fc.constantFrom('logistic' as const, 'uniform' as const, 'triangular' as const, 'normal' as const),
  scale: fc.constantFrom(0.1, 1, 7),
})

describe('fused epilogue tables', () => {
  it('law: sign tables give +1 exactly where a(dot) ≥ 0, for every dot in range', () => {
    fc.assert(
      fc.property(fc.array(arbUnit, { minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 300 }), (units, k) => {
        const t = signTables(units, { min: -k, max: k }).thresholds
        const wrong: string[] = []
        units.forEach((a, j) => {
          for (let d = -k; d <= k; d++) if ((((d - t[2 * j]!) >>> 0) < t[2 * j + 1]!) !== a(d) >= 0) wrong.push(`unit ${j} dot ${d}`)
        })
        expect(wrong).toEqual([])
      }),
    )
  })

  it('law: sample tables reproduce u < T(F(a(dot))) for every dot and draw (forced outside the window)', () => {
    fc.assert(
      fc.property(fc.array(arbUnit, { minLength: 1, maxLength: 3 }), fc.integer({ min: 1, max: 200 }), arbNoise, fc.array(fc.nat({ max: TWO32 - 1 }), { minLength: 4, maxLength: 4 }), (units, k, noise, us) => {
        const r = sampleTables(units, { min: -k, max: k }, noise)
        if (typeof r === 'string') return
        const cdf = noiseFns(noise).cdf
        const wrong: string[] = []
        units.forEach((a, j) => {
          const [lo, len, off, flags] = [r.headers[4 * j]!, r.headers[4 * j + 1]!, r.headers[4 * j + 2]!, r.headers[4 * j + 3]!]
          for (let d = -k; d <= k; d++) {
            const T = threshold(cdf(a(d)))
            for (const u of [...us, 0, TWO32 - 1]) {
              const inside = d - lo >= 0 && d - lo < len
              const got = inside ? u < (r.table[off + d - lo]! >>> 0) : ((flags >>> (d < lo ? 0 : 1)) & 1) === 1
              if (got !== u < T) wrong.push(`unit ${j} dot ${d} u ${u}`)
            }
          }
        })
        expect(wrong).toEqual([])
      }),
      { numRuns: 60 },
    )
  })
})
