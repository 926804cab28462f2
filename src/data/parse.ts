/**
 * Dataset-file text to a `Feed`, portably (no file system): the text is parsed with `JSON.parse`;
 * if that fails, `describeJsonError` locates the first syntax error by line and column, with
 * hints for truncated files and NaN/Infinity. The parsed value is then decoded by `decodeData`.
 * Reading the text from a file is `readDataFile` (`sbnkit/node`).
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Feed } from '../interpreters/ndarray.js'
import type { DataError } from './dataErrors.js'
import { decodeData } from './format.js'
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
