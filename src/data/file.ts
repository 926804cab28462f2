/**
 * Reading and writing dataset files (`--data data.json`), Node only (`sbnkit/node`): the text is
 * decoded by the portable `parseDataText` (src/data/parse.ts), which locates JSON syntax errors.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Budget } from '../interpreters/budget.js'
import { defaultBudget } from '../interpreters/budget.js'
import { jsonExpansion } from '../io/files.js'
import { readBounded, utf8Text } from '../io/read.js'
import type { Feed } from '../interpreters/ndarray.js'
import { writeAtomic } from '../io/atomic.js'
import type { DataError } from './dataErrors.js'
import { fileUnwritable } from './dataErrors.js'
import type { EncodeOptions } from './format.js'
import { encodeData } from './format.js'
import { parseDataText } from './parse.js'

export { parseDataText, parseJson } from './parse.js'

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
  const written = E.mapLeft(fileUnwritable(path))(await writeAtomic(path, `${text.right}\n`, { makeDirectory: true }))
  return E.isLeft(written) ? E.left([written.left]) : E.right(undefined)
}
