/**
 * Errors of the model file format. Every problem a file can have is a `ModelError` value that
 * says where (a file, a line and column, or a JSON path such as `params.W2.shape`), what was
 * expected and what was found; `drawModelError` renders it as one line. Network-level problems
 * keep the `DslError` of `typecheck` and are rendered by its `draw`, prefixed with the JSON path
 * of the node (`nodes[3]: MatMul at output > head > lhs: inner dims differ (5 vs 6)`).
 */
import type * as t from 'io-ts'
import type { DslError } from '../dslErrors.js'
import { draw } from '../dslErrors.js'

export type ModelError =
  /** The file could not be read as text: missing, a directory, empty, not UTF-8. */
  | { readonly _tag: 'FileError'; readonly file: string; readonly message: string }
  /** The text is not JSON; `message` names the line and column of the first problem. */
  | { readonly _tag: 'JsonSyntax'; readonly file: string; readonly message: string }
  /** The JSON does not have the structure of a model file (io-ts decoding, ids, side files). */
  | { readonly _tag: 'Structure'; readonly path: string; readonly message: string }
  /** The structure is fine but the network is not (`typecheck`'s error, at a JSON path or ''). */
  | { readonly _tag: 'Network'; readonly path: string; readonly error: DslError }

/** Renders one error as one line. */
export const drawModelError = (e: ModelError): string => {
  switch (e._tag) {
    case 'FileError':
      return `${e.file}: ${e.message}`
    case 'JsonSyntax':
      return `${e.file}: invalid JSON: ${e.message}`
    case 'Structure':
      return e.path === '' ? e.message : `${e.path}: ${e.message}`
    case 'Network':
      return e.path === '' ? draw(e.error) : `${e.path}: ${draw(e.error)}`
  }
}

/** The most errors drawn; a file with 100 000 bad nodes gets these and a count of the rest. */
export const maxDrawnErrors = 50

/**
 * Renders errors one per line (no trailing newline), the first `maxDrawnErrors` of them and a
 * count of the rest. Given the model's `file`, errors found inside it are prefixed with it too
 * (`model.json: params.W.shape: …`), as compilers do.
 */
export const drawModelErrors = (es: readonly ModelError[], file?: string): string =>
  [
    ...es.slice(0, maxDrawnErrors).map((e) => (file !== undefined && (e._tag === 'Structure' || e._tag === 'Network') ? `${file}: ` : '') + drawModelError(e)),
    ...(es.length > maxDrawnErrors ? [`${file === undefined ? '' : `${file}: `}… and ${es.length - maxDrawnErrors} more problems`] : []),
  ].join('\n')

export const structure = (path: string, message: string): ModelError => ({ _tag: 'Structure', path, message })

// ---------------------------------------------------------------------------------------------
// Utilities: showing found values, JSON paths, io-ts error reports

/** A short description of a JSON value for "found …" (never the whole value). */
export const show = (u: unknown): string => {
  if (u === undefined) return 'nothing'
  if (u === null) return 'null'
  if (typeof u === 'number') return Object.is(u, -0) ? '-0' : String(u)
  if (typeof u === 'string') return u.length > 40 ? `${JSON.stringify(u.slice(0, 37))}…` : JSON.stringify(u)
  if (typeof u === 'boolean') return String(u)
  if (Array.isArray(u)) return `an array of length ${u.length}`
  return 'an object'
}

/**
 * `params` + `W2` → `params.W2`; `nodes` + 3 → `nodes[3]`. Names are written as they are, dots
 * included (`params.layer1.W`, as `draw` writes them), unless they hold other characters, which
 * are quoted (`sideFiles["../x.bin"]`).
 */
export const at = (path: string, key: string | number): string =>
  typeof key === 'number'
    ? `${path}[${key}]`
    : !/^[\w#-][\w.#-]*$/.test(key)
      ? `${path}[${JSON.stringify(key)}]`
      : path === ''
        ? key
        : `${path}.${key}`

/**
 * Turns io-ts validation errors into `Structure` errors under `prefix`. Codec names are written
 * as expectations ("a positive integer or \"batch\""), so the default message reads
 * `expected <name>, found <value>`; a codec may supply a better message of its own.
 */
export const report = (prefix: string, errors: t.Errors): ModelError[] =>
  errors.map((e) => {
    let path = prefix
    for (let i = 1; i < e.context.length; i++) {
      const entry = e.context[i]!
      const parent = e.context[i - 1]!.actual
      path = Array.isArray(parent) ? at(path, Number(entry.key)) : at(path, entry.key)
    }
    const expected = e.context[e.context.length - 1]?.type.name ?? 'a value'
    const message = e.message ?? (e.value === undefined ? `missing; expected ${expected}` : `expected ${expected}, found ${show(e.value)}`)
    return structure(path, message)
  })
