/**
 * Laws of the even shares of threads/jobs.ts: `evenRanges` cuts [0, count) into consecutive
 * near-equal ranges in order, and `shareOf(replicas, r)` hands replica r exactly its range, so
 * the replicas' shares of a section cover it once (the data-parallel step's work between meetings).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { evenRanges, shareOf } from '../../src/threads/jobs.js'

describe('even shares', () => {
  it('law: the shares of every replica cover [0, n) once, in order, each range that of evenRanges (sizes differ by at most 1)', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 1, max: 7 }), (n, replicas) => {
      const seen = new Uint8Array(n)
      const got: [number, number][] = []
      for (let r = 0; r < replicas; r++) shareOf(replicas, r)(n, (lo, hi) => {
        got.push([lo, hi])
        for (let i = lo; i < hi; i++) seen[i]!++
      })
      const want = evenRanges(n, replicas).filter(([lo, hi]) => hi > lo)
      const sizes = want.map(([lo, hi]) => hi - lo)
      expect(got).toEqual(want)
      expect(seen.every((c) => c === 1)).toBe(true)
      if (n >= replicas) expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1)
    }), { seed: 1202, numRuns: 300 })
  })
})
