/**
 * The IDX file format of LeCun's MNIST distribution (and of Fashion-MNIST, EMNIST, KMNIST, …):
 *
 *   offset  size  field
 *        0     2  zero
 *        2     1  element type: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
 *        3     1  number of dimensions d (≥ 1)
 *        4    4d  each dimension's size, big-endian uint32
 *     4+4d     …  the elements, row-major, big-endian, nothing after them
 *
 * `decodeIdx` checks every field and the exact length (a truncated or padded file is an error
 * that says which), so a damaged file is never half-read. Pure: bytes in, array or reason out.
 */
import * as E from 'fp-ts/lib/Either.js'

// ---------------------------------------------------------------------------------------------
// Model

/** The element types of IDX, by their type byte. */
export const idxTypes = {
  0x08: { name: 'uint8', bytes: 1 },
  0x09: { name: 'int8', bytes: 1 },
  0x0b: { name: 'int16', bytes: 2 },
  0x0c: { name: 'int32', bytes: 4 },
  0x0d: { name: 'float32', bytes: 4 },
  0x0e: { name: 'float64', bytes: 8 },
} as const

export type IdxType = (typeof idxTypes)[keyof typeof idxTypes]['name']

/** A decoded IDX array: uint8 data stays a byte view of the file; wider types are converted. */
export type IdxArray =
  | { readonly type: 'uint8'; readonly shape: readonly number[]; readonly data: Uint8Array }
  | { readonly type: Exclude<IdxType, 'uint8'>; readonly shape: readonly number[]; readonly data: Float64Array }

/** What a caller may require of a file (each is checked when given). */
export interface IdxExpectation {
  readonly type?: IdxType
  /** The exact shape, e.g. [60000, 28, 28]. */
  readonly shape?: readonly number[]
}

// ---------------------------------------------------------------------------------------------
// Constructors

/**
 * Decodes the bytes of an IDX file, or says what is wrong (magic, type, shape, length).
 * @example decodeIdx(Uint8Array.of(0, 0, 8, 1, 0, 0, 0, 2, 7, 9)) // right({ type: 'uint8', shape: [2], data: [7, 9] })
 */
export const decodeIdx = (bytes: Uint8Array, expect: IdxExpectation = {}): E.Either<string, IdxArray> => {
  if (bytes.length < 4) return E.left(`${bytes.length} bytes, shorter than the 4-byte IDX magic number (truncated?)`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const magic = view.getUint32(0, false)
  const hex = `0x${magic.toString(16).padStart(8, '0')}`
  if (bytes[0] !== 0 || bytes[1] !== 0) return E.left(`magic number ${hex} does not start with two zero bytes: not an IDX file (still gzip-compressed?)`)
  const code = bytes[2]!
  const type = (idxTypes as Record<number, (typeof idxTypes)[keyof typeof idxTypes] | undefined>)[code]
  if (type === undefined) return E.left(`magic number ${hex}: unknown element type 0x${code.toString(16).padStart(2, '0')}`)
  const d = bytes[3]!
  if (d === 0) return E.left(`magic number ${hex}: zero dimensions`)
  const header = 4 + 4 * d
  if (bytes.length < header) return E.left(`${bytes.length} bytes, shorter than the ${header}-byte header of ${d} dimensions (truncated?)`)
  const shape = Array.from({ length: d }, (_, i) => view.getUint32(4 + 4 * i, false))
  const expected = { type: expect.type ?? type.name, shape: expect.shape ?? shape }
  if (expected.type !== type.name) return E.left(`magic number ${hex}: element type ${type.name}, expected ${expected.type}`)
  if (expected.shape.length !== d || expected.shape.some((n, i) => n !== shape[i]))
    return E.left(`shape [${shape.join(', ')}], expected [${expected.shape.join(', ')}]`)
  const count = shape.reduce((a, b) => a * b, 1)
  const length = header + count * type.bytes
  if (bytes.length !== length)
    return E.left(`${bytes.length} bytes, expected ${length} for shape [${shape.join(', ')}] of ${type.name} (${bytes.length < length ? 'truncated' : 'extra bytes at the end'})`)
  if (type.name === 'uint8') return E.right({ type: 'uint8', shape, data: bytes.subarray(header) })
  const data = new Float64Array(count)
  const read = elementReader(view, type.name)
  for (let i = 0; i < count; i++) data[i] = read(header + i * type.bytes)
  return E.right({ type: type.name, shape, data })
}

/**
 * The bytes of an IDX file of uint8 elements (tests and tools write files in exactly the format).
 * @example encodeIdxBytes([2], Uint8Array.of(7, 9)) // Uint8Array [0, 0, 8, 1, 0, 0, 0, 2, 7, 9]
 */
export const encodeIdxBytes = (shape: readonly number[], data: Uint8Array): Uint8Array => {
  const header = 4 + 4 * shape.length
  const bytes = new Uint8Array(header + data.length)
  const view = new DataView(bytes.buffer)
  bytes[2] = 0x08
  bytes[3] = shape.length
  shape.forEach((n, i) => view.setUint32(4 + 4 * i, n, false))
  bytes.set(data, header)
  return bytes
}

// ---------------------------------------------------------------------------------------------
// Utilities

const elementReader = (view: DataView, type: Exclude<IdxType, 'uint8'>): ((offset: number) => number) => {
  switch (type) {
    case 'int8':
      return (o) => view.getInt8(o)
    case 'int16':
      return (o) => view.getInt16(o, false)
    case 'int32':
      return (o) => view.getInt32(o, false)
    case 'float32':
      return (o) => view.getFloat32(o, false)
    case 'float64':
      return (o) => view.getFloat64(o, false)
  }
}
