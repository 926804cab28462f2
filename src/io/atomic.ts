/**
 * Atomic, durable file writes, the one implementation behind data files, caches, model files,
 * checkpoints and reports: the bytes go to a temporary file in the same directory, are synced,
 * and the file is renamed over the target (atomic on POSIX file systems); then the directory is
 * synced so the rename survives a crash. A reader sees the old file or the complete new one,
 * never a partial one; on any failure (a full disk) the temporary file is removed.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, open, rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { fsReason } from './reason.js'

export { fsReason } from './reason.js'

/**
 * Writes `data` to `path` atomically; with `makeDirectory`, creates the directory first.
 * Left: the reason (`fsReason`) it could not.
 */
export const writeAtomic = async (
  path: string, data: string | Uint8Array, opts: { readonly makeDirectory?: boolean } = {},
): Promise<E.Either<string, void>> => {
  const dir = dirname(path)
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
  try {
    if (opts.makeDirectory === true) await mkdir(dir, { recursive: true })
    const handle = await open(temp, 'wx')
    try {
      await handle.writeFile(data)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(temp, path)
  } catch (err) {
    await rm(temp, { force: true }).catch(() => undefined)
    return E.left(fsReason(err))
  }
  // Make the rename itself durable; not every platform can fsync a directory, and the file is
  // already complete either way.
  const dirHandle = await open(dir, 'r').catch(() => undefined)
  await dirHandle?.sync().catch(() => undefined)
  await dirHandle?.close()
  return E.right(undefined)
}
