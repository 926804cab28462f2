/**
 * The dataset file format `sbnkit-data/1` (documented in docs/data-format.md):
 *
 * ```json
 * { "format": "sbnkit-data/1",
 *   "description": "optional free text",
 *   "inputs": { "x": [[0.5, -1], [0, 2]], "y": { "shape": [2], "values": [1, -1] } } }
 * ```
 *
 * `inputs` holds one array per network input name, each nested arrays or `{ shape, values }`
 * (see `tensor.ts`), all with the same number of rows. The io-ts codec `DataFileCodec` decodes to
 * a `Feed` and encodes a `Feed` to the flat form. Whether a feed fits a particular network (its
 * widths, its label range) is checked where the network is known, not here.
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import type { Feed, NDArray } from '../interpreters/ndarray.js'
import type { DataError } from './dataErrors.js'
import { invalidData } from './dataErrors.js'
import type { FlatArrayJson } from './tensor.js'
import { ArrayCodec, describeValue, fieldSegment, isPlainObject, joinPath, toNested } from './tensor.js'

/** The version tag every file carries; a future incompatible format gets a new tag. */
export const DATA_FORMAT = 'sbnkit-data/1'

/** The on-disk JSON of a dataset file, as written by `encodeData`. */
export interface DataFileJson {
  readonly format: typeof DATA_FORMAT
  readonly description?: string
  readonly inputs: Readonly<Record<string, FlatArrayJson | unknown>>
}

const FIELDS = '"format", "inputs" and optionally "description"'

/** Validates the top level and each named array; then that all arrays have the same row count. */
const validateFile = (u: unknown, c: t.Context): t.Validation<Feed> => {
  const at = (key: string, actual: unknown): t.Context => t.appendContext(c, key, t.unknown, actual)
  if (!isPlainObject(u)) {
    return t.failure(u, c, `expected an object { "format": "${DATA_FORMAT}", "inputs": {...} }, found ${describeValue(u)}`)
  }
  const errors: t.ValidationError[] = []
  const fail = (ctx: t.Context, value: unknown, message: string): void => void errors.push({ value, context: ctx, message })
  for (const key of Object.keys(u)) {
    if (key !== 'format' && key !== 'inputs' && key !== 'description') {
      fail(at(fieldSegment(key), u[key]), u[key], `unknown field (expected ${FIELDS})`)
    }
  }
  const format = u['format']
  if (format === undefined) fail(at('format', format), format, `missing (expected "${DATA_FORMAT}")`)
  else if (format !== DATA_FORMAT) fail(at('format', format), format, `expected "${DATA_FORMAT}", found ${describeValue(format)}`)
  const description = u['description']
  if (description !== undefined && typeof description !== 'string') {
    fail(at('description', description), description, `expected a string, found ${describeValue(description)}`)
  }
  const inputs = u['inputs']
  const inputsCtx = at('inputs', inputs)
  // Entries, not assignment: an input named "__proto__" must stay an ordinary key.
  const entries: [string, NDArray][] = []
  if (inputs === undefined) {
    fail(inputsCtx, inputs, 'missing (expected an object of named arrays, like { "x": [[0.5, 1]], "y": [1] })')
  } else if (!isPlainObject(inputs)) {
    fail(inputsCtx, inputs, `expected an object of named arrays, found ${describeValue(inputs)}`)
  } else if (Object.keys(inputs).length === 0) {
    fail(inputsCtx, inputs, 'expected at least one named array, found none (the dataset is empty)')
  } else {
    for (const [name, value] of Object.entries(inputs)) {
      const ctx = t.appendContext(inputsCtx, fieldSegment(name), ArrayCodec, value)
      if (name === '') {
        fail(ctx, value, 'expected a non-empty input name')
        continue
      }
      const decoded = ArrayCodec.validate(value, ctx)
      if (E.isLeft(decoded)) errors.push(...decoded.left)
      else entries.push([name, decoded.right])
    }
  }
  if (errors.length > 0) return t.failures(errors)
  // Rows must agree; the first array (in file order) is the reference.
  const [first, ...rest] = entries
  if (first !== undefined) {
    const rows = first[1].shape[0]
    for (const [name, arr] of rest) {
      if (arr.shape[0] !== rows) {
        const ctx = t.appendContext(inputsCtx, fieldSegment(name), ArrayCodec, arr)
        fail(ctx, arr, `expected ${rows} rows like inputs.${fieldSegment(first[0])}, found ${arr.shape[0]}`)
      }
    }
  }
  return errors.length > 0 ? t.failures(errors) : t.success(Object.fromEntries(entries))
}

/**
 * The io-ts codec of a dataset file: `unknown` (parsed JSON) ⇄ `Feed`.
 * @example DataFileCodec.decode({ format: 'sbnkit-data/1', inputs: { x: [[1, 2]], y: [0] } })
 */
export const DataFileCodec: t.Type<Feed, DataFileJson, unknown> = new t.Type<Feed, DataFileJson, unknown>(
  'DataFile',
  (u): u is Feed => isPlainObject(u) && Object.values(u).every((v) => ArrayCodec.is(v)),
  validateFile,
  (feed) => ({
    format: DATA_FORMAT,
    inputs: Object.fromEntries(Object.entries(feed).map(([name, arr]) => [name, ArrayCodec.encode(arr)])),
  }),
)

/** io-ts errors → `DataError`s with a readable JSON path. */
const toDataErrors = (es: t.Errors, file?: string): DataError[] =>
  es.map((e) => invalidData(joinPath(e.context.map((x) => x.key)), e.message ?? 'invalid value', file))

/**
 * Decodes parsed JSON into a `Feed`, or every problem found (up to 10 per array).
 * @example decodeData({ format: 'sbnkit-data/1', inputs: { x: [[1, 2], [3]] } })
 * // left([{ _tag: 'InvalidData', path: 'inputs.x[1]', message: 'expected 2 values per row like row 0, found 1' }])
 */
export const decodeData = (json: unknown, file?: string): E.Either<DataError[], Feed> =>
  pipe(
    DataFileCodec.decode(json),
    E.mapLeft((es) => toDataErrors(es, file)),
  )

export interface EncodeOptions {
  /** `flat` (default): `{ shape, values }`, compact and exact; `nested`: arrays of rows, easier to read. */
  readonly layout?: 'flat' | 'nested'
  readonly description?: string
  /** JSON indentation (default none). */
  readonly indent?: number
}

/**
 * Encodes a feed as dataset-file JSON text. The feed is checked by decoding what would be written,
 * so a NaN, an empty feed or a row-count mismatch is an error here rather than in the reader.
 * Numbers are written in shortest round-trip form, so decoding gives back the same float64 values
 * (except that −0 is written as 0, as JSON.stringify does).
 * @example encodeData({ x: ndarray([1, 2], [0.5, 1]) }) // right('{"format":"sbnkit-data/1","inputs":{"x":{"shape":[1,2],"values":[0.5,1]}}}')
 */
export const encodeData = (feed: Feed, options: EncodeOptions = {}): E.Either<DataError[], string> => {
  const flat = DataFileCodec.encode(feed)
  return pipe(
    decodeData(flat),
    E.map(() => {
      const inputs =
        options.layout === 'nested' ? Object.fromEntries(Object.entries(feed).map(([n, a]) => [n, toNested(a)])) : flat.inputs
      const json: DataFileJson =
        options.description === undefined
          ? { format: DATA_FORMAT, inputs }
          : { format: DATA_FORMAT, description: options.description, inputs }
      return JSON.stringify(json, null, options.indent)
    }),
  )
}
