import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import type { Feed } from '../../src/interpreters/ndarray.js'
import { drawDataError } from '../../src/data/dataErrors.js'
import type { SignTeacher, Teacher } from '../../src/data/teacher.js'
import { randomSignTeacher, teacherStudentData } from '../../src/data/teacher.js'

const right = <A>(r: E.Either<unknown, A>): A => {
  if (E.isLeft(r)) throw new Error(JSON.stringify(r.left))
  return r.right
}
const teacher = (seed: number, widths: number[], bias = false): SignTeacher => right(randomSignTeacher(seed, { widths, bias }))
const labels = (t: SignTeacher, rows: number[][]): number[] =>
  Array.from(right(t.label({ x: { shape: [rows.length, rows[0]!.length], data: Float64Array.from(rows.flat()) } })).data)

/** All 2^d points of {−1, +1}^d. */
const cube = (d: number): number[][] =>
  Array.from({ length: 2 ** d }, (_, m) => Array.from({ length: d }, (_, i) => ((m >> i) & 1 ? 1 : -1)))

describe('randomSignTeacher', () => {
  it('law: without biases the teacher is odd, f(−x) = −f(x)', () => {
    fc.assert(
      fc.property(fc.nat({ max: 1e6 }), fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: 6, maxLength: 6 }), (seed, x) => {
        const t = teacher(seed, [6, 7, 5, 1])
        expect(labels(t, [x.map((v) => -v)])).toEqual(labels(t, [x]).map((v) => -v))
      }),
      { numRuns: 50 },
    )
  })
  it('law: without biases exactly half of the cube {±1}^8 is labelled +1', () => {
    for (const seed of [0, 1, 2]) {
      const ys = labels(teacher(seed, [8, 12, 1]), cube(8))
      expect(ys.filter((v) => v === 1).length).toBe(128)
    }
  })
  it('labels are ±1 for one output and class indices for several; a pure function of the seed', () => {
    expect(new Set(labels(teacher(1, [4, 6, 1], true), cube(4)))).toEqual(new Set([-1, 1]))
    const multi = labels(teacher(1, [4, 6, 3]), cube(4))
    expect(multi.every((v) => v === 0 || v === 1 || v === 2)).toBe(true)
    expect(teacher(9, [4, 3, 2]).weights).toEqual(teacher(9, [4, 3, 2]).weights)
  })
  it('bad widths and inputs are errors', () => {
    const w = randomSignTeacher(0, { widths: [3] })
    expect(E.isLeft(w) && drawDataError(w.left)).toBe('widths: expected at least two positive integer widths [input, …, output], found [3]')
    const t = teacher(0, [3, 1])
    const missing = t.label({})
    expect(E.isLeft(missing) && drawDataError(missing.left)).toBe('inputs.x: missing (the teacher reads this input)')
    const wrong = t.label({ x: { shape: [1, 2], data: new Float64Array(2) } })
    expect(E.isLeft(wrong) && drawDataError(wrong.left)).toBe('inputs.x: expected 3 values per row, found shape [1, 2]')
  })
})

describe('teacherStudentData', () => {
  it('draws inputs of the asked shape and distribution and labels them with the teacher', () => {
    const t = teacher(4, [5, 8, 1])
    const feed = right(teacherStudentData(t.label, 1, { n: 300, inputShape: [5] }))
    expect([feed['x']!.shape, feed['y']!.shape]).toEqual([[300, 5], [300]])
    expect(feed['x']!.data.every((v) => v === 1 || v === -1)).toBe(true)
    const normal = right(teacherStudentData(t.label, 1, { n: 10, inputShape: [5], inputs: 'uniform' }))
    expect(normal['x']!.data.every((v) => v >= -1 && v < 1)).toBe(true)
    expect(right(teacherStudentData(t.label, 1, { n: 300, inputShape: [5] }))).toEqual(feed)
  })
  it('an odd teacher gives balanced labels: #(+1) within 4σ of n/2 (σ = √n/2, n = 4000)', () => {
    const t = teacher(6, [10, 16, 1])
    const feed = right(teacherStudentData(t.label, 2, { n: 4000, inputShape: [10], inputs: 'normal' }))
    const positives = feed['y']!.data.filter((v) => v === 1).length
    expect(Math.abs(positives - 2000)).toBeLessThan(4 * (Math.sqrt(4000) / 2))
  })
  it('any labeller plugs in; its errors and wrongly sized labels come back as values', () => {
    const parity: Teacher = (inputs: Feed) => {
      const x = inputs['x']!
      return E.right({ shape: [x.shape[0]!], data: Float64Array.from({ length: x.shape[0]! }, (_, i) => (x.data[2 * i]! * x.data[2 * i + 1]! > 0 ? 1 : -1)) })
    }
    const feed = right(teacherStudentData(parity, 0, { n: 4, inputShape: [2] }))
    expect(feed['y']!.data.length).toBe(4)
    const failing: Teacher<string> = () => E.left('teacher exploded')
    expect(teacherStudentData(failing, 0, { n: 4, inputShape: [2] })).toEqual(E.left('teacher exploded'))
    const short: Teacher = () => E.right({ shape: [3], data: new Float64Array(3) })
    const r = teacherStudentData(short, 0, { n: 4, inputShape: [2] })
    expect(E.isLeft(r) && typeof r.left !== 'string' && drawDataError(r.left)).toBe('teacher: expected labels with 4 rows, found shape [3]')
  })
})
