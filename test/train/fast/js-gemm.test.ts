/** Law: the plain-JavaScript float64 kernels equal the reference loops within float64 rounding. */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { referenceProducts } from '../../../src/interpreters/reference/ops.js'
import { jsProducts } from '../../../src/train/fast/js-gemm.js'
import { U64, arbCase, ops, worstRatio } from './products.js'

describe('js kernels', () => {
  for (const op of ops)
    it(`${op} ≡ reference within (γ_{k+2}(2⁻⁵³) + γ_k(2⁻⁵³))·Σ|aᵢbᵢ| (both sum in float64, in different orders)`, () => {
      fc.assert(fc.property(arbCase(op), (c) => {
        const got = jsProducts[op](c.a, c.b)
        expect(got.shape).toEqual(referenceProducts[op](c.a, c.b).shape)
        expect(worstRatio(c, got, U64)).toBeLessThanOrEqual(1)
      }), { seed: 6065, numRuns: 100 })
    })
})
