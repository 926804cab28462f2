import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import type { Feed, NDArray } from '../../src/interpreters/ndarray.js'
import { drawDataError } from '../../src/data/dataErrors.js'
import { DATA_FORMAT, decodeData, encodeData } from '../../src/data/format.js'

const F = DATA_FORMAT
/** The drawn errors of a decode that must fail. */
const errorsOf = (json: unknown): string[] => {
  const r = decodeData(json)
  if (E.isRight(r)) throw new Error('expected a decoding failure')
  return r.left.map(drawDataError)
}
const plain = (feed: Feed): Record<string, { shape: number[]; data: number[] }> =>
  Object.fromEntries(Object.entries(feed).map(([k, a]) => [k, { shape: [...a.shape], data: Array.from(a.data) }]))

describe('decodeData: accepted forms', () => {
  it('reads nested arrays and the flat { shape, values } form into the same feed', () => {
    const nested = decodeData({ format: F, inputs: { x: [[1, 2], [3, 4], [5, 6]], y: [0, 1, 2] } })
    const flat = decodeData({ format: F, inputs: { x: { shape: [3, 2], values: [1, 2, 3, 4, 5, 6] }, y: { shape: [3], values: [0, 1, 2] } } })
    expect(E.isRight(nested) && E.isRight(flat)).toBe(true)
    if (E.isRight(nested) && E.isRight(flat)) {
      expect(plain(nested.right)).toEqual({ x: { shape: [3, 2], data: [1, 2, 3, 4, 5, 6] }, y: { shape: [3], data: [0, 1, 2] } })
      expect(plain(flat.right)).toEqual(plain(nested.right))
    }
  })
  it('reads deeper nesting (images [n, 2, 2]) and an optional description', () => {
    const r = decodeData({ format: F, description: 'two tiny images', inputs: { x: [[[1, 2], [3, 4]], [[5, 6], [7, 8]]] } })
    expect(E.isRight(r) && plain(r.right)).toEqual({ x: { shape: [2, 2, 2], data: [1, 2, 3, 4, 5, 6, 7, 8] } })
  })
  it('keeps an input named "__proto__" as an ordinary name', () => {
    const r = decodeData(JSON.parse(`{"format":"${F}","inputs":{"__proto__":[1,2]}}`))
    expect(E.isRight(r) && Object.keys(r.right)).toEqual(['__proto__'])
  })
})

describe('decodeData: each problem is one pinned message naming the JSON path', () => {
  it('a ragged row', () => {
    expect(errorsOf({ format: F, inputs: { x: [[1, 2], [3, 4], [5, 6], [7, 8, 9]] } })).toEqual([
      'inputs.x[3]: expected 2 values per row like row 0, found 3',
    ])
  })
  it('ragged deeper levels and a number where a row belongs', () => {
    expect(errorsOf({ format: F, inputs: { x: [[[1, 2], [3, 4]], [[1, 2], [3]], [1, 2]] } })).toEqual([
      'inputs.x[1][1]: expected 2 values like inputs.x[0][0], found 1',
      'inputs.x[2][0]: expected an array of 2 values like inputs.x[0][0], found 1',
      'inputs.x[2][1]: expected an array of 2 values like inputs.x[0][0], found 2',
    ])
    expect(errorsOf({ format: F, inputs: { x: [[1, 2], 3] } })).toEqual([
      'inputs.x[1]: expected a row of 2 values like row 0, found 3',
    ])
  })
  it('NaN, Infinity, null, strings and arrays where numbers belong', () => {
    expect(errorsOf({ format: F, inputs: { x: [[1, NaN], [null, Infinity], ['1', 2], [[1], 2]] } })).toEqual([
      'inputs.x[0][1]: expected a finite number, found NaN',
      'inputs.x[1][0]: expected a finite number, found null',
      'inputs.x[1][1]: expected a finite number, found Infinity',
      'inputs.x[2][0]: expected a finite number, found "1"',
      'inputs.x[3][0]: expected a finite number, found an array',
    ])
  })
  it('lists at most 10 problems per array and counts the rest', () => {
    const errs = errorsOf({ format: F, inputs: { x: Array.from({ length: 15 }, () => [null]) } })
    expect(errs).toHaveLength(11)
    expect(errs[10]).toBe('inputs.x: 5 more problems not listed (showing the first 10)')
  })
  it('an empty dataset: no inputs, no rows, an empty row, zero sizes', () => {
    expect(errorsOf({ format: F, inputs: {} })).toEqual(['inputs: expected at least one named array, found none (the dataset is empty)'])
    expect(errorsOf({ format: F, inputs: { x: [] } })).toEqual(['inputs.x: expected at least one row, found an empty array'])
    expect(errorsOf({ format: F, inputs: { x: [[]] } })).toEqual(['inputs.x[0]: expected a non-empty array, found an empty array'])
    expect(errorsOf({ format: F, inputs: { x: { shape: [0, 2], values: [] } } })).toEqual(['inputs.x.shape[0]: expected at least one row, found 0'])
  })
  it('inconsistent batch sizes name the reference array', () => {
    expect(errorsOf({ format: F, inputs: { x: [[1], [2], [3]], y: [0, 1] } })).toEqual(['inputs.y: expected 3 rows like inputs.x, found 2'])
  })
  it('the flat form: unknown fields, bad shapes, wrong value counts', () => {
    expect(errorsOf({ format: F, inputs: { x: { shape: [2, -1, 1.5], valus: [] } } })).toEqual([
      'inputs.x.valus: unknown field (expected "shape" and "values")',
      'inputs.x.shape[1]: expected a non-negative integer, found -1',
      'inputs.x.shape[2]: expected a non-negative integer, found 1.5',
      'inputs.x.values: missing (expected an array of numbers)',
    ])
    expect(errorsOf({ format: F, inputs: { x: { shape: [2, 3], values: [1, 2, 3] } } })).toEqual([
      'inputs.x.values: expected 6 values for shape [2, 3], found 3',
    ])
    expect(errorsOf({ format: F, inputs: { x: { shape: [], values: [1] } } })).toEqual([
      'inputs.x.shape: expected at least one size (the number of rows), found []',
    ])
    expect(errorsOf({ format: F, inputs: { x: { shape: [2], values: [1, null] } } })).toEqual([
      'inputs.x.values[1]: expected a finite number, found null',
    ])
  })
  it('the top level: not an object, wrong version, unknown and missing fields, odd names', () => {
    expect(errorsOf([1, 2])).toEqual(['(root): expected an object { "format": "sbnkit-data/1", "inputs": {...} }, found an array'])
    expect(errorsOf({ format: 'sbnkit-data/2', input: {} })).toEqual([
      'input: unknown field (expected "format", "inputs" and optionally "description")',
      'format: expected "sbnkit-data/1", found "sbnkit-data/2"',
      'inputs: missing (expected an object of named arrays, like { "x": [[0.5, 1]], "y": [1] })',
    ])
    expect(errorsOf({ inputs: { 'my y': 3 }, description: 7 })).toEqual([
      'format: missing (expected "sbnkit-data/1")',
      'description: expected a string, found 7',
      'inputs["my y"]: expected nested arrays of numbers or { "shape": [...], "values": [...] }, found 3',
    ])
    expect(errorsOf({ format: F, inputs: [1] })).toEqual(['inputs: expected an object of named arrays, found an array'])
  })
})

