import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { flattenOrder, packDenseWeights, packRows, rowWords32, unpackRows } from '../../../src/interpreters/compiled/layout.js'
import { pop32 } from '../../../src/interpreters/compiled/jitless.js'

const signs = (n: number) => fc.array(fc.constantFrom(-1, 1), { minLength: n, maxLength: n })

describe('bit layout', () => {
  it('law: unpack ∘ pack = id on ±1 rows, and padding bits are zero (32- and 64-bit words)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }).chain((n) => fc.tuple(fc.constant(n), signs(n), fc.constantFrom(32 as const, 64 as const))), ([n, v, wb]) => {
        const packed = new Int32Array(rowWords32(n, wb))
        packRows(v, 1, n, wb, packed)
        const back = new Float64Array(n)
        unpackRows(packed, 1, n, wb, back)
        expect(Array.from(back)).toEqual(v)
        for (let f = n; f < 32 * packed.length; f++) expect((packed[f >>> 5]! >>> (f & 31)) & 1).toBe(0)
      }),
    )
  })

  it('law: Σ x·w = n − 2·popcount(x XOR w) over packed rows (padding contributes nothing)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }).chain((n) => fc.tuple(fc.constant(n), signs(n), signs(n))), ([n, x, w]) => {
        for (const wb of [32, 64] as const) {
          const px = new Int32Array(rowWords32(n, wb))
          const pw = new Int32Array(rowWords32(n, wb))
          packRows(x, 1, n, wb, px)
          packRows(w, 1, n, wb, pw)
          let pc = 0
          for (let i = 0; i < px.length; i++) pc += pop32(px[i]! ^ pw[i]!)
          expect(n - 2 * pc).toBe(x.reduce((s, xi, i) => s + xi * w[i]!, 0))
        }
      }),
    )
  })

  it('dense weights are stored transposed: row j is column j of W', () => {
    const w = [1, -1, -1, 1, 1, -1] // [k=3, n=2]
    const p = packDenseWeights(w, 3, 2, 32)
    expect(Array.from(p)).toEqual([0b101, 0b010])
  })

  it('the flatten order puts NCHW feature c·H·W + y·W + x at channels-last bit (y·W + x)·channelBits + c', () => {
    const { order, width } = flattenOrder(3, 2, 2, 64)
    expect(width).toBe(4 * 64)
    expect(Array.from(order)).toEqual([0, 64, 128, 192, 1, 65, 129, 193, 2, 66, 130, 194])
  })
})
