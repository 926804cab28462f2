/**
 * Deferred sums over parts (src/train/parallel/rows.ts, `RowParts.later` and `settle`): a sum
 * whose total is completed at the pass's end, with every other deferred sum, at one meeting of the
 * replicas. Laws: after `settle` each deferred total is `sum`'s total bit for bit (the same
 * additions in part order), for short and long sums, any number of parts, interleaved with
 * immediate sums; a replica meets the others twice per `settle` however many sums it completes,
 * and not at all for a `settle` with nothing pending.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Barrier } from '../../src/train/parallel/barrier.js'
import type { SumSlots } from '../../src/train/parallel/rows.js'
import { sharedRows } from '../../src/train/parallel/rows.js'

/** Slots for sums of at most `slotLength` values over `parts` parts, long from `splitFrom` on. */
const slotsFor = (parts: number, slotLength: number, splitFrom: number): SumSlots => ({
  scratch: new Float64Array(2 * parts * slotLength),
  slotLength,
  parts,
  area: new Float64Array(8 * parts * slotLength),
  splitFrom,
})

/** One replica holding every part: its barrier only counts the meetings. */
const counting = (): Barrier & { count: number } => {
  const b = { count: 0, wait: () => void b.count++ }
  return b
}

/** Part p's partial of sum s: values with many significant bits, so that the order of additions shows. */
const partialOf = (s: number, len: number) => (lo: number, hi: number, out: Float64Array): void => {
  for (let i = 0; i < len; i++) out[i] = Math.sin(1.7 * s + 0.37 * i + 11.3 * lo) * (hi - lo) * 1e3 + 1 / (1 + i + lo)
}

const sameBits = (a: Float64Array, b: Float64Array): boolean => a.length === b.length && a.every((v, i) => Object.is(v, b[i]))

describe('deferred sums over parts', () => {
  it('law: later + settle ≡ sum, bit for bit, short and long sums, 1–4 parts, interleaved with immediate sums', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 4 }), fc.integer({ min: 4, max: 40 }),
      fc.array(fc.record({ len: fc.integer({ min: 1, max: 24 }), deferred: fc.boolean() }), { minLength: 1, maxLength: 6 }),
      (parts, rows, sums) => {
        const splitFrom = 8
        const immediate = sharedRows(rows, parts, 1, 0, slotsFor(parts, 24, splitFrom), counting())
        const mixed = sharedRows(rows, parts, 1, 0, slotsFor(parts, 24, splitFrom), counting())
        const want = sums.map(({ len }, s) => immediate.sum(len, partialOf(s, len)).slice())
        const got = sums.map(({ len, deferred }, s) => (deferred ? mixed.later! : mixed.sum)(len, partialOf(s, len)))
        mixed.settle!()
        return got.every((g, s) => sameBits(g, want[s]!))
      },
    ), { seed: 9090, numRuns: 300 })
  })

  it('law: a settle meets twice whatever it completes, and not at all with nothing pending', () => {
    const barrier = counting()
    const rows = sharedRows(16, 2, 1, 0, slotsFor(2, 32, 8), barrier)
    rows.settle!()
    expect(barrier.count).toBe(0)
    for (let s = 0; s < 5; s++) rows.later!(20, partialOf(s, 20))
    expect(barrier.count).toBe(0)
    rows.settle!()
    expect(barrier.count).toBe(2)
    rows.settle!()
    expect(barrier.count).toBe(2)
  })
})
