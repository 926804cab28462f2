/**
 * Model files (`sbnkit-model/1`, docs/model-format.md) to and from bytes, portably: no file
 * system, so a page can load a model fetched over the network or picked by the user, and save one
 * as a download. `readModelFile` / `writeModelFile` (`sbnkit/node`) do the same with files.
 *
 * Reading checks, in order, that the bytes are UTF-8 (a leading byte-order mark is dropped), that
 * the text is not empty, that it is JSON (the first syntax error located by line and column), and
 * then decodes the model (`decodeModel`: every structural error, then `typecheck`).
 */
import * as E from 'fp-ts/lib/Either.js'
import type { EncodeOptions, ModelError } from '../dsl/codec.js'
import { decodeModel, encodeModel } from '../dsl/codec.js'
import type { Checked, Network } from '../dsl/node.js'
import { describeJsonError } from './jsonSyntax.js'
import { firstInvalidByte } from '../io/utf8.js'

// ---------------------------------------------------------------------------------------------
// Model

export interface ModelBytesOptions {
  /** The name errors give the model (a file name or URL); default `model.json`. */
  readonly file?: string
  /** The side files the model declares, by the name it gives them (`{ 'model.bin': bytes }`). */
  readonly sideFiles?: Readonly<Record<string, Uint8Array>>
}

/** A model as bytes: the JSON text in UTF-8 and, when a parameter went there, the side file. */
export interface ModelBytes {
  readonly json: Uint8Array
  readonly side?: Uint8Array
}

// ---------------------------------------------------------------------------------------------
// Constructors

/**
 * Decodes the bytes of a model file (and its side files) into a checked network, or every error
 * found, each naming `options.file`.
 * @example
 * const bytes = new Uint8Array(await (await fetch('model.json')).arrayBuffer())
 * const net = decodeModelBytes(bytes, { file: 'model.json' }) // Either<ModelError[], Checked<Network>>
 */
export const decodeModelBytes = (bytes: Uint8Array, options: ModelBytesOptions = {}): E.Either<ModelError[], Checked<Network>> => {
  const file = options.file ?? 'model.json'
  const text = decodeUtf8(bytes, file, 'a JSON model file')
  if (E.isLeft(text)) return E.left([text.left])
  let json: unknown
  try {
    json = JSON.parse(text.right)
  } catch (err) {
    return E.left([{ _tag: 'JsonSyntax', file, message: describeJsonError(text.right) ?? (err instanceof Error ? err.message : String(err)) }])
  }
  const sides = options.sideFiles ?? {}
  return decodeModel(json, (name) => (Object.hasOwn(sides, name) ? sides[name] : undefined))
}

/**
 * Encodes a network as the bytes of a model file (canonical JSON in UTF-8, the bytes
 * `writeModelFile` writes) and, with `opts.sideFile`, of its side file.
 * @example const { json } = encodeModelBytes(net) // new Blob([json]) downloads as model.json
 */
export const encodeModelBytes = (net: Checked<Network>, opts: EncodeOptions = {}): ModelBytes => {
  const encoded = encodeModel(net, opts)
  const json = new TextEncoder().encode(encoded.json)
  return encoded.side === undefined ? { json } : { json, side: encoded.side }
}

// ---------------------------------------------------------------------------------------------
// Utilities

/** UTF-8 text of `bytes` without a leading byte-order mark, or why it is not usable text. */
const decodeUtf8 = (bytes: Uint8Array, file: string, what: string): E.Either<ModelError, string> => {
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    const at = firstInvalidByte(bytes)
    const byte = (bytes[at] ?? 0).toString(16).padStart(2, '0')
    return E.left({ _tag: 'FileError', file, message: `is not UTF-8 text (byte 0x${byte} at offset ${at}); expected ${what}` })
  }
  if (text.trim() === '') return E.left({ _tag: 'FileError', file, message: `is empty; expected ${what}` })
  return E.right(text)
}

