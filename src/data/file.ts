/**
 * Reading and writing dataset files (`--data data.json`): the text is parsed with `JSON.parse`;
 * if that fails, `describeJsonError` locates the first syntax error by line and column, with
 * hints for truncated files and NaN/Infinity. The parsed value is then decoded by `decodeData`.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Budget } from '../interpreters/budget.js'
import { defaultBudget } from '../interpreters/budget.js'
import { jsonExpansion } from '../io/files.js'
import { readBounded, utf8Text } from '../io/read.js'
import type { Feed } from '../interpreters/ndarray.js'
import { writeFileAtomic } from './atomic.js'
import type { DataError } from './errors.js'
import type { EncodeOptions } from './format.js'
import { decodeData, encodeData } from './format.js'
import { describeJsonError } from './jsonSyntax.js'

/**
 * Parses JSON text, or an `InvalidJson` error naming the line and column of the first problem.
 * @example parseJson('{"a": [1,', 'd.json') // left({ _tag: 'InvalidJson', file: 'd.json', message: 'line 1, column 10: the text ends inside an array (is the file truncated?)' })
 */
export const parseJson = (text: string, file: string): E.Either<DataError, unknown> => {
  try {
    return E.right(JSON.parse(text) as unknown)
  } catch (err) {
    const message = describeJsonError(text) ?? (err instanceof Error ? err.message : String(err))
    return E.left({ _tag: 'InvalidJson', file, message })
  }
}

/** Decodes dataset-file text (see `docs/data-format.md`); errors name `file`. */
export const parseDataText = (text: string, file: string): E.Either<DataError[], Feed> => {
  // A byte-order mark is not part of the JSON (editors on Windows write one).
  const json = parseJson(text.startsWith('\uFEFF') ? text.slice(1) : text, file)
  return E.isLeft(json) ? E.left([json.left]) : decodeData(json.right, file)
}

/**
 * Reads a dataset file into a `Feed`, or every problem found, each naming the file and a JSON path.
 * @example const feed = await readDataFile('data.json') // right({ x: …, y: … }) or left([…])
 */
export const readDataFile = async (path: string, opts: { readonly budget?: Budget } = {}): Promise<E.Either<DataError[], Feed>> => {
  // A regular file only (no FIFO, no device), its size bounded by the budget before reading.
  const bytes = await readBounded(path, Math.floor((opts.budget ?? defaultBudget).maxBytes / jsonExpansion))
  if (E.isLeft(bytes)) return E.left([{ _tag: 'FileUnreadable', file: path, reason: bytes.left.replace(/^cannot read the file \((.*)\)$/s, '$1').replace(/^is /, 'it is ') }])
  const text = utf8Text(bytes.right)
  if (E.isLeft(text)) return E.left([{ _tag: 'FileUnreadable', file: path, reason: text.left.replace(/^is /, 'it is ') }])
  return parseDataText(text.right, path)
}

/**
 * Writes a feed as a dataset file, atomically (a crash never leaves a half-written file).
 * @example await writeDataFile('data.json', gradevalData(1), { layout: 'nested', indent: 1 })
 */
export const writeDataFile = async (path: string, feed: Feed, options: EncodeOptions = {}): Promise<E.Either<DataError[], void>> => {
  const text = encodeData(feed, options)
  if (E.isLeft(text)) return text
  const written = await writeFileAtomic(path, `${text.right}\n`)
  return E.isLeft(written) ? E.left([written.left]) : E.right(undefined)
}
