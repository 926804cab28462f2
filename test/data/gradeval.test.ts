import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import type { Feed } from '../../src/interpreters/ndarray.js'
import { drawDataError } from '../../src/data/dataErrors.js'
import { gradevalData, inNegativeRegion, inPositiveRegion } from '../../src/data/gradevalData.js'

const ok = (r: E.Either<unknown, Feed>): Feed => {
  if (E.isLeft(r)) throw new Error(JSON.stringify(r.left))
  return r.right
}

describe('gradevalData (MATH.md §7)', () => {
  it('law: 200 points, 100 per class, each inside its class support (the rejection rule holds)', () => {
    fc.assert(
      fc.property(fc.nat({ max: 1e9 }), (seed) => {
        const { x, y } = ok(gradevalData(seed)) as { x: { shape: number[]; data: Float64Array }; y: { shape: number[]; data: Float64Array } }
        expect([x.shape, y.shape]).toEqual([[200, 2], [200]])
        expect(Array.from(y.data)).toEqual([...Array(100).fill(1), ...Array(100).fill(-1)])
        for (let i = 0; i < 200; i++) {
          const inside = y.data[i] === 1 ? inPositiveRegion : inNegativeRegion
          expect(inside(x.data[2 * i]!, x.data[2 * i + 1]!)).toBe(true)
        }
      }),
      { numRuns: 30 },
    )
  })
  it('law: a pure function of the seed', () => {
    expect(ok(gradevalData(5))).toEqual(ok(gradevalData(5)))
    expect(ok(gradevalData(5))['x']!.data).not.toEqual(ok(gradevalData(6))['x']!.data)
  })
  it('class −1 is uniform on its region: P(x₂ ≥ 0) = 2/(π + 2) ≈ 0.389 within 4σ (σ = √(p(1−p)/5000) ≈ 0.0069)', () => {
    const { x, y } = ok(gradevalData(11, { perClass: 5000 })) as Record<string, { data: Float64Array }>
    let upper = 0
    for (let i = 0; i < 10000; i++) if (y!.data[i] === -1 && x!.data[2 * i + 1]! >= 0) upper++
    const p = 2 / (Math.PI + 2)
    expect(Math.abs(upper / 5000 - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / 5000))
  })
  it('bad options are errors', () => {
    const a = gradevalData(0, { perClass: 0 })
    expect(E.isLeft(a) && drawDataError(a.left)).toBe('perClass: expected a positive integer, found 0')
    const b = gradevalData(-3)
    expect(E.isLeft(b) && drawDataError(b.left)).toBe('seed: a PRNG seed must be an integer in [0, 2^53), found -3')
  })
})
