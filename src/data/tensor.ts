/**
 * The io-ts codec of one named array of a dataset file. On disk an array is either nested JSON
 * arrays (`[[0.1, 0.2], [0.3, 0.4]]`, the shape read from the first element at each depth) or a
 * flat record `{ "shape": [2, 2], "values": [0.1, 0.2, 0.3, 0.4] }` (row-major). Decoding yields an
 * `NDArray` or failures whose messages name the offending element and compare it with the first
 * one (`expected 2 values per row like row 0, found 3`). Encoding always writes the flat record.
 */
import * as t from 'io-ts'
import type { NDArray } from '../interpreters/ndarray.js'
import { sizeOfShape } from '../interpreters/ndarray.js'

/** A JSON path segment: a field (`x`, `["a b"]`) or an index (`[3]`). */
export const fieldSegment = (name: string): string =>
  /^[A-Za-z_$][\w$]*$/.test(name) ? name : `[${JSON.stringify(name)}]`
export const indexSegment = (i: number): string => `[${i}]`

/** Joins segments into a JSON path: `inputs`, `x`, `[3]` → `inputs.x[3]`. */
export const joinPath = (segments: readonly string[]): string =>
  segments.reduce((acc, s) => (s.startsWith('[') || acc === '' ? acc + s : `${acc}.${s}`), '')

/** A short description of a JSON value for "found …" (`null`, `"NaN"`, `an array`, `an object`). */
export const describeValue = (v: unknown): string => {
  if (v === null) return 'null'
  if (Array.isArray(v)) return v.length === 0 ? 'an empty array' : 'an array'
  if (typeof v === 'string') return JSON.stringify(v.length > 20 ? `${v.slice(0, 20)}…` : v)
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  if (v === undefined) return 'nothing'
  return `an ${typeof v === 'object' ? 'object' : typeof v}`
}

const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)
export const isPlainObject = (v: unknown): v is Readonly<Record<string, unknown>> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

/** The flat on-disk form of an array. */
export interface FlatArrayJson {
  readonly shape: readonly number[]
  readonly values: readonly number[]
}

/** The most dimensions an array may have (far beyond any network; a deeper nesting is an error). */
export const MAX_RANK = 32

/** How many problems are listed per array before the rest are only counted. */
export const MAX_ERRORS_PER_ARRAY = 10

/** A problem at a path relative to the array being decoded. */
interface Problem {
  readonly at: readonly string[]
  readonly value: unknown
  readonly message: string
}

/** Collects problems, keeping the first `MAX_ERRORS_PER_ARRAY` and counting the rest. */
class Problems {
  readonly list: Problem[] = []
  dropped = 0
  add(at: readonly string[], value: unknown, message: string): void {
    this.addLazy(() => ({ at, value, message }))
  }
  /** Builds the problem only if it will be listed (a file of a million nulls stays cheap). */
  addLazy(make: () => Problem): void {
    if (this.list.length < MAX_ERRORS_PER_ARRAY) this.list.push(make())
    else this.dropped++
  }
}

const EMPTY = 'expected at least one row, found an empty array'

/** Decodes nested arrays: the shape comes from the first element at each depth. */
const decodeNested = (u: readonly unknown[], prefix: string, problems: Problems): NDArray | undefined => {
  const shape: number[] = []
  for (let v: unknown = u; Array.isArray(v); v = v[0]) {
    if (v.length === 0) {
      const at = shape.map(() => indexSegment(0))
      problems.add(at, v, shape.length === 0 ? EMPTY : 'expected a non-empty array, found an empty array')
      return undefined
    }
    shape.push(v.length)
    if (shape.length > MAX_RANK) {
      let depth = shape.length
      for (let w: unknown = v[0]; Array.isArray(w); w = w[0]) depth++
      problems.add([], u, `expected at most ${MAX_RANK} nested levels (dimensions), found ${depth}`)
      return undefined
    }
  }
  // The reference for a row at depth d is the all-zero path of that depth ("row 0" at depth 1).
  const reference = (d: number): string =>
    d === 1 ? 'row 0' : joinPath([prefix, ...Array.from({ length: d }, () => indexSegment(0))])
  // Two passes over the same walk: the first checks every row against the shape (it visits only
  // what the file holds, so a shape claimed by the first elements allocates nothing), the second
  // copies the values. Iterative: the depth comes from the file.
  const walk = (data: Float64Array | undefined): void => {
    const at: number[] = []
    const here = (): string[] => at.map(indexSegment)
    // One frame per open array; at[k] is the index being read in frame k.
    const frames: Array<{ readonly v: readonly unknown[]; i: number }> = []
    let offset = 0
    const enter = (v: unknown, d: number): void => {
      const n = shape[d]!
      if (!Array.isArray(v) || v.length !== n) {
        const per = d === 1 ? ' per row' : ''
        const found = Array.isArray(v) ? String(v.length) : describeValue(v)
        const what = Array.isArray(v) ? `${n} values${per}` : `${d === 1 ? 'a row' : 'an array'} of ${n} values`
        problems.add(here(), v, `expected ${what} like ${reference(d)}, found ${found}`)
        offset += sizeOfShape(shape.slice(d))
        return
      }
      if (d < shape.length - 1) {
        frames.push({ v, i: 0 })
        at.push(0)
        return
      }
      // The innermost level, a plain loop: this is where almost all the values are.
      for (let i = 0; i < n; i++) {
        const x: unknown = v[i]
        if (isFiniteNumber(x)) {
          if (data !== undefined) data[offset] = x
        } else problems.addLazy(() => ({ at: [...here(), indexSegment(i)], value: x, message: `expected a finite number, found ${describeValue(x)}` }))
        offset++
      }
    }
    enter(u, 0)
    while (frames.length > 0) {
      const top = frames[frames.length - 1]!
      if (top.i === top.v.length) {
        frames.pop()
        at.pop()
        continue
      }
      at[at.length - 1] = top.i
      enter(top.v[top.i++], frames.length)
    }
  }
  walk(undefined)
  if (problems.list.length > 0) return undefined
  const data = new Float64Array(sizeOfShape(shape))
  walk(data)
  return { shape, data }
}

