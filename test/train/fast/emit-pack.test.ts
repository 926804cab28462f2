/**
 * Law: the WebAssembly packers write exactly what the JavaScript packer writes (both round
 * float64 to the nearest f32), for row-major and depth-major sources, panel widths 4, 8 and
 * 12, and leading dimensions wider than the packed block (a view into a larger matrix).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { assemble } from '../../../src/wasm/module.js'
import { wasmApi } from '../../../src/wasm/runtime.js'
import { packDepthMajor, packRowMajor } from '../../../src/train/fast/emit-pack.js'
import { packPanels } from '../../../src/train/fast/panels.js'
import { value } from './products.js'

type PackFn = (src: number, ld: number, panels: number, depth: number, dst: number, kpad: number) => void

const widths = [4, 8, 12] as const
const WA = wasmApi()!
const memory = new WA.Memory({ initial: 64 })
const exports = new WA.Instance(new WA.Module(assemble(widths.flatMap((w) => [packDepthMajor(w), packRowMajor(w)]))), { env: { mem: memory } }).exports

const arbLayout = fc.record({
  w: fc.constantFrom(...widths),
  panels: fc.integer({ min: 1, max: 4 }),
  depth: fc.integer({ min: 1, max: 37 }),
  extraLd: fc.integer({ min: 0, max: 5 }),
  extraK: fc.integer({ min: 0, max: 3 }),
  rowMajor: fc.boolean(),
}).chain((l) => {
  // Enough values for either layout with the wider leading dimension.
  const n = (l.panels * l.w + l.extraLd) * (l.depth + l.extraLd)
  return fc.array(value, { minLength: n, maxLength: n }).map((xs) => ({ ...l, data: Float64Array.from(xs) }))
})

describe('wasm packers', () => {
  it('pack_dm<w> and pack_rm<w> ≡ packPanels (bit-exact) on whole panels', () => {
    fc.assert(fc.property(arbLayout, ({ w, panels, depth, extraLd, extraK, rowMajor, data }) => {
      const rows = panels * w
      // Row-major packs depth in fours (the caller packs the tail); depth-major takes any depth.
      const packed = rowMajor ? depth - (depth % 4) : depth
      fc.pre(packed > 0)
      const kpad = depth + extraK
      const ld = rowMajor ? depth + extraLd : rows + extraLd
      const view = rowMajor ? { data, rs: ld, ds: 1 } : { data, rs: 1, ds: ld }
      const want = new Float32Array(panels * w * kpad)
      packPanels(want, 0, view, rows, packed, w, kpad)
      const f64 = new Float64Array(memory.buffer)
      const f32 = new Float32Array(memory.buffer)
      const stage = 8192
      f64.set(data, stage)
      f32.fill(0, 0, want.length)
      ;(exports[`pack_${rowMajor ? 'rm' : 'dm'}${w}`] as PackFn)(stage * 8, ld, panels, packed, 0, kpad)
      expect(f32.slice(0, want.length)).toEqual(want)
    }), { seed: 6066, numRuns: 150 })
  })
})
