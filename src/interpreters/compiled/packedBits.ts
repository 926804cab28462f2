/**
 * Packed bits as a value users hold: `{ form: 'bits', shape: [N, n], data }`, where row r holds
 * features 0..n−1 in the 32-bit words data[r·⌈n/32⌉ …], feature f at bit f mod 32 of word ⌊f/32⌋,
 * a set bit meaning +1 and padding bits zero — the 32-bit rows of the one bit layout
 * (src/wasm/bitLayout.ts), whatever the back end. `infer` accepts it for binary inputs and
 * returns it for binary outputs, so a packed output can feed the next network without unpacking.
 *
 * @example
 * const x = packBits([2, 3], Int8Array.of(1, -1, 1, -1, -1, 1))
 * // E.right({ form: 'bits', shape: [2, 3], data: Int32Array [0b101, 0b100] })
 */
import * as E from 'fp-ts/lib/Either.js'
import type { RunError } from '../runErrors.js'
import { bitOf, bitOfValue, rowWords32, valueOfBit, wordOf } from '../../wasm/bitLayout.js'

export interface PackedBits {
  readonly form: 'bits'
  /** The shape `[N, n]`: N examples of n binary features. */
  readonly shape: readonly number[]
  readonly data: Int32Array
}

/** 32-bit words per packed row of n features. */
export const packedRowWords = (n: number): number => rowWords32(n, 32)

export const isPackedBits = (x: { readonly shape: readonly number[] } | PackedBits): x is PackedBits => 'form' in x && x.form === 'bits'

/**
 * Packs values [N, …] row by row (bit set iff the value is ≥ 0, the deterministic binarize):
 * the shape's first axis is the batch, the others are flattened into the row.
 */
export const packBits = (shape: readonly number[], values: ArrayLike<number>): E.Either<RunError, PackedBits> => {
  const rows = shape[0] ?? 1
  const n = shape.slice(1).reduce((a, b) => a * b, 1)
  if (values.length !== rows * n)
    return E.left({ _tag: 'Unsupported', interpreter: 'packBits', what: `shape [${shape.join(', ')}] with ${values.length} values (it needs ${rows * n})`, fix: 'pass as many values as the shape holds' })
  const per = packedRowWords(n)
  const data = new Int32Array(rows * per)
  for (let r = 0; r < rows; r++) for (let f = 0; f < n; f++) data[r * per + wordOf(f)]! |= bitOfValue(values[r * n + f]!) << bitOf(f)
  return E.right({ form: 'bits', shape: [rows, n], data })
}

/** The ±1 values of packed bits, as float64 [N, n]. */
export const unpackBits = (bits: PackedBits): Float64Array => {
  const rows = bits.shape[0] ?? 1
  const n = bits.shape.slice(1).reduce((a, b) => a * b, 1)
  const per = packedRowWords(n)
  const out = new Float64Array(rows * n)
  for (let r = 0; r < rows; r++) for (let f = 0; f < n; f++) out[r * n + f] = valueOfBit((bits.data[r * per + wordOf(f)]! >>> bitOf(f)) & 1)
  return out
}
