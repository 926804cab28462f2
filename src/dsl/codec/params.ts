/**
 * Decoding `params` and `sideFiles`: each entry's structure, its shape against the shape of the
 * Param node of that name, its value count, and, for values in a side file, the side file's
 * size, checksum and byte range. Values must be finite: JSON has no NaN or Infinity, and a side
 * file holding one is rejected too. A batch norm's running variance must also be ≥ 0: inference
 * divides by √(variance + eps), so a negative one would make every result NaN ("n/a").
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Node, Param } from '../node.js'
import { pathFinder } from '../typecheck.js'
import { showShape, sizeOf } from '../shape.js'
import type { ModelError } from './modelErrors.js'
import { at, report, show, structure } from './modelErrors.js'
import type { DecodedNodes } from './nodes.js'
import type { SideFileEntry } from './schema.js'
import { fileName, paramEntry, sideFileEntry } from './schema.js'
import { bytesPerValue, fnv1a32, readFloat64le } from './text.js'

/** Finds the bytes of a side file named in the model (`undefined` when it does not exist). */
export type SideLookup = (file: string) => Uint8Array | undefined

const isObject = (u: unknown): u is Readonly<Record<string, unknown>> => typeof u === 'object' && u !== null && !Array.isArray(u)

/** The side files the model declares, checked for presence, size and checksum. */
const sideFiles = (raw: unknown, lookup: SideLookup | undefined, errors: ModelError[]): Map<string, Uint8Array | undefined> => {
  const files = new Map<string, Uint8Array | undefined>()
  if (raw === undefined) return files
  if (!isObject(raw)) {
    errors.push(structure('sideFiles', `expected an object from file names to {"bytes", "fnv1a32"}, found ${show(raw)}`))
    return files
  }
  for (const [name, u] of Object.entries(raw)) {
    const path = at('sideFiles', name)
    if (!fileName.is(name)) {
      errors.push(structure(path, `expected ${fileName.name} as the key, found ${show(name)}`))
      continue
    }
    const entry = sideFileEntry.decode(u)
    if (E.isLeft(entry)) {
      errors.push(...report(path, entry.left))
      continue
    }
    files.set(name, checkSide(name, entry.right, lookup?.(name), errors))
  }
  return files
}

const checkSide = (name: string, entry: SideFileEntry, bytes: Uint8Array | undefined, errors: ModelError[]): Uint8Array | undefined => {
  const path = at('sideFiles', name)
  if (bytes === undefined) {
    errors.push(structure(path, `side file ${show(name)} was not found (it is looked up next to the model file)`))
    return undefined
  }
  if (bytes.length !== entry.bytes) {
    errors.push(structure(at(path, 'bytes'), `side file ${show(name)} should have ${entry.bytes} bytes, found ${bytes.length}`))
    return undefined
  }
  const sum = entry.fnv1a32 === undefined ? undefined : fnv1a32(bytes)
  if (sum !== undefined && sum !== entry.fnv1a32) {
    errors.push(structure(at(path, 'fnv1a32'), `side file ${show(name)} has checksum ${sum}, expected ${entry.fnv1a32}; it belongs to another version of this model`))
    return undefined
  }
  return bytes
}

/** Parameters without values reported one by one, each with its path; the rest are counted. */
const maxUnbound = 10

/**
 * Decodes `params` (and the `sideFiles` they use) into parameter values, matching each entry
 * against the Param nodes when the nodes decoded. Every problem is reported.
 */
