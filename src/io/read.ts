/**
 * Bounded, careful reads, the one way sbnkit reads a file a user or a model names:
 *
 * - regular files only: a directory, a FIFO (which would block forever), a device (`/dev/zero`,
 *   which never ends) or a socket is refused by name, before anything is read;
 * - the size is compared with a limit before reading, and the read itself stops at the limit
 *   (a file that grows meanwhile cannot push past it);
 * - the file is opened non-blocking and checked again on the open handle, so a path swapped for
 *   a FIFO between the check and the open cannot hang the process;
 * - a file a model references must resolve (after following links) inside the model's folder.
 *
 * Every failure is a short reason (`is a FIFO, not a regular file`), for the caller to prefix
 * with the file's name.
 */
import { constants } from 'node:fs'
import type { Stats } from 'node:fs'
import { open, realpath, stat } from 'node:fs/promises'
import { isAbsolute, join, relative } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { showBytes } from '../interpreters/budget.js'
import { fsReason } from './atomic.js'
import { firstInvalidByte } from './utf8.js'

/** What kind of thing a non-regular file is, for the message. */
const kindOf = (s: Stats): string =>
  s.isDirectory() ? 'a directory' : s.isFIFO() ? 'a FIFO (named pipe)' : s.isCharacterDevice() || s.isBlockDevice() ? 'a device'
  : s.isSocket() ? 'a socket' : 'not a regular file'

/**
 * The bytes of a regular file of at most `limit` bytes.
 * @example await readBounded('model.json', 1e8) // right(bytes) or left('is a FIFO (named pipe), not a regular file')
 */
export const readBounded = async (path: string, limit: number): Promise<E.Either<string, Uint8Array>> => {
  let s: Stats
  try {
    s = await stat(path)
  } catch (err) {
    return E.left(`cannot read the file (${fsReason(err)})`)
  }
  if (!s.isFile()) return E.left(`is ${kindOf(s)}, not a regular file`)
  if (s.size > limit) return E.left(`is ${showBytes(s.size)}; the limit for this file is ${showBytes(limit)}`)
  let handle
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK)
  } catch (err) {
    return E.left(`cannot read the file (${fsReason(err)})`)
  }
  try {
    const again = await handle.stat()
    if (!again.isFile()) return E.left(`is ${kindOf(again)}, not a regular file`)
    // One byte more than the limit tells a file that grew past it from one that fills it exactly.
    const buffer = new Uint8Array(Math.min(limit, again.size) + 1)
    let filled = 0
    for (;;) {
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, filled)
      if (bytesRead === 0) break
      filled += bytesRead
      if (filled === buffer.length) break
    }
    if (filled > limit) return E.left(`grew past the limit of ${showBytes(limit)} while being read`)
    return E.right(buffer.subarray(0, filled))
  } catch (err) {
    return E.left(`cannot read the file (${fsReason(err)})`)
  } finally {
    await handle.close()
  }
}

/**
 * Bytes as UTF-8 text: a leading byte-order mark is dropped; invalid UTF-8 is a reason naming
 * the first offending byte and its offset.
 */
export const utf8Text = (bytes: Uint8Array): E.Either<string, string> => {
  try {
    // TextDecoder drops a leading BOM by default (ignoreBOM: false).
    return E.right(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch {
    const at = firstInvalidByte(bytes)
    return E.left(`is not UTF-8 text (byte 0x${(bytes[at] ?? 0).toString(16).padStart(2, '0')} at offset ${at})`)
  }
}

/**
 * The real path of `name` inside `folder`, after following every link, or why it is refused: it
 * resolves outside the folder. The target's size and kind are not revealed.
 */
export const insideFolder = async (folder: string, name: string): Promise<E.Either<string, string>> => {
  let root: string
  let target: string
  try {
    root = await realpath(folder)
    target = await realpath(join(folder, name))
  } catch (err) {
    return E.left(`cannot be found next to the model file (${fsReason(err)})`)
  }
  const rel = relative(root, target)
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return E.left("resolves (through a link) outside the model file's folder; refused")
  return E.right(target)
}