// Arbitrary feeds: 1–3 names, a shared batch size, each array with 0–2 trailing dims of size 1–3.
const finite = fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => (Object.is(v, -0) ? 0 : v))
const arrayArb = (n: number): fc.Arbitrary<NDArray> =>
  fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }).chain((dims) => {
    const shape = [n, ...dims]
    const size = shape.reduce((a, b) => a * b, 1)
    return fc.array(finite, { minLength: size, maxLength: size }).map((vs) => ({ shape, data: Float64Array.from(vs) }))
  })
const feedArb: fc.Arbitrary<Feed> = fc.integer({ min: 1, max: 4 }).chain((n) =>
  fc
    .uniqueArray(fc.string({ minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 3 })
    .chain((names) => fc.tuple(...names.map(() => arrayArb(n))).map((arrs) => Object.fromEntries(names.map((k, i) => [k, arrs[i]!])))),
)

describe('encodeData', () => {
  it('law: decode ∘ encode = id on finite feeds (flat and nested layouts, float64-exact)', () => {
    fc.assert(
      fc.property(feedArb, fc.constantFrom('flat' as const, 'nested' as const), (feed, layout) => {
        const text = encodeData(feed, { layout })
        expect(E.isRight(text)).toBe(true)
        if (E.isLeft(text)) return
        const back = decodeData(JSON.parse(text.right))
        expect(E.isRight(back) && plain(back.right)).toEqual(plain(feed))
      }),
    )
  })
  it('law: encode ∘ decode = id on encoded text (the flat form is canonical)', () => {
    fc.assert(
      fc.property(feedArb, (feed) => {
        const text = encodeData(feed)
        const again = E.isRight(text) ? E.flatMap(encodeData)(decodeData(JSON.parse(text.right))) : text
        expect(again).toEqual(text)
      }),
    )
  })
  it('writes the documented form, with an optional description', () => {
    const feed = { x: { shape: [1, 2], data: Float64Array.from([0.5, 1]) } }
    expect(encodeData(feed, { description: 'd' })).toEqual(
      E.right('{"format":"sbnkit-data/1","description":"d","inputs":{"x":{"shape":[1,2],"values":[0.5,1]}}}'),
    )
  })
  it('refuses what the reader would refuse: NaN, size mismatches, unequal rows, an empty feed', () => {
    const bad = (feed: Feed): string[] => {
      const r = encodeData(feed)
      return E.isLeft(r) ? r.left.map(drawDataError) : []
    }
    expect(bad({ x: { shape: [2], data: Float64Array.from([1, NaN]) } })).toEqual(['inputs.x.values[1]: expected a finite number, found NaN'])
    expect(bad({ x: { shape: [2, 2], data: Float64Array.from([1, 2]) } })).toEqual(['inputs.x.values: expected 4 values for shape [2, 2], found 2'])
    expect(bad({ x: { shape: [2], data: new Float64Array(2) }, y: { shape: [1], data: new Float64Array(1) } })).toEqual([
      'inputs.y: expected 2 rows like inputs.x, found 1',
    ])
    expect(bad({})).toEqual(['inputs: expected at least one named array, found none (the dataset is empty)'])
  })
})

describe('docs/data-format.md', () => {
  it('the complete example decodes to the stated feed, and the flat block is what encodeData writes for it', () => {
    const doc = readFileSync(new URL('../../docs/data-format.md', import.meta.url), 'utf8')
    const blocks = [...doc.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!)
    const feed = decodeData(JSON.parse(blocks[0]!))
    expect(E.isRight(feed) && plain(feed.right)).toEqual({
      x: { shape: [6, 2], data: [-0.5, 0.25, 0, 0.9, 1.25, 0.5, 0.5, -0.25, 1, -0.6, 2, 0.1] },
      y: { shape: [6], data: [1, 1, 1, -1, -1, -1] },
    })
    expect(E.isRight(feed) && encodeData(feed.right)).toEqual(E.right(blocks[1]!.trim()))
  })
})
