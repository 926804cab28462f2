/**
 * Deferred sums over parts (src/train/parallel/rows.ts, `RowParts.later` and `settle`): a sum
 * whose total is completed at the pass's end, with every other deferred sum, at one meeting of the
 * replicas. Laws: after `settle` each deferred total is `sum`'s total bit for bit (the same
 * additions in part order), for short and long sums, any number of parts, interleaved with
 * immediate sums; a replica meets the others once per `settle` however many sums it completes,
 * and not at all for a `settle` with nothing pending. `spreads` (the weight draws of a pass at one
 * meeting) ≡ one `spread` per item, bit for bit, and leaves the area as it was when they do not fit.
 * `productLater` (a weight gradient over the gathered rows, each replica its rows of the total)
 * ≡ the kernels' one product over the whole minibatch, bit for bit, for any replicas and parts.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import * as E from 'fp-ts/lib/Either.js'
import type { MatrixProducts } from '../../src/interpreters/reference/ops.js'
import { referenceProducts } from '../../src/interpreters/reference/ops.js'
import { fastProducts } from '../../src/train/fast/index.js'
import type { Barrier } from '../../src/train/parallel/barrier.js'
import type { SumSlots } from '../../src/train/parallel/rows.js'
import { localRows, partsOf, replicaParts, sharedRows } from '../../src/train/parallel/rows.js'

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

  it('law: a settle meets once whatever it completes, and not at all with nothing pending', () => {
    const barrier = counting()
    const rows = sharedRows(16, 2, 1, 0, slotsFor(2, 32, 8), barrier)
    rows.settle!()
    expect(barrier.count).toBe(0)
    for (let s = 0; s < 5; s++) rows.later!(20, partialOf(s, 20))
    expect(barrier.count).toBe(0)
    rows.settle!()
    expect(barrier.count).toBe(1)
    rows.settle!()
    expect(barrier.count).toBe(1)
  })

  it('law: a total taken with `now` is complete when settle returns, whatever its length', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 24 }), (parts, len) => {
      const want = sharedRows(30, parts, 1, 0, slotsFor(parts, 24, 8), counting()).sum(len, partialOf(3, len)).slice()
      const slots = slotsFor(parts, 24, 8)
      const rows = sharedRows(30, parts, 1, 0, slots, counting())
      const got = rows.later!(len, partialOf(3, len), false, true)
      rows.settle!()
      // Not a view of the area: nobody else adds into it afterwards.
      return sameBits(got, want) && got.buffer !== slots.area.buffer
    }), { seed: 9091, numRuns: 100 })
  })

  it('law: spreads ≡ one spread per item, bit for bit, at one meeting; undefined (the area untouched) when they do not fit', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 5 }), (ns) => {
      const fillOf = (k: number) => (lo: number, hi: number, out: Float64Array): void => {
        for (let i = lo; i < hi; i++) out[i - lo] = Math.cos(3.1 * k + 0.7 * i)
      }
      const one = sharedRows(16, 2, 1, 0, slotsFor(2, 32, 8), counting())
      const want = ns.map((n, k) => one.spread!(n, fillOf(k)).slice())
      const barrier = counting()
      const many = sharedRows(16, 2, 1, 0, slotsFor(2, 32, 8), barrier)
      const got = many.spreads!(ns.map((n, k) => ({ n, fill: fillOf(k) })))
      return got !== undefined && got.every((g, k) => sameBits(g, want[k]!)) && barrier.count === 1
    }), { seed: 9092, numRuns: 200 })
    const rows = sharedRows(16, 2, 1, 0, slotsFor(2, 4, 8), counting())
    // The area holds 8 · 2 · 4 = 64 values: 40 + 40 do not fit, and the next 64 still do.
    expect(rows.spreads!([{ n: 40, fill: () => undefined }, { n: 40, fill: () => undefined }])).toBeUndefined()
    expect(rows.spreads!([{ n: 64, fill: (lo, hi, out) => out.fill(1) }])?.[0]?.length).toBe(64)
  })

  const fast = fastProducts()
  const kernelSets: readonly (readonly [string, MatrixProducts])[] = [['reference', referenceProducts], ...(E.isRight(fast) ? [['fast', fast.right] as const] : [])]
  for (const [name, kernels] of kernelSets)
    it(`law: productLater over R replicas ≡ one ${name} product over every row, bit for bit (odd sizes, fewer columns than replicas, one row)`, () => {
      fc.assert(fc.property(
        fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 21 }), fc.integer({ min: 1, max: 37 }), fc.integer({ min: 1, max: 19 }), fc.integer({ min: 0, max: 1000 }),
        (replicas, extraParts, rows, k, n, seed) => {
          const parts = replicas + extraParts - 1
          const lhs = { shape: [rows, k], data: Float64Array.from({ length: rows * k }, (_, i) => Math.sin(seed + 1.3 * i) * 7) }
          const g = { shape: [rows, n], data: Float64Array.from({ length: rows * n }, (_, i) => Math.cos(seed + 0.7 * i) / 3) }
          const want = kernels.matmulTN(lhs, g).data.slice()
          const one = localRows(rows, parts).productLater!(lhs, g, kernels)
          // The replicas in turn on one shared area (a barrier that only counts: each writes its rows, then each computes its range).
          const slots = { ...slotsFor(parts, 1, 1 << 20), area: new Float64Array(rows * (k + n) + k * n) }
          const ranges = partsOf(rows, parts)
          const active = Math.min(replicas, ranges.length)
          const team = Array.from({ length: active }, (_, r) => sharedRows(rows, parts, replicas, r, slots, counting()))
          const totals = team.map((t, r) => {
            const [p0, p1] = replicaParts(ranges.length, active, r)
            const [lo, hi] = [ranges[p0]![0], ranges[p1 - 1]![1]]
            return t.productLater!({ shape: [hi - lo, k], data: lhs.data.subarray(lo * k, hi * k) }, { shape: [hi - lo, n], data: g.data.subarray(lo * n, hi * n) }, kernels)
          })
          team.forEach((t) => t.settle!())
          return sameBits(one, want) && totals.every((t) => sameBits(t, want))
        },
      ), { seed: 9093, numRuns: 150 })
    })
})