/** Decodes the flat form `{ shape, values }`. */
const decodeFlat = (u: Readonly<Record<string, unknown>>, problems: Problems): NDArray | undefined => {
  for (const key of Object.keys(u)) {
    if (key !== 'shape' && key !== 'values') problems.add([fieldSegment(key)], u[key], 'unknown field (expected "shape" and "values")')
  }
  const shape = u['shape']
  const values = u['values']
  if (!Array.isArray(shape)) {
    const expected = 'an array of sizes like [200, 2]'
    problems.add(['shape'], shape, shape === undefined ? `missing (expected ${expected})` : `expected ${expected}, found ${describeValue(shape)}`)
  } else if (shape.length === 0) {
    problems.add(['shape'], shape, 'expected at least one size (the number of rows), found []')
  } else if (shape.length > MAX_RANK) {
    problems.add(['shape'], shape, `expected at most ${MAX_RANK} sizes (dimensions), found ${shape.length}`)
  } else {
    shape.forEach((s: unknown, i) => {
      if (typeof s !== 'number' || !Number.isInteger(s) || s < 0) {
        problems.add(['shape', indexSegment(i)], s, `expected a non-negative integer, found ${describeValue(s)}`)
      } else if (s === 0) {
        problems.add(['shape', indexSegment(i)], s, i === 0 ? 'expected at least one row, found 0' : 'expected a positive size, found 0')
      }
    })
  }
  if (!Array.isArray(values)) {
    const expected = 'an array of numbers'
    problems.add(['values'], values, values === undefined ? `missing (expected ${expected})` : `expected ${expected}, found ${describeValue(values)}`)
  }
  if (problems.list.length > 0 || !Array.isArray(shape) || !Array.isArray(values)) return undefined
  const dims = shape as number[]
  const size = sizeOfShape(dims)
  if (values.length !== size) {
    problems.add(['values'], values, `expected ${size} values for shape [${dims.join(', ')}], found ${values.length}`)
    return undefined
  }
  const data = new Float64Array(size)
  for (let i = 0; i < size; i++) {
    const v: unknown = values[i]
    if (isFiniteNumber(v)) data[i] = v
    else problems.addLazy(() => ({ at: ['values', indexSegment(i)], value: v, message: `expected a finite number, found ${describeValue(v)}` }))
  }
  return problems.list.length === 0 ? { shape: dims, data } : undefined
}

/**
 * The codec of one array: decodes nested or flat JSON into an `NDArray` with at least one row,
 * encodes to the flat form.
 * @example ArrayCodec.decode([[1, 2], [3, 4]]) // right({ shape: [2, 2], data: Float64Array [1, 2, 3, 4] })
 */
export const ArrayCodec: t.Type<NDArray, FlatArrayJson, unknown> = new t.Type<NDArray, FlatArrayJson, unknown>(
  'Array',
  (u): u is NDArray => isPlainObject(u) && Array.isArray(u['shape']) && u['data'] instanceof Float64Array,
  (u, c) => {
    const problems = new Problems()
    const decoded = Array.isArray(u)
      ? decodeNested(u, joinPath(c.map((x) => x.key)), problems)
      : isPlainObject(u)
        ? decodeFlat(u, problems)
        : (problems.add([], u, `expected nested arrays of numbers or { "shape": [...], "values": [...] }, found ${describeValue(u)}`),
          undefined)
    if (decoded !== undefined) return t.success(decoded)
    const errors: t.ValidationError[] = problems.list.map((p) => ({
      value: p.value,
      message: p.message,
      context: p.at.reduce<t.Context>((ctx, key) => t.appendContext(ctx, key, t.unknown), c),
    }))
    if (problems.dropped > 0) {
      errors.push({ value: u, context: c, message: `${problems.dropped} more problems not listed (showing the first ${MAX_ERRORS_PER_ARRAY})` })
    }
    return t.failures(errors)
  },
  (a) => ({ shape: [...a.shape], values: Array.from(a.data) }),
)

/** Nested JSON arrays of an `NDArray` (the human-friendly form). */
export const toNested = (a: NDArray): unknown => {
  const build = (d: number, offset: number): unknown => {
    const n = a.shape[d]!
    if (d === a.shape.length - 1) return Array.from(a.data.subarray(offset, offset + n))
    const stride = sizeOfShape(a.shape.slice(d + 1))
    return Array.from({ length: n }, (_, i) => build(d + 1, offset + i * stride))
  }
  return a.shape.length === 0 ? a.data[0] : build(0, 0)
}
