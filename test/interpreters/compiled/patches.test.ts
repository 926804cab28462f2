/**
 * The patch layout of binary convolutions (patches.ts): the patch rows carry the same bits as the
 * tap rows, the pieces of a gather place every channel bit of every tap once, and the thresholds
 * moved to the popcount's domain give the same bit for every popcount. (End to end, the patch
 * kernel ≡ the reference in conv-real.test.ts and equivalence.test.ts.)
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { bitOf, packConvWeights, rowWords32, wordOf } from '../../../src/interpreters/compiled/layout.js'
import { packPatchWeights, patchPieces, popcountThresholds, quadThresholds } from '../../../src/interpreters/compiled/patches.js'

const geometry = fc.record({ o: fc.integer({ min: 1, max: 9 }), c: fc.integer({ min: 1, max: 70 }), kh: fc.integer({ min: 1, max: 3 }), kw: fc.integer({ min: 1, max: 3 }) })

describe('patches', () => {
  it('law: patch row bit (dy·kw + dx)·c + ic ≡ tap row (o, dy, dx) bit ic', () => {
    fc.assert(fc.property(geometry, fc.integer({ min: 1, max: 2 ** 30 }), ({ o, c, kh, kw }, seed) => {
      const w = Float64Array.from({ length: o * c * kh * kw }, (_, i) => (((i * 2654435761 + seed) >>> 7) & 1 ? 1 : -1))
      const taps = packConvWeights(w, o, c, kh, kw, 64)
      const patches = packPatchWeights(w, o, c, kh, kw)
      const [ts, ps] = [rowWords32(c, 64), rowWords32(c * kh * kw, 64)]
      for (let oc = 0; oc < o; oc++)
        for (let t = 0; t < kh * kw; t++)
          for (let ic = 0; ic < c; ic++) {
            const f = t * c + ic
            expect((patches[oc * ps + wordOf(f)]! >>> bitOf(f)) & 1).toBe((taps[(oc * kh * kw + t) * ts + wordOf(ic)]! >>> bitOf(ic)) & 1)
          }
    }), { numRuns: 40, seed: 1351 })
  })

  it('law: the gather pieces cover bits t·c … t·c + c − 1 of every tap exactly once', () => {
    fc.assert(fc.property(geometry, ({ c, kh, kw }) => {
      const seen = new Uint8Array(c * kh * kw)
      for (const p of patchPieces(c, kh, kw))
        for (let b = 0; b < Math.min(32, c - 32 * p.chunk); b++) seen[64 * p.word + p.shift + b]! += 1
      expect(Array.from(seen).every((v) => v === 1)).toBe(true)
    }), { numRuns: 60, seed: 1352 })
  })

  it('law: (pc − lo′) <ᵤ span′ ⇔ (k − 2·pc − lo) <ᵤ span for every popcount, blocked by four', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 300 }), fc.array(fc.tuple(fc.integer({ min: -400, max: 400 }), fc.integer({ min: 0, max: 900 })), { minLength: 1, maxLength: 9 }), (k, pairs) => {
      const t = Int32Array.from(pairs.flat())
      const pcT = popcountThresholds(t, k)
      const quads = quadThresholds(pcT)
      pairs.forEach(([lo, span], j) => {
        const [qlo, qspan] = [quads[8 * (j >> 2) + (j & 3)]!, quads[8 * (j >> 2) + 4 + (j & 3)]! >>> 0]
        for (let pc = 0; pc <= k; pc++) expect(((pc - qlo) >>> 0) < qspan).toBe(((k - 2 * pc - lo) >>> 0) < span)
      })
      for (let j = pairs.length; j < 4 * Math.ceil(pairs.length / 4); j++) expect(quads[8 * (j >> 2) + 4 + (j & 3)]).toBe(0)
    }), { numRuns: 100, seed: 1353 })
  })
})
