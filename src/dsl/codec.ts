/**
 * The model file format `sbnkit-model/1` (docs/model-format.md): a whole network with its
 * parameter values as JSON, with large parameters optionally in a binary side file.
 *
 * Decoding is io-ts structure decoding (every structural error, each at its JSON path), then the
 * primitives' constructors, then `typecheck`, whose error is drawn and prefixed with the JSON path
 * of the node it concerns. Encoding is canonical, so `encode ∘ decode ∘ encode = encode`.
 *
 * @example
 * const { json } = encodeModel(checked)
 * const again = decodeModel(JSON.parse(json)) // Either<ModelError[], Checked<Network>>
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Checked, Network, Node } from './node.js'
import type { Located } from './typecheck.js'
import { typecheckLocated } from './typecheck.js'
import type { ModelError } from './codec/modelErrors.js'
import { at, show, structure } from './codec/modelErrors.js'
import { formatVersion } from './codec/encode.js'
import type { DecodedNodes } from './codec/nodes.js'
import { decodeNodes } from './codec/nodes.js'
import type { SideLookup } from './codec/params.js'
import { decodeParams } from './codec/params.js'

export type { ModelError } from './codec/modelErrors.js'
export { drawModelError, drawModelErrors } from './codec/modelErrors.js'
export type { EncodeOptions, Encoded } from './codec/encode.js'
export { defaultThreshold, encodeModel, formatVersion } from './codec/encode.js'
export type { SideLookup } from './codec/params.js'

const topLevel = ['format', 'nodes', 'outputs', 'params', 'sideFiles']

const isObject = (u: unknown): u is Readonly<Record<string, unknown>> => typeof u === 'object' && u !== null && !Array.isArray(u)

/** The `format` field: this version, a different version of the format, or not a model file. */
const checkFormat = (format: unknown): ModelError | undefined => {
  if (format === formatVersion) return undefined
  if (format === undefined) return structure('format', `missing; expected ${show(formatVersion)}`)
  if (typeof format === 'string' && /^sbnkit-model\/\d+$/.test(format))
    return structure('format', `this file is ${show(format)}, but this version of sbnkit reads only ${show(formatVersion)}`)
  return structure('format', `expected ${show(formatVersion)}, found ${show(format)}`)
}

/** The JSON path of the node a typecheck error concerns (`nodes[3]`), or '' for whole-network errors. */
const locate = (l: Located, nodes: DecodedNodes): string => {
  const index = l.node === undefined || !('path' in l.error) ? undefined : nodes.where.get(l.node)?.index
  return index === undefined ? '' : at('nodes', index)
}

/**
 * Decodes a parsed model file into a checked network, or every error found: all structural
 * errors of the JSON (each at its JSON path), or else the first network error of `typecheck`.
 * `side` returns the bytes of a side file by the name the model gives it; `check`, given the
 * checked network and where each node is in the file (`nodes[5], id "n"`), may add errors of its
 * own (the CLI evaluates computed batch-norm statistics there).
 */
export const decodeModel = (json: unknown, side?: SideLookup, check?: ModelCheck): E.Either<ModelError[], Checked<Network>> => {
  if (!isObject(json))
    return E.left([structure('', `expected a model file (a JSON object with "format", "nodes", "outputs" and "params"), found ${show(json)}`)])
  const format = checkFormat(json.format)
  if (format !== undefined) return E.left([format])
  const errors: ModelError[] = []
  for (const key of Object.keys(json))
    if (!topLevel.includes(key)) errors.push(structure(key, `unknown field; a model file has only ${topLevel.join(', ')}`))
  const nodes = decodeNodes(json.nodes, json.outputs)
  if (E.isLeft(nodes)) errors.push(...nodes.left)
  const params = decodeParams(json.params, json.sideFiles, side, E.isRight(nodes) ? nodes.right : undefined)
  if (E.isLeft(params)) errors.push(...params.left)
  if (errors.length > 0 || E.isLeft(nodes) || E.isLeft(params)) return E.left(errors)
  const decoded = nodes.right
  const checked = E.mapLeft((l: Located): ModelError[] => [{ _tag: 'Network', path: locate(l, decoded), error: l.error }])(
    typecheckLocated({ outputs: decoded.outputs, params: params.right }),
  )
  if (check === undefined || E.isLeft(checked)) return checked
  const more = check(checked.right, (n) => {
    const w = decoded.where.get(n)
    return w === undefined ? 'a node' : `${at('nodes', w.index)}, id ${show(w.id)}`
  })
  return more.length > 0 ? E.left(more) : checked
}

/** Extra checks of a decoded network; `where` names a node by its place in the file. */
export type ModelCheck = (net: Checked<Network>, where: (n: Node) => string) => ModelError[]
