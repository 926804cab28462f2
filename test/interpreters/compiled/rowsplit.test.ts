/**
 * How a batch is split by rows across threads (threads/rowSplit.ts): weighted ranges are a
 * partition of the rows in order, every thread with at least one row; the adaptive balance stays
 * within its bounds, moves rows to the calling thread when it waited and away from it when it
 * did not, and ignores runs too short to time. End to end, a two-thread network gives the one
 * thread's bits on every call, whichever split its balance chose (`rowSplit` 'adaptive' and
 * 'even'), and a bad `rowSplit` is an error value.
 */
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { compile, drawCompileError } from '../../../src/interpreters/compiled/index.js'
import type { CompileOptions } from '../../../src/interpreters/compiled/index.js'
import { rowBalance, weightedRanges } from '../../../src/interpreters/compiled/threads/rowSplit.js'
import { build } from './nets.js'

describe('row splits', () => {
  it('law: weighted ranges partition [0, rows) in order, one non-empty range per thread', () => {
    const arb = fc.integer({ min: 2, max: 8 }).chain((parts) => fc.tuple(fc.constant(parts), fc.integer({ min: parts, max: 600 }), fc.double({ min: 0, max: 1, noNaN: true })))
    fc.assert(
      fc.property(arb, ([parts, rows, share]) => {
        const r = weightedRanges(rows, parts, share)
        expect(r.length).toBe(parts)
        expect(r[0]![0]).toBe(0)
        expect(r[parts - 1]![1]).toBe(rows)
        r.forEach(([a, b], i) => {
          expect(b).toBeGreaterThan(a)
          if (i > 0) expect(a).toBe(r[i - 1]![1])
        })
      }),
      { seed: 20261213, numRuns: 200 },
    )
  })

  it('law: the adaptive share moves toward the faster thread and stays within [0.25/n, min(0.9, 2.5/n)]', () => {
    const b = rowBalance()
    const even = b.ranges(256, 2)
    expect(even).toEqual([[0, 128], [128, 256]])
    // The calling thread finished in half the time and waited: it takes more rows.
    b.observe(even, 5, 10)
    const more = b.ranges(256, 2)
    expect(more[0]![1]).toBeGreaterThan(128)
    // It finished last: its share shrinks.
    b.observe(more, 10, 10)
    expect(b.ranges(256, 2)[0]![1]).toBeLessThan(more[0]![1])
    // Runs too short to time change nothing; bounds hold after many one-sided observations.
    const before = b.ranges(256, 2)
    b.observe(before, 0.1, 0.3)
    expect(b.ranges(256, 2)).toEqual(before)
    for (let i = 0; i < 50; i++) b.observe(b.ranges(256, 2), 1, 100)
    expect(b.ranges(256, 2)[0]![1]).toBeLessThanOrEqual(Math.round(256 * 0.9))
    for (let i = 0; i < 200; i++) b.observe(b.ranges(256, 2), 10, 10)
    expect(b.ranges(256, 2)[0]![1]).toBeGreaterThanOrEqual(2 * Math.round((256 * 0.125) / 2))
  })

  it('law: two threads ≡ one thread on every call, whichever split the balance chose (adaptive and even)', () => {
    // Large enough (≈ 0.2 GMAC per call) for runs longer than the balance's timing threshold, so
    // that its splits move from call to call; odd rows, so that they fall inside row tiles.
    const layer = (width: number) => ({ width, weightNoise: { family: 'none' as const }, bias: 'integer' as const, scale: 'none' as const, batchNorm: 'none' as const, unary: 'none' as const, act: { family: 'none' as const } })
    const spec = { input: 'uint8' as const, inputWidth: 1500, layers: [layer(1201), layer(1100)], head: 3, loss: false, batch: 61, seed: 7 }
    const { net, feed } = build(spec)
    const make = (opts: Partial<CompileOptions>) => {
      const c = compile(net, { backend: 'wasm', mode: 'mode', ...opts })
      if (E.isLeft(c)) throw new Error(drawCompileError(c.left))
      return c.right
    }
    const one = make({})
    const want = one.run(feed)
    if (E.isLeft(want)) throw new Error('run')
    for (const rowSplit of ['adaptive', 'even'] as const) {
      const two = make({ threads: 2, rowSplit })
      for (let call = 0; call < 12; call++) {
        const got = two.run(feed)
        if (E.isLeft(got)) throw new Error('run')
        for (const [name, w] of Object.entries(want.right)) expect(Array.from(got.right[name]!.data), `${rowSplit} call ${call} ${name}`).toEqual(Array.from(w.data))
      }
      two.close()
    }
  })

  it('a rowSplit other than adaptive or even is an InvalidOption', () => {
    const { net } = build({ input: 'binary', inputWidth: 5, layers: [{ width: 3, weightNoise: { family: 'none' }, bias: 'none', scale: 'none', batchNorm: 'none', unary: 'none', act: { family: 'none' } }], head: 0, loss: false, batch: 2, seed: 1 })
    const c = compile(net, { backend: 'wasm', mode: 'mode', threads: 2, rowSplit: 'fair' as 'even' })
    expect(E.isLeft(c) && c.left._tag).toBe('InvalidOption')
  })
})
