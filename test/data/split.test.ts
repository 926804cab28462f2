import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { drawDataError } from '../../src/data/dataErrors.js'
import type { ImageSet } from '../../src/data/images.js'
import { classCounts } from '../../src/data/images.js'
import type { Splits } from '../../src/data/split.js'
import { splitFashionMnist, splitMnist } from '../../src/data/split.js'

/** n one-pixel images whose pixel is the image index mod 256; labels class-major over `classes`. */
const images = (perClass: readonly number[]): ImageSet => {
  const labels = perClass.flatMap((c, k) => Array<number>(c).fill(k))
  return {
    name: 'synthetic', count: labels.length, rows: 1, cols: 1, classes: perClass.length,
    pixels: Uint8Array.from(labels, (_, i) => i % 256), labels: Uint8Array.from(labels),
  }
}
const ok = (r: E.Either<unknown, Splits>): Splits => {
  if (E.isLeft(r)) throw new Error(JSON.stringify(r.left))
  return r.right
}
const all = (s: Splits): number[] => [...s.indices.train, ...s.indices.validation, ...s.indices.test]
const isSorted = (xs: Uint32Array): boolean => xs.every((x, i) => i === 0 || xs[i - 1]! < x)

describe('splitMnist', () => {
  const mnistLike = images(Array(10).fill(1000))
  it('8000 / 1000 / 1000, disjoint, covering, sorted, and the parts hold the indexed images', () => {
    const s = ok(splitMnist(mnistLike))
    expect([s.train.count, s.validation.count, s.test.count]).toEqual([8000, 1000, 1000])
    expect(new Set(all(s)).size).toBe(10000)
    expect([s.indices.train, s.indices.validation, s.indices.test].every(isSorted)).toBe(true)
    expect(Array.from(s.test.labels)).toEqual(Array.from(s.indices.test, (i) => mnistLike.labels[i]))
    expect(Array.from(s.test.pixels)).toEqual(Array.from(s.indices.test, (i) => i % 256))
    expect(s.rule).toBe('synthetic split v1: seed 0, permutation → train 8000 / validation 1000 / test 1000')
  })
  it('law: a pure function of the seed; different seeds give different test sets', () => {
    fc.assert(
      fc.property(fc.nat({ max: 1e6 }), fc.nat({ max: 200 }), fc.nat({ max: 200 }), (seed, validation, test) => {
        const small = images([300, 200])
        const a = ok(splitMnist(small, { seed, validation, test }))
        const b = ok(splitMnist(small, { seed, validation, test }))
        expect(a.indices).toEqual(b.indices)
        expect([a.train.count, a.validation.count, a.test.count]).toEqual([500 - validation - test, validation, test])
        expect(new Set(all(a)).size).toBe(500)
      }),
      { numRuns: 50 },
    )
    expect(ok(splitMnist(mnistLike, { seed: 1 })).indices.test).not.toEqual(ok(splitMnist(mnistLike, { seed: 2 })).indices.test)
  })
  it('bad sizes and seeds are errors naming the option', () => {
    const msg = (r: E.Either<Parameters<typeof drawDataError>[0], unknown>): string => (E.isLeft(r) ? drawDataError(r.left) : '')
    expect(msg(splitMnist(images([10]), { test: 11 }))).toBe('split.test: expected an integer from 0 to 10, found 11')
    expect(msg(splitMnist(images([10]), { test: 5, validation: 6 }))).toBe('split.validation: expected an integer from 0 to 5, found 6')
    expect(msg(splitMnist(images([10]), { seed: 0.5, test: 1, validation: 1 }))).toBe('split.seed: a PRNG seed must be an integer in [0, 2^53), found 0.5')
  })
})

describe('splitFashionMnist', () => {
  const fashionLike = images(Array(10).fill(7000))
  it('test = the first 1000 of each class (unseeded); validation 5000 of the 60 000 pool; train 55 000', () => {
    const a = ok(splitFashionMnist(fashionLike, { seed: 3 }))
    const b = ok(splitFashionMnist(fashionLike, { seed: 4 }))
    expect([a.train.count, a.validation.count, a.test.count]).toEqual([55000, 5000, 10000])
    const expectedTest = Array.from({ length: 10 }, (_, k) => Array.from({ length: 1000 }, (_, i) => k * 7000 + i)).flat()
    expect(Array.from(a.indices.test)).toEqual(expectedTest)
    expect(b.indices.test).toEqual(a.indices.test)
    expect(b.indices.validation).not.toEqual(a.indices.validation)
    expect(new Set(all(a)).size).toBe(70000)
    expect(classCounts(a.test)).toEqual(Array(10).fill(1000))
    expect(ok(splitFashionMnist(fashionLike, { seed: 3 })).indices).toEqual(a.indices)
  })
  it('counts class positions in set order, whatever the interleaving of classes', () => {
    const interleaved: ImageSet = { ...images([3, 3]), labels: Uint8Array.from([0, 1, 0, 1, 0, 1]) }
    const s = ok(splitFashionMnist(interleaved, { testPerClass: 2, validation: 1 }))
    expect(Array.from(s.indices.test)).toEqual([0, 1, 2, 3])
    expect([...s.indices.train, ...s.indices.validation].sort()).toEqual([4, 5])
  })
  it('too few images per class, or too large a validation slice, is an error', () => {
    const r = splitFashionMnist(images([5, 2]), { testPerClass: 3 })
    expect(E.isLeft(r) && drawDataError(r.left)).toBe('split.testPerClass: expected at most 2 (the images of class 1), found 3')
    const v = splitFashionMnist(images([5, 5]), { testPerClass: 2, validation: 7 })
    expect(E.isLeft(v) && drawDataError(v.left)).toBe('split.validation: expected an integer from 0 to 6, found 7')
  })
})
