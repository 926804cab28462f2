/**
 * Law: the training kernels pack ±1 operands in the one bit layout of the WebAssembly back end
 * (src/wasm/bitLayout.ts: a set bit is +1, feature f at bit f & 31 of 32-bit word f >> 5, rows
 * of ⌈depth/64⌉ 64-bit words, zero padding), word for word what the compiled interpreter packs.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { packRows, rowWords32 } from '../../../src/wasm/bitLayout.js'
import { bitWords, packBits } from '../../../src/train/fast/panels.js'

describe('training sign packing', () => {
  it('law: packBits ≡ bitLayout packRows with 64-bit words (the same words, padding included), row-major and depth-major views', () => {
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
      const stride = rowWords32(depth, 64)
      expect(2 * words).toBe(stride)
      const want = new Int32Array(rows * stride)
      packRows(rowMajor, rows, depth, 64, want)
      expect(Array.from(got, (w) => w | 0)).toEqual(Array.from(want))
    }), { seed: 5050, numRuns: 100 })
  })
})
