/**
 * The 8-bit layer by nibble lookup tables (kernels-wasm/bytes-nibbles.ts) ≡ the byte-mask GEMM of
 * bytes.ts, word for word, on generated shapes across every edge: rows past the last tile (1 to 7
 * rows, tiles of 1 to 3), inputs not a multiple of 4 (a partial chunk) nor of 16 chunks (a
 * partial run of four), units across groups of 16 and words of 32 (a padding half-word);
 * pixels random, all 0, all 255 or only 0 and 255, with garbage in the row's padding bytes;
 * the sign epilogue (thresholds never, always or sometimes +1; units tested one by one or four at
 * once against thresholds by quads) and the dot epilogue. Pinned: the
 * 16-bit lane maximum (k = NIBBLE_LIMIT inputs of 255 against all-+1 weights). The same with
 * `i8x16.relaxed_swizzle` (in this Node if it has relaxed SIMD, else in a child Node run with
 * `--experimental-wasm-relaxed-simd`, test/interpreters/compiled/nibbleRelaxed.ts). End to end
 * (compile → run, mode and sampled) the layer is checked against the reference in bytes.test.ts.
 */
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { NIBBLE_LIMIT } from '../../../src/interpreters/compiled/layout.js'
import { hasRelaxedSwizzle } from '../../../src/wasm/relaxed.js'
import type { Shape } from './nibbleCase.js'
import { arbShape, outputs } from './nibbleCase.js'

describe('8-bit layer: nibble lookup tables ≡ byte masks', () => {
  it('law: nibbles ≡ masks, word for word (sign bits with their padding, or float64 dots), across every row, chunk, run and unit edge; pixels 0 and 255', () => {
    fc.assert(
      fc.property(arbShape, (s) => {
        const { want, got } = outputs(s)
        expect(Array.from(got), JSON.stringify(s)).toEqual(Array.from(want))
      }),
      { numRuns: 60, seed: 20261212 },
    )
  })

  it('the 16-bit lane maximum: NIBBLE_LIMIT inputs of 255 against all-+1 weights give dot = Σx = 255·NIBBLE_LIMIT', () => {
    const s: Shape = { rows: 3, k: NIBBLE_LIMIT, n: 33, tile: 2, pixels: 'max', weights: 'plus', epilogue: 'dot', quads: false, seed: 1 }
    const { want, got } = outputs(s)
    const dots = new Float64Array(got.buffer)
    expect(Array.from(new Set(dots))).toEqual([255 * NIBBLE_LIMIT])
    expect(Array.from(got)).toEqual(Array.from(want))
  })

  it('law: with relaxed SIMD (i8x16.relaxed_swizzle, in-range indices) nibbles ≡ masks, word for word (run in a Node with relaxed SIMD when this one lacks it)', () => {
    if (hasRelaxedSwizzle()) {
      fc.assert(
        fc.property(arbShape, (s) => {
          const { want, got } = outputs(s, true)
          expect(Array.from(got), JSON.stringify(s)).toEqual(Array.from(want))
        }),
        { numRuns: 30, seed: 20261214 },
      )
      return
    }
    const script = fileURLToPath(new URL('./nibbleRelaxed.ts', import.meta.url))
    const out = execFileSync(process.execPath, ['--experimental-wasm-relaxed-simd', '--import', 'tsx', script], { encoding: 'utf8' })
    expect(out.trim()).toBe('relaxed ≡ masks on 30 shapes')
  })
})