export const decodeParams = (
  raw: unknown,
  rawSideFiles: unknown,
  lookup: SideLookup | undefined,
  nodes: DecodedNodes | undefined,
): E.Either<ModelError[], Record<string, Float64Array>> => {
  const errors: ModelError[] = []
  const files = sideFiles(rawSideFiles, lookup, errors)
  if (!isObject(raw)) return E.left([...errors, structure('params', `expected an object from parameter names to entries, found ${show(raw)}`)])
  const paramNodes = new Map<string, Param>()
  for (const n of nodes?.byId.values() ?? []) if (n._tag === 'Param' && !paramNodes.has(n.name)) paramNodes.set(n.name, n)
  const idOf = (n: Node): string => nodes?.where.get(n)?.id ?? '?'

  const values: Array<readonly [string, Float64Array]> = []
  // The side file of each parameter stored in one, for the running-variance check below.
  const sideOf = new Map<string, string>()
  for (const [name, u] of Object.entries(raw)) {
    const path = at('params', name)
    const decoded = paramEntry.decode(u)
    if (E.isLeft(decoded)) {
      errors.push(...report(path, decoded.left))
      continue
    }
    const entry = decoded.right
    const node = paramNodes.get(name)
    if (nodes !== undefined && node === undefined) {
      errors.push({ _tag: 'Network', path: '', error: { _tag: 'UnusedParameter', name } })
      continue
    }
    if (node !== undefined && showShape(node.type.shape) !== showShape(entry.shape)) {
      errors.push(structure(at(path, 'shape'), `expected ${showShape(node.type.shape)} to match node ${idOf(node)}, found ${showShape(entry.shape)}`))
      continue
    }
    const count = sizeOf(entry.shape)
    if ('values' in entry) {
      if (entry.values.length === count) values.push([name, entry.values])
      else errors.push(structure(at(path, 'values'), `expected ${count} values for shape ${showShape(entry.shape)}, found ${entry.values.length}`))
      continue
    }
    if (!files.has(entry.file)) {
      errors.push(structure(at(path, 'file'), `side file ${show(entry.file)} is not declared in sideFiles`))
      continue
    }
    const bytes = files.get(entry.file)
    if (bytes === undefined) continue // already reported under sideFiles
    const end = entry.offset + count * bytesPerValue
    if (end > bytes.length) {
      errors.push(structure(at(path, 'offset'), `${count} values at offset ${entry.offset} need bytes up to ${end}, but side file ${show(entry.file)} has ${bytes.length}`))
      continue
    }
    const xs = readFloat64le(bytes, entry.offset, count)
    const bad = xs.findIndex((x) => !Number.isFinite(x))
    if (bad >= 0) errors.push(structure(path, `side file ${show(entry.file)} holds ${xs[bad]} at index ${bad}; expected finite numbers`))
    else {
      values.push([name, xs])
      sideOf.set(name, entry.file)
    }
  }
  if (nodes !== undefined) errors.push(...negativeVariances(nodes, new Map(values), sideOf))

  // Param nodes nobody gave values to, reported at their node with typecheck's sentence. A path
  // is as long as the network is deep, so only the first few are drawn; the rest are counted.
  if (nodes !== undefined) {
    const pathOf = pathFinder(nodes.outputs)
    const unbound = [...paramNodes].filter(([name]) => !Object.hasOwn(raw, name))
    for (const [name, node] of unbound.slice(0, maxUnbound))
      errors.push({ _tag: 'Network', path: at('nodes', nodes.where.get(node)?.index ?? -1), error: { _tag: 'Unbound', kind: 'parameter', name, path: pathOf(node) } })
    if (unbound.length > maxUnbound)
      errors.push(structure('params', `${unbound.length - maxUnbound} more parameters have no values (${unbound.slice(maxUnbound, maxUnbound + 3).map(([n]) => show(n)).join(', ')}, …)`))
  }
  return errors.length > 0 ? E.left(errors) : E.right(Object.fromEntries(values))
}

/**
 * Batch-norm running variances given as parameters, checked for negative values (the first one
 * of each parameter is reported, with its index). A running variance computed by other nodes is
 * not known before evaluation and is not checked here.
 */
const negativeVariances = (
  nodes: DecodedNodes, values: ReadonlyMap<string, Float64Array>, sideOf: ReadonlyMap<string, string>,
): ModelError[] => {
  const errors: ModelError[] = []
  const seen = new Set<string>()
  for (const n of nodes.byId.values()) {
    if (n._tag !== 'BatchNorm' || n.runningVar._tag !== 'Param' || seen.has(n.runningVar.name)) continue
    const name = n.runningVar.name
    seen.add(name)
    const xs = values.get(name)
    const bad = xs?.findIndex((v) => v < 0) ?? -1
    if (xs === undefined || bad < 0) continue
    const where = nodes.where.get(n)
    const node = where === undefined ? 'a BatchNorm' : `the BatchNorm at ${at('nodes', where.index)}, id ${show(where.id)}`
    const expected = `a running variance ≥ 0 (runningVar of ${node})`
    const side = sideOf.get(name)
    errors.push(side === undefined
      ? structure(at(at(at('params', name), 'values'), bad), `expected ${expected}, found ${show(xs[bad])}`)
      : structure(at('params', name), `side file ${show(side)} holds ${show(xs[bad])} at index ${bad}; expected ${expected}`))
  }
  return errors
}
