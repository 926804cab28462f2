/**
 * Atomic file writes: the bytes go to a temporary file in the same directory, which is then
 * renamed over the target. A rename within one directory is atomic on POSIX file systems, so a
 * reader sees either the old file or the complete new one, never a half-written file, even if the
 * process dies or the disk fills up mid-write (the temporary file is then removed).
 */
import { randomBytes } from 'node:crypto'
import { mkdir, rename, rm, writeFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import type { DataError } from './errors.js'
import { fsReason } from './errors.js'

/**
 * Writes `bytes` to `file` atomically, creating the directory if needed.
 * @example await writeFileAtomic('.cache/sbnkit/x.bin', new Uint8Array([1, 2])) // right(undefined)
 */
export const writeFileAtomic = async (file: string, bytes: Uint8Array | string): Promise<E.Either<DataError, void>> => {
  const dir = dirname(file)
  const temp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
  try {
    await mkdir(dir, { recursive: true })
    await writeFile(temp, bytes)
    await rename(temp, file)
    return E.right(undefined)
  } catch (err) {
    await rm(temp, { force: true }).catch(() => undefined)
    return E.left({ _tag: 'FileUnwritable', file, reason: fsReason(err) })
  }
}
