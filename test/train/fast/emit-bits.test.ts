/**
 * Laws: the WebAssembly sign packers write exactly the words of the JavaScript `packBits`
 * (the one bit layout: 1 for +1, padding words zero), for row-major and depth-major sources,
 * leading dimensions wider than the packed block, depths that are not multiples of 32 and row
 * counts that are not multiples of 4; and they flag a value that is not ±1 as `packBits` does.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { assemble } from '../../../src/wasm/module.js'
import { wasmApi } from '../../../src/wasm/runtime.js'
import { packBitsDepthMajor, packBitsRowMajor } from '../../../src/train/fast/emit-bits.js'
import { bitWords, packBits } from '../../../src/train/fast/panels.js'

type PackFn = (src: number, ld: number, rows: number, depth: number, dst: number, w32: number) => number

const WA = wasmApi()!
const memory = new WA.Memory({ initial: 64 })
const exports = new WA.Instance(new WA.Module(assemble([packBitsRowMajor(), packBitsDepthMajor()])), { env: { mem: memory } }).exports

/** A value that is not ±1 but close to it in one half of its bits: each must be caught. */
const notSign = fc.constantFrom(0, -0, 2, -2, 0.5, 1 + 2 ** -52, -(1 + 2 ** -52), 3, Number.NaN, Number.POSITIVE_INFINITY)

const arbLayout = fc.record({
  rows: fc.integer({ min: 1, max: 13 }),
  depth: fc.integer({ min: 1, max: 100 }),
  extraLd: fc.integer({ min: 0, max: 5 }),
  extraWords: fc.integer({ min: 0, max: 2 }),
  rowMajor: fc.boolean(),
  seed: fc.integer(),
  spoil: fc.option(fc.tuple(fc.nat(), notSign), { nil: undefined }),
})

describe('wasm sign packers', () => {
  it('law: pack_bits_rm and pack_bits_dm ≡ packBits, word for word, and both flag a value that is not ±1', () => {
    fc.assert(fc.property(arbLayout, ({ rows, depth, extraLd, extraWords, rowMajor, seed, spoil }) => {
      const ld = rowMajor ? depth + extraLd : rows + extraLd
      const n = rowMajor ? rows * ld : depth * ld
      let s = seed >>> 0
      const data = Float64Array.from({ length: n }, () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) & 0x10000 ? 1 : -1))
      // The spoiled value inside the packed block (element (r, p) of the view).
      if (spoil !== undefined) {
        const i = spoil[0] % (rows * depth)
        const [r, p] = [Math.floor(i / depth), i % depth]
        data[rowMajor ? r * ld + p : p * ld + r] = spoil[1]
      }
      const view = rowMajor ? { data, rs: ld, ds: 1 } : { data, rs: 1, ds: ld }
      const words = bitWords(depth) + extraWords
      const want = new Uint32Array(2 * words * rows).fill(0xdeadbeef)
      const okJs = packBits(want, 0, view, rows, depth, words)
      const u32 = new Uint32Array(memory.buffer)
      const stage = 16384
      new Float64Array(memory.buffer).set(data, stage)
      u32.fill(0xdeadbeef, 0, want.length)
      const bad = (exports[`pack_bits_${rowMajor ? 'rm' : 'dm'}`] as PackFn)(stage * 8, ld, rows, depth, 0, 2 * words)
      expect(bad === 0).toBe(okJs)
      expect(okJs).toBe(spoil === undefined)
      if (okJs) expect(u32.slice(0, want.length)).toEqual(want)
    }), { seed: 1201, numRuns: 400 })
  })
})
