/**
 * Encoding a checked network as a model file. The text is canonical: nodes in the fold's
 * topological order (children first, each shared node once), ids derived from names and labels,
 * parameters in the order their nodes appear, one node or parameter per line.
 */
import type { Checked, Init, Network, Node, NodeOf, Tag } from '../node.js'
import { showNoise } from '../noise.js'
import { topoOrder } from '../fold.js'
import { fileName } from './schema.js'
import type { Json } from './text.js'
import { bytesPerValue, fnv1a32, inline, valuesText, writeFloat64le } from './text.js'

/** The `format` field of files this version writes and reads. */
export const formatVersion = 'sbnkit-model/1'

export interface EncodeOptions {
  /**
   * A side file for large parameters, as a path relative to the model file (`model.bin`).
   * Parameters with more than `threshold` values are stored there as little-endian float64.
   */
  readonly sideFile?: string
  /** The largest number of values kept inline in the JSON when `sideFile` is set (default 1024). */
  readonly threshold?: number
}

export interface Encoded {
  readonly json: string
  /** The bytes of `sideFile`, present only when some parameter went there. */
  readonly side?: Uint8Array
}

/** Threshold used when a side file is requested without one. */
export const defaultThreshold = 1024

type Fields = { readonly [key: string]: Json }
type Ref = (n: Node) => string

const initJson = (i: Init): Fields => {
  switch (i.kind) {
    case 'constant':
      return { kind: i.kind, value: i.value }
    case 'normal':
      return { kind: i.kind, std: i.std }
    case 'uniform':
      return { kind: i.kind, low: i.low, high: i.high }
    default:
      return { kind: i.kind }
  }
}

// The fields of each op after `id` and `op`, in the order of `nodeFields` in schema.ts.
const encodeRules: { readonly [K in Tag]: (n: NodeOf<K>, ref: Ref) => Fields } = {
  Input: (n) => ({ name: n.name, shape: n.type.shape, dtype: n.type.dtype }),
  Param: (n) => ({ name: n.name, shape: n.type.shape, init: initJson(n.init), trainable: n.trainable }),
  Const: (n) => ({ value: n.value }),
  MatMul: (n, ref) => ({ lhs: ref(n.lhs), rhs: ref(n.rhs) }),
  Add: (n, ref) => ({ lhs: ref(n.lhs), rhs: ref(n.rhs) }),
  Mul: (n, ref) => ({ lhs: ref(n.lhs), rhs: ref(n.rhs) }),
  Unary: (n, ref) => ({ fn: n.op, arg: ref(n.arg) }),
  Conv2d: (n, ref) => ({ input: ref(n.input), kernel: ref(n.kernel), stride: n.stride, padding: n.padding, padValue: n.padValue }),
  Pool: (n, ref) => ({ fn: n.op, input: ref(n.input), window: n.window, stride: n.stride }),
  Reshape: (n, ref) => ({ input: ref(n.input), shape: n.shape }),
  BatchNorm: (n, ref) => ({
    input: ref(n.input), gamma: ref(n.gamma), beta: ref(n.beta), runningMean: ref(n.runningMean), runningVar: ref(n.runningVar),
    mode: n.mode, eps: n.eps, momentum: n.momentum,
  }),
  Binarize: (n, ref) => ({ input: ref(n.input), noise: showNoise(n.noise), site: n.site }),
  Loss: (n, ref) => ({ fn: n.op, logits: ref(n.logits), target: ref(n.target) }),
}

/**
 * Readable, unique ids: an input or parameter is called by its name, a labelled node by its
 * label, any other node (or an empty name) `<op><k>` (`matmul3`, the third MatMul); a clash gets
 * `#2`, `#3`, … appended.
 */
export const nodeIds = (order: readonly Node[]): Map<Node, string> => {
  const ids = new Map<Node, string>()
  const used = new Set<string>()
  const counts = new Map<Tag, number>()
  for (const n of order) {
    const k = (counts.get(n._tag) ?? 0) + 1
    counts.set(n._tag, k)
    const named = n._tag === 'Input' || n._tag === 'Param' ? n.name : n.label
    const base = named === undefined || named === '' ? `${n._tag.toLowerCase()}${k}` : named
    let id = base
    for (let i = 2; used.has(id); i++) id = `${base}#${i}`
    used.add(id)
    ids.set(n, id)
  }
  return ids
}

/**
 * Encodes a checked network as canonical model-file text, with large parameters in a side file
 * when `opts.sideFile` is set. `decodeModel` of the result gives back an equal network whose
 * encoding is the same text (the round-trip law).
 *
 * Throws a `RangeError` if `opts.sideFile` is not a relative file name without `..` (a
 * programming error; `writeModelFile` checks the name and returns an error value instead).
 *
 * @example
 * const { json } = encodeModel(checked)
 */
export const encodeModel = (net: Checked<Network>, opts: EncodeOptions = {}): Encoded => {
  if (opts.sideFile !== undefined && !fileName.is(opts.sideFile))
    throw new RangeError(`encodeModel: sideFile must be ${fileName.name}, found ${JSON.stringify(opts.sideFile)}`)
  const order = topoOrder(Object.values(net.outputs))
  const ids = nodeIds(order)
  const ref: Ref = (n) => ids.get(n) ?? '?'
  const nodeLines = order.map((n) => {
    const rule = encodeRules[n._tag] as (n: Node, ref: Ref) => Fields
    const fields: Fields = { id: ref(n), op: n._tag, ...rule(n, ref), ...(n.label === undefined ? {} : { label: n.label }) }
    return `    ${inline(fields)}`
  })
  const outputs: Fields = Object.fromEntries(Object.entries(net.outputs).map(([name, n]) => [name, ref(n)]))

  // Parameters, in the order their (first) nodes appear; large ones go to the side file.
  const params = new Map<string, readonly number[]>()
  for (const n of order) if (n._tag === 'Param' && !params.has(n.name)) params.set(n.name, n.type.shape as readonly number[])
  const threshold = opts.threshold ?? defaultThreshold
  const regions: Array<{ readonly name: string; readonly offset: number; readonly values: Float64Array }> = []
  let bytes = 0
  const paramLines = [...params].map(([name, shape]) => {
    const values = net.params[name] ?? new Float64Array(0)
    const key = `    ${JSON.stringify(name)}: `
    if (opts.sideFile !== undefined && values.length > threshold) {
      regions.push({ name, offset: bytes, values })
      const entry = inline({ shape, file: opts.sideFile, offset: bytes, encoding: 'float64le' })
      bytes += values.length * bytesPerValue
      return key + entry
    }
    return `${key}{"shape": ${inline(shape)}, "values": ${valuesText(values, '    ')}}`
  })

  const side = regions.length > 0 ? new Uint8Array(bytes) : undefined
  for (const r of regions) if (side !== undefined) writeFloat64le(side, r.offset, r.values)
  const block = (lines: readonly string[]): string => (lines.length === 0 ? '{}' : `{\n${lines.join(',\n')}\n  }`)
  const sections = [
    `  "format": ${JSON.stringify(formatVersion)}`,
    `  "nodes": [\n${nodeLines.join(',\n')}\n  ]`,
    `  "outputs": ${inline(outputs)}`,
    `  "params": ${block(paramLines)}`,
    ...(side === undefined || opts.sideFile === undefined
      ? []
      : [`  "sideFiles": ${inline({ [opts.sideFile]: { bytes: side.length, fnv1a32: fnv1a32(side) } })}`]),
  ]
  const json = `{\n${sections.join(',\n')}\n}\n`
  return side === undefined ? { json } : { json, side }
}

