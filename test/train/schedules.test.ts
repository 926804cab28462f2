/**
 * Learning-rate schedules: values at chosen times (epochs, fractional), parsing of the CLI
 * syntax with pinned errors, and the print/parse round trip.
 */
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import type { Schedule } from '../../src/train/schedules.js'
import { learningRate, parseSchedule, showSchedule, withTotal } from '../../src/train/schedules.js'

const at = (s: Schedule, ts: readonly number[], base = 0.1): number[] => ts.map((t) => learningRate(s, base, t))
const err = (r: E.Either<string, Schedule>): string => (E.isLeft(r) ? r.left : 'no error')
const expectClose = (a: readonly number[], b: readonly number[]): void => a.forEach((x, i) => expect(Math.abs(x - b[i]!)).toBeLessThanOrEqual(1e-15))

describe('learningRate', () => {
  it('constant', () => {
    expect(at({ kind: 'constant' }, [0, 3.5, 100])).toEqual([0.1, 0.1, 0.1])
  })
  it('step: base·γ^floor(t/every)', () => {
    expectClose(at({ kind: 'step', every: 10, gamma: 0.5 }, [0, 9.99, 10, 25, 30]), [0.1, 0.1, 0.05, 0.025, 0.0125])
  })
  it('cosine: base at 0, the midpoint at total/2, min at and after total', () => {
    const s: Schedule = { kind: 'cosine', total: 20, min: 0.001 }
    // t = 5: 0.001 + 0.099·(1 + cos(π/4))/2 = 0.001 + 0.099·0.853553390593274
    expectClose(at(s, [0, 5, 10, 20, 30]), [0.1, 0.001 + 0.099 * ((1 + Math.SQRT1_2) / 2), 0.0505, 0.001, 0.001])
  })
  it('warmup multiplies by min(1, t/warmup)', () => {
    expectClose(at({ kind: 'step', every: 10, gamma: 0.5, warmup: 2 }, [0, 0.5, 2, 12]), [0, 0.025, 0.1, 0.05])
  })
  it('law: cosine is non-increasing in t and stays within [min, base]', () => {
    fc.assert(fc.property(fc.double({ min: 0, max: 40, noNaN: true }), fc.double({ min: 0, max: 40, noNaN: true }), (a, b) => {
      const s: Schedule = { kind: 'cosine', total: 20, min: 0.01 }
      const [lo, hi] = a < b ? [a, b] : [b, a]
      expect(learningRate(s, 0.1, hi)).toBeLessThanOrEqual(learningRate(s, 0.1, lo))
      expect(learningRate(s, 0.1, hi)).toBeGreaterThanOrEqual(0.01)
    }))
  })
  it('a cosine without total is filled by withTotal; used without it is a loop bug that throws', () => {
    expect(withTotal({ kind: 'cosine' }, 12)).toEqual({ kind: 'cosine', total: 12 })
    expect(withTotal({ kind: 'cosine', total: 5 }, 12)).toEqual({ kind: 'cosine', total: 5 })
    expect(() => learningRate({ kind: 'cosine' }, 0.1, 1)).toThrow(/withTotal/)
  })
})

describe('parseSchedule', () => {
  it('reads the CLI forms', () => {
    expect(['constant', 'step:10:0.5', 'cosine', 'cosine:30', 'cosine:30:1e-4', 'cosine::0.001', 'step:0.5:0.9,warmup=1'].map(parseSchedule)).toEqual([
      E.right({ kind: 'constant' }),
      E.right({ kind: 'step', every: 10, gamma: 0.5 }),
      E.right({ kind: 'cosine' }),
      E.right({ kind: 'cosine', total: 30 }),
      E.right({ kind: 'cosine', total: 30, min: 1e-4 }),
      E.right({ kind: 'cosine', min: 0.001 }),
      E.right({ kind: 'step', every: 0.5, gamma: 0.9, warmup: 1 }),
    ])
  })
  it('errors are pinned', () => {
    const bad = ['linear', 'step:10', 'step:0:0.5', 'step:10:x', 'cosine:-3', 'constant:1', 'cosine,warm=2', 'constant,warmup=-1', 'step:Infinity:1']
    expect(bad.map((b) => err(parseSchedule(b)).replace(/; expected .*$/, '; expected …'))).toMatchInlineSnapshot(`
      [
        "schedule "linear": unknown kind "linear"; expected …",
        "schedule "step:10": step takes 2 arguments, found 1; expected …",
        "schedule "step:0:0.5": every must be a number > 0, found "0"; expected …",
        "schedule "step:10:x": gamma must be a number > 0, found "x"; expected …",
        "schedule "cosine:-3": total must be a number > 0, found "-3"; expected …",
        "schedule "constant:1": constant takes no arguments; expected …",
        "schedule "cosine,warm=2": unknown modifier "warm=2"; expected …",
        "schedule "constant,warmup=-1": warmup must be a number ≥ 0, found "-1"; expected …",
        "schedule "step:Infinity:1": every must be a number > 0, found "Infinity"; expected …",
      ]
    `)
    expect(err(parseSchedule('x'))).toMatchInlineSnapshot(
      `"schedule "x": unknown kind "x"; expected constant, step:<every epochs>:<gamma>, cosine, cosine:<total epochs> or cosine:<total epochs>:<min rate>, optionally followed by ,warmup=<epochs>"`,
    )
  })
  it('law: parseSchedule ∘ showSchedule = identity', () => {
    const pos = fc.double({ min: 1e-6, max: 1e3, noNaN: true })
    const warm = fc.option(pos, { nil: undefined }).map((w) => (w === undefined ? {} : { warmup: w }))
    const arb: fc.Arbitrary<Schedule> = fc.oneof(
      warm.map((w): Schedule => ({ kind: 'constant', ...w })),
      fc.tuple(pos, pos, warm).map(([every, gamma, w]): Schedule => ({ kind: 'step', every, gamma, ...w })),
      fc.tuple(fc.option(pos, { nil: undefined }), fc.option(pos, { nil: undefined }), warm).map(([total, min, w]): Schedule => ({
        kind: 'cosine', ...(total === undefined ? {} : { total }), ...(min === undefined ? {} : { min }), ...w,
      })),
    )
    fc.assert(fc.property(arb, (s) => {
      expect(parseSchedule(showSchedule(s))).toEqual(E.right(s))
    }))
  })
})
