/**
 * Atomic writes of data files and caches (`src/io/atomic.ts` does the work), with the data
 * module's error type.
 */
import * as E from 'fp-ts/lib/Either.js'
import { writeAtomic } from '../io/atomic.js'
import type { DataError } from './dataErrors.js'

/**
 * Writes `bytes` to `file` atomically, creating the directory if needed.
 * @example await writeFileAtomic('.cache/sbnkit/x.bin', new Uint8Array([1, 2])) // right(undefined)
 */
export const writeFileAtomic = async (file: string, bytes: Uint8Array | string): Promise<E.Either<DataError, void>> =>
  E.mapLeft((reason: string): DataError => ({ _tag: 'FileUnwritable', file, reason }))(await writeAtomic(file, bytes, { makeDirectory: true }))
