/**
 * Model files on disk: reading a model (with its side files, looked up next to it) into a checked
 * network, and writing one atomically. Every failure is a `ModelError` value that names the file:
 * a missing file, a directory, an empty file, bytes that are not UTF-8, text that is not JSON.
 *
 * Atomic writes go to a temporary file in the target's directory, are flushed to disk (fsync) and
 * then renamed over the target, so a reader (or a training run resuming from a checkpoint) sees
 * the old file or the complete new one, never a torn one.
 */
import { readFile, stat } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { fsReason, writeAtomic } from './atomic.js'
import { describeJsonError } from '../data/jsonSyntax.js'
import type { EncodeOptions, ModelError } from '../dsl/codec.js'
import { decodeModel, encodeModel } from '../dsl/codec.js'
import { fileName } from '../dsl/codec/schema.js'
import type { Checked, Network } from '../dsl/node.js'

const fileError = (file: string, message: string): ModelError => ({ _tag: 'FileError', file, message })

/** The offset of the first byte that makes `bytes` invalid UTF-8 (bytes must be invalid). */
const firstInvalidByte = (bytes: Uint8Array): number => {
  // Decoding a prefix in streaming mode fails exactly when the prefix holds an invalid sequence,
  // so the shortest failing prefix ends at the offending byte.
  const fails = (k: number): boolean => {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, k), { stream: true })
      return false
    } catch {
      return true
    }
  }
  let lo = 0
  let hi = bytes.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (fails(mid)) hi = mid
    else lo = mid + 1
  }
  return Math.max(0, lo - 1)
}

/** Reads a text file as UTF-8 (a leading byte-order mark is dropped). */
export const readText = async (path: string, what = 'a JSON model file'): Promise<E.Either<ModelError, string>> => {
  let bytes: Uint8Array
  try {
    if ((await stat(path)).isDirectory()) return E.left(fileError(path, `is a directory; expected ${what}`))
    bytes = await readFile(path)
  } catch (err) {
    return E.left(fileError(path, `cannot read the file (${fsReason(err)})`))
  }
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    const at = firstInvalidByte(bytes)
    const byte = (bytes[at] ?? 0).toString(16).padStart(2, '0')
    return E.left(fileError(path, `is not UTF-8 text (byte 0x${byte} at offset ${at}); expected ${what}`))
  }
  if (text.trim() === '') return E.left(fileError(path, `is empty; expected ${what}`))
  return E.right(text)
}

/** Parses JSON text, or an error naming the line and column of the first syntax problem. */
export const parseJsonText = (text: string, file: string): E.Either<ModelError, unknown> => {
  try {
    return E.right(JSON.parse(text) as unknown)
  } catch (err) {
    return E.left({ _tag: 'JsonSyntax', file, message: describeJsonError(text) ?? (err instanceof Error ? err.message : String(err)) })
  }
}

const isObject = (u: unknown): u is Readonly<Record<string, unknown>> => typeof u === 'object' && u !== null && !Array.isArray(u)

/**
 * Reads a model file and the side files it declares (relative to the model's directory) and
 * decodes it into a checked network, or every error found.
 * @example const net = await readModelFile('model.json') // right(checked) or left([…])
 */
export const readModelFile = async (path: string): Promise<E.Either<ModelError[], Checked<Network>>> => {
  const text = await readText(path)
  if (E.isLeft(text)) return E.left([text.left])
  const json = parseJsonText(text.right, path)
  if (E.isLeft(json)) return E.left([json.left])
  const sides = new Map<string, Uint8Array>()
  const declared = isObject(json.right) && isObject(json.right.sideFiles) ? Object.keys(json.right.sideFiles) : []
  for (const name of declared.filter((n) => fileName.is(n))) {
    // A side file that cannot be read is reported by the decoder as not found.
    const bytes = await readFile(join(dirname(path), name)).catch(() => undefined)
    if (bytes !== undefined) sides.set(name, bytes)
  }
  return decodeModel(json.right, (name) => sides.get(name))
}

/**
 * Writes `data` to `path` atomically: a temporary file in the same directory, fsync, rename.
 * The directory must exist. On failure the temporary file is removed and the target untouched.
 */
export const writeFileAtomic = async (path: string, data: string | Uint8Array): Promise<E.Either<ModelError, void>> =>
  E.mapLeft((reason: string) => fileError(path, `cannot write the file (${reason})`))(await writeAtomic(path, data))

/**
 * Writes a model file (and its side file, when `opts.sideFile` is set and some parameter is
 * larger than the threshold), each atomically. The side file is written first; its checksum in
 * the JSON makes an interrupted pair (new side file, old JSON) an error on reading rather than
 * silently wrong weights.
 * @example await writeModelFile('model.json', checked, { sideFile: 'model.bin', threshold: 4096 })
 */
export const writeModelFile = async (path: string, net: Checked<Network>, opts: EncodeOptions = {}): Promise<E.Either<ModelError[], void>> => {
  if (opts.sideFile !== undefined && !fileName.is(opts.sideFile))
    return E.left([fileError(path, `the side file must be ${fileName.name}, found ${JSON.stringify(opts.sideFile)}`)])
  const encoded = encodeModel(net, opts)
  if (encoded.side !== undefined && opts.sideFile !== undefined) {
    const side = await writeFileAtomic(join(dirname(path), opts.sideFile), encoded.side)
    if (E.isLeft(side)) return E.left([side.left])
  }
  const json = await writeFileAtomic(path, encoded.json)
  return E.isLeft(json) ? E.left([json.left]) : E.right(undefined)
}
