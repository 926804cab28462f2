/**
 * Model files on disk: reading a model (with its side files, looked up next to it) into a checked
 * network, and writing one atomically. Every failure is a `ModelError` value that names the file:
 * a missing file, a directory, an empty file, bytes that are not UTF-8, text that is not JSON.
 *
 * Atomic writes go to a temporary file in the target's directory, are flushed to disk (fsync) and
 * then renamed over the target, so a reader (or a training run resuming from a checkpoint) sees
 * the old file or the complete new one, never a torn one.
 */
import { lstat, stat } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { writeAtomic } from './atomic.js'
import { runningStatisticErrors } from './statistics.js'
import { insideFolder, readBounded, utf8Text } from './read.js'
import type { Budget } from '../interpreters/budget.js'
import { defaultBudget } from '../interpreters/budget.js'
import { at, structure } from '../dsl/codec/modelErrors.js'
import { describeJsonError } from '../data/jsonSyntax.js'
import type { EncodeOptions, ModelError } from '../dsl/codec.js'
import { decodeModel, encodeModel } from '../dsl/codec.js'
import { fileName } from '../dsl/codec/schema.js'
import type { Checked, Network } from '../dsl/node.js'

const fileError = (file: string, message: string): ModelError => ({ _tag: 'FileError', file, message })

/** Bytes of memory a JSON file may take once parsed, per byte on disk (a generous bound). */
export const jsonExpansion = 16

/** Limits on reading: the memory budget files are measured against. */
export interface ReadOptions {
  readonly budget?: Budget
}

/**
 * Reads a text file as UTF-8 (a leading byte-order mark is dropped): a regular file, no larger
 * than the budget allows once parsed (`readBounded`), valid UTF-8, not empty.
 */
export const readText = async (path: string, what = 'a JSON model file', opts: ReadOptions = {}): Promise<E.Either<ModelError, string>> => {
  const budget = opts.budget ?? defaultBudget
  const bytes = await readBounded(path, Math.floor(budget.maxBytes / jsonExpansion))
  if (E.isLeft(bytes)) return E.left(fileError(path, bytes.left.startsWith('cannot') ? bytes.left : `${bytes.left}; expected ${what}`))
  const text = utf8Text(bytes.right)
  if (E.isLeft(text)) return E.left(fileError(path, `${text.left}; expected ${what}`))
  if (text.right.trim() === '') return E.left(fileError(path, `is empty; expected ${what}`))
  return E.right(text.right)
}

/** Parses JSON text, or an error naming the line and column of the first syntax problem. */
export const parseJsonText = (text: string, file: string): E.Either<ModelError, unknown> => {
  try {
    return E.right(JSON.parse(text.startsWith('\uFEFF') ? text.slice(1) : text) as unknown)
  } catch (err) {
    return E.left({ _tag: 'JsonSyntax', file, message: describeJsonError(text) ?? (err instanceof Error ? err.message : String(err)) })
  }
}

const isObject = (u: unknown): u is Readonly<Record<string, unknown>> => typeof u === 'object' && u !== null && !Array.isArray(u)

/** The byte count a model declares for a side file, when it declares one. */
const declaredBytes = (sideFiles: unknown, name: string): number | undefined => {
  const entry = isObject(sideFiles) && Object.hasOwn(sideFiles, name) ? sideFiles[name] : undefined
  const bytes = isObject(entry) ? entry.bytes : undefined
  return typeof bytes === 'number' && Number.isSafeInteger(bytes) && bytes >= 0 ? bytes : undefined
}

/**
 * Reads one side file by the rules of `read.ts`: inside the model's folder after following links,
 * a regular file, its size compared with the declared one before reading.
 */
const readSide = async (folder: string, name: string, declared: number | undefined, budget: Budget): Promise<E.Either<ModelError, Uint8Array | undefined>> => {
  // A missing side file is reported by the decoder, which knows where it is declared.
  if (!(await lstat(join(folder, name)).then(() => true, () => false))) return E.right(undefined)
  const fail = (message: string): E.Either<ModelError, never> =>
    E.left(structure(at('sideFiles', name), `side file ${JSON.stringify(name)} ${message}`))
  const target = await insideFolder(folder, name)
  if (E.isLeft(target)) return fail(target.left)
  const size = await stat(target.right).then((s) => (s.isFile() ? s.size : undefined), () => undefined)
  if (size !== undefined && declared !== undefined && size !== declared)
    return E.left(structure(at(at('sideFiles', name), 'bytes'), `side file ${JSON.stringify(name)} should have ${declared} bytes, found ${size}`))
  const bytes = await readBounded(target.right, Math.min(declared ?? Infinity, Math.floor(budget.maxBytes / 2)))
  return E.isLeft(bytes) ? fail(bytes.left) : E.right(bytes.right)
}

/**
 * Reads a model file and the side files it declares (inside the model's folder) and decodes it
 * into a checked network, or every error found. Every size is measured against `opts.budget`.
 * @example const net = await readModelFile('model.json') // right(checked) or left([…])
 */
export const readModelFile = async (path: string, opts: ReadOptions = {}): Promise<E.Either<ModelError[], Checked<Network>>> => {
  const budget = opts.budget ?? defaultBudget
  const text = await readText(path, 'a JSON model file', opts)
  if (E.isLeft(text)) return E.left([text.left])
  const json = parseJsonText(text.right, path)
  if (E.isLeft(json)) return E.left([json.left])
  const sides = new Map<string, Uint8Array>()
  const raw = isObject(json.right) ? json.right.sideFiles : undefined
  const declared = isObject(raw) ? Object.keys(raw) : []
  const errors: ModelError[] = []
  for (const name of declared.filter((n) => fileName.is(n))) {
    const bytes = await readSide(dirname(path), name, declaredBytes(raw, name), budget)
    if (E.isLeft(bytes)) errors.push(bytes.left)
    else if (bytes.right !== undefined) sides.set(name, bytes.right)
  }
  if (errors.length > 0) return E.left(errors)
  return decodeModel(json.right, (name) => sides.get(name), runningStatisticErrors)
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
