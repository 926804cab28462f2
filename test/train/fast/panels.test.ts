/**
 * Law: the training kernels pack ±1 operands in the one bit layout of the compiled back end
 * (layout.ts: a set bit is +1, feature f at bit f & 31 of 32-bit word f >> 5, zero padding);
 * their rows are only longer (an even number of 64-bit words, read in pairs by the kernel).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { packRows, rowWords32 } from '../../../src/interpreters/compiled/layout.js'
import { bitWords, packBits } from '../../../src/train/fast/panels.js'

describe('training sign packing', () => {
  it('packBits ≡ layout.ts packRows on every row (same words, then zero padding), row-major and depth-major views', () => {
    const arb = fc.record({ rows: fc.integer({ min: 1, max: 9 }), depth: fc.integer({ min: 1, max: 200 }) }).chain(({ rows, depth }) =>
      fc.tuple(fc.constant(rows), fc.constant(depth), fc.array(fc.constantFrom(1, -1), { minLength: rows * depth, maxLength: rows * depth })))
    fc.assert(fc.property(arb, fc.boolean(), ([rows, depth, xs], depthMajor) => {
      const rowMajor = Float64Array.from(xs)
      // The same matrix stored depth-major: element (r, p) at p·rows + r.
      const data = depthMajor ? Float64Array.from({ length: rows * depth }, (_, i) => rowMajor[(i % rows) * depth + Math.floor(i / rows)]!) : rowMajor
      const view = depthMajor ? { data, rs: 1, ds: rows } : { data, rs: depth, ds: 1 }
      const words = bitWords(depth)
      const got = new Uint32Array(rows * 2 * words)
      expect(packBits(got, 0, view, rows, depth, words)).toBe(true)
      const stride = rowWords32(depth, 32)
      const want = new Int32Array(rows * stride)
      packRows(rowMajor, rows, depth, 32, want)
      for (let r = 0; r < rows; r++) {
        expect(Array.from(got.subarray(r * 2 * words, r * 2 * words + stride), (w) => w | 0)).toEqual(Array.from(want.subarray(r * stride, (r + 1) * stride)))
        expect(Array.from(got.subarray(r * 2 * words + stride, (r + 1) * 2 * words))).toEqual(new Array(2 * words - stride).fill(0))
      }
    }), { seed: 5050, numRuns: 100 })
  })
})
