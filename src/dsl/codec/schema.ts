/**
 * The io-ts codecs of the model file's structure: leaf values (finite numbers, dims, shapes,
 * noises, inits), one closed record per node op, and parameter entries. Each codec's name is the
 * expectation it checks ("a positive integer or \"batch\""), so `report` can say
 * `expected <name>, found <value>` at the JSON path io-ts tracks. Records are closed: an unknown
 * field is an error (a misspelt `trainble` must not be silently ignored).
 */
import * as t from 'io-ts'
import type { DType, Init, Shape, Tag } from '../node.js'
import { lossOps, unaryOps } from '../node.js'
import type { Noise } from '../noise.js'
import { noiseFamilies } from '../noise.js'
import { show } from './modelErrors.js'

// ---------------------------------------------------------------------------------------------
// Constructors of codecs

const isObject = (u: unknown): u is Readonly<Record<string, unknown>> =>
  typeof u === 'object' && u !== null && !Array.isArray(u)

/** A codec from a guard; `hint` may replace the default "expected …, found …" message. */
const leaf = <A>(name: string, is: (u: unknown) => u is A, hint: (u: unknown) => string | undefined = () => undefined) =>
  new t.Type<A, A, unknown>(name, is, (u, c) => (is(u) ? t.success(u) : t.failure(u, c, hint(u))), t.identity)

type Codecs = Readonly<Record<string, t.Mixed>>
export type Decoded<P extends Codecs, Q extends Codecs = Record<never, t.Mixed>> = { readonly [K in keyof P]: t.TypeOf<P[K]> } & {
  readonly [K in keyof Q]?: t.TypeOf<Q[K]>
}

/** A closed record: every `required` field, any `optional` one, nothing else. */
export const strict = <P extends Codecs, Q extends Codecs = Record<never, t.Mixed>>(
  name: string,
  required: P,
  optional: Q = {} as Q,
): t.Type<Decoded<P, Q>, unknown, unknown> => {
  const known = [...Object.keys(required), ...Object.keys(optional)]
  const validate = (u: unknown, c: t.Context): t.Validation<Decoded<P, Q>> => {
    if (!isObject(u)) return t.failure(u, c)
    const errors: t.ValidationError[] = []
    const out: Record<string, unknown> = {}
    const field = (key: string, codec: t.Mixed): void => {
      const r = codec.validate(u[key], t.appendContext(c, key, codec, u[key]))
      if (r._tag === 'Left') errors.push(...r.left)
      else out[key] = r.right
    }
    for (const [key, codec] of Object.entries(required)) field(key, codec)
    for (const [key, codec] of Object.entries(optional)) if (u[key] !== undefined) field(key, codec)
    for (const key of Object.keys(u)) {
      if (!known.includes(key))
        errors.push({ value: u[key], context: t.appendContext(c, key, t.unknown, u[key]), message: `unknown field; ${name} has only ${known.join(', ')}` })
    }
    return errors.length > 0 ? t.failures(errors) : t.success(out as Decoded<P, Q>)
  }
  return new t.Type<Decoded<P, Q>, unknown, unknown>(name, (u): u is Decoded<P, Q> => validate(u, [])._tag === 'Right', validate, t.identity)
}

/** One of a closed set of strings. */
export const oneOf = <S extends string>(values: readonly S[]) =>
  leaf(`one of ${values.map((v) => JSON.stringify(v)).join(', ')}`, (u): u is S => typeof u === 'string' && (values as readonly string[]).includes(u))

// ---------------------------------------------------------------------------------------------
// Leaf values

const nonFiniteHint = (u: unknown): string | undefined => {
  if (typeof u === 'number') return `expected a finite number, found ${u} (a numeric literal beyond the float64 range)`
  if (typeof u === 'string' && /^[+-]?(nan|inf|infinity)$/i.test(u)) return `expected a finite number, found ${show(u)} (JSON has no NaN or Infinity)`
  if (u === null) return 'expected a finite number, found null (JSON.stringify writes NaN and Infinity as null)'
  return undefined
}
export const finite = leaf('a finite number', (u): u is number => typeof u === 'number' && Number.isFinite(u), nonFiniteHint)
export const integer = leaf('an integer', (u): u is number => Number.isInteger(u))
export const natural = leaf('a non-negative integer', (u): u is number => Number.isInteger(u) && (u as number) >= 0)
export const nonEmpty = leaf('a non-empty string', (u): u is string => typeof u === 'string' && u.length > 0)
// Names and labels may be any string the DSL accepts (typecheck does not forbid an empty one).
export const text = leaf('a string', (u): u is string => typeof u === 'string')
export const nodeId = leaf('a node id (a non-empty string)', (u): u is string => typeof u === 'string' && u.length > 0)
export const bool = leaf('true or false', (u): u is boolean => typeof u === 'boolean')

const positive = (u: unknown): u is number => Number.isInteger(u) && (u as number) > 0
export const dim = leaf('a positive integer or "batch"', (u): u is number | 'batch' => u === 'batch' || positive(u))
export const shape: t.Type<Shape, Shape, unknown> = t.readonlyArray(dim, 'a shape (an array of positive integers and "batch")')
export const sizes: t.Type<readonly number[], readonly number[], unknown> = t.readonlyArray(
  leaf('a positive integer', positive),
  'a shape (an array of positive integers)',
)
export const pair = leaf(
  'a pair of integers [a, b]',
  (u): u is readonly [number, number] => Array.isArray(u) && u.length === 2 && u.every((x) => Number.isInteger(x)),
)
export const dtype = oneOf<DType>(['real', 'binary', 'index'])

/** A relative path below the model file's directory: no absolute paths, no `..`. */
export const fileName = leaf(
  'a relative file name without ".." (such as "model.bin")',
  (u): u is string =>
    typeof u === 'string' && u.length > 0 && !u.startsWith('/') && !u.includes('\\') && !/^[A-Za-z]:/.test(u) &&
    u.split('/').every((s) => s !== '' && s !== '.' && s !== '..'),
)

// Noise is written as showNoise prints it: `logistic(1)`, `uniform(0.5)`, `none`.
const jsonNumber = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/
const knownNoise = [...noiseFamilies, 'none'].join(', ')
const parseNoise = (u: unknown): Noise | string => {
  const expected = 'expected a noise such as "logistic(1)", "uniform(0.5)" or "none"'
  if (typeof u !== 'string') return `${expected}, found ${show(u)}`
  if (u === 'none') return { family: 'none' }
  const m = /^([A-Za-z_]\w*)(?:\((.*)\))?$/.exec(u)
  if (m === null) return `${expected}, found ${show(u)}`
  const family = noiseFamilies.find((f) => f === m[1])
  if (family === undefined) return `unknown noise family ${JSON.stringify(m[1])}; expected one of ${knownNoise}`
  if (m[2] === undefined || !jsonNumber.test(m[2])) return `expected ${family}(<scale>) with a number as the scale, found ${show(u)}`
  return { family, scale: Number(m[2]) }
}
export const noise = new t.Type<Noise, Noise, unknown>(
  'a noise',
  (u): u is Noise => typeof parseNoise(u) !== 'string',
  (u, c) => {
    const r = parseNoise(u)
    return typeof r === 'string' ? t.failure(u, c, r) : t.success(r)
  },
  t.identity,
)

// Init: a closed record per kind.
const initKinds = {
  zeros: {},
  ones: {},
  glorot: {},
  constant: { value: finite },
  normal: { std: finite },
  uniform: { low: finite, high: finite },
} as const satisfies { readonly [K in Init['kind']]: Codecs }
const initKindNames = Object.keys(initKinds) as Array<Init['kind']>
const initKind = oneOf(initKindNames)
export const init = new t.Type<Init, Init, unknown>(
  'an init such as {"kind": "glorot"}',
  (u): u is Init => isObject(u) && initKind.is(u.kind),
  (u, c) => {
    if (!isObject(u)) return t.failure(u, c)
    const kind = initKind.validate(u.kind, t.appendContext(c, 'kind', initKind, u.kind))
    if (kind._tag === 'Left') return kind
    return strict(`init "${kind.right}"`, { kind: initKind, ...initKinds[kind.right] }).validate(u, c) as t.Validation<Init>
  },
  t.identity,
)

// ---------------------------------------------------------------------------------------------
// Nodes: the fields of each op besides `id`, `op` and the optional `label`. Child fields hold ids
// of earlier nodes. The IR's `op` attribute (of Unary, Pool, Loss) is written `fn`, because
// `op` names the node's primitive.

export const nodeFields = {
  Input: { name: text, shape, dtype },
  Param: { name: text, shape, init, trainable: bool },
  Const: { value: finite },
  MatMul: { lhs: nodeId, rhs: nodeId },
  Add: { lhs: nodeId, rhs: nodeId },
  Mul: { lhs: nodeId, rhs: nodeId },
  Unary: { fn: oneOf(unaryOps), arg: nodeId },
  Conv2d: { input: nodeId, kernel: nodeId, stride: pair, padding: pair, padValue: finite },
  Pool: { fn: oneOf(['max', 'avg'] as const), input: nodeId, window: pair, stride: pair },
  Reshape: { input: nodeId, shape },
  BatchNorm: {
    input: nodeId, gamma: nodeId, beta: nodeId, runningMean: nodeId, runningVar: nodeId,
    mode: oneOf(['train', 'inference'] as const), eps: finite, momentum: finite,
  },
  Binarize: { input: nodeId, noise, site: nonEmpty },
  Loss: { fn: oneOf(lossOps), logits: nodeId, target: nodeId },
} as const satisfies { readonly [K in Tag]: Codecs }

/** The decoded fields of a node of op K. */
export type NodeRecord<K extends Tag> = Decoded<(typeof nodeFields)[K]> & { readonly id: string; readonly op: K; readonly label?: string }

const nodeCodecs = Object.fromEntries(
  Object.entries(nodeFields).map(([op, fields]) => [op, strict(`a ${op} node`, { id: nodeId, op: t.literal(op), ...fields }, { label: text })]),
) as unknown as { readonly [K in Tag]: t.Type<NodeRecord<K>, unknown, unknown> }

/** The codec of a node with the given op. */
export const nodeCodec = <K extends Tag>(op: K): t.Type<NodeRecord<K>, unknown, unknown> => nodeCodecs[op]

// ---------------------------------------------------------------------------------------------
// Parameter entries and side files

export const values = new t.Type<Float64Array, readonly number[], unknown>(
  'an array of finite numbers',
  (u): u is Float64Array => u instanceof Float64Array,
  (u, c) => {
    if (!Array.isArray(u)) return t.failure(u, c)
    const out = new Float64Array(u.length)
    const errors: t.ValidationError[] = []
    let bad = 0
    for (let i = 0; i < u.length; i++) {
      const v: unknown = u[i]
      if (typeof v === 'number' && Number.isFinite(v)) out[i] = v
      else if (++bad <= 3) errors.push({ value: v, context: t.appendContext(c, String(i), finite, v), message: nonFiniteHint(v) ?? `expected a finite number, found ${show(v)}` })
    }
    if (bad > 3) errors.push({ value: u, context: c, message: `${bad - 3} more values are not finite numbers` })
    return errors.length > 0 ? t.failures(errors) : t.success(out)
  },
  (a) => Array.from(a),
)

export const inlineParam = strict('a parameter entry with values', { shape: sizes, values })
export const sideParam = strict('a parameter entry in a side file', {
  shape: sizes,
  file: fileName,
  offset: natural,
  encoding: oneOf(['float64le'] as const),
})
export type InlineParam = t.TypeOf<typeof inlineParam>
export type SideParam = t.TypeOf<typeof sideParam>

/** `{shape, values}` inline, or `{shape, file, offset, encoding}` in a side file. */
export const paramEntry = new t.Type<InlineParam | SideParam, unknown, unknown>(
  'a parameter entry {"shape", "values"} or {"shape", "file", "offset", "encoding"}',
  (u): u is InlineParam | SideParam => inlineParam.is(u) || sideParam.is(u),
  (u, c) => {
    if (isObject(u) && 'values' in u) return inlineParam.validate(u, c)
    if (isObject(u) && 'file' in u) return sideParam.validate(u, c)
    return t.failure(u, c)
  },
  t.identity,
)

export const sideFileEntry = strict('a side file entry', { bytes: natural }, {
  fnv1a32: leaf('8 lowercase hex digits', (u): u is string => typeof u === 'string' && /^[0-9a-f]{8}$/.test(u)),
})
export type SideFileEntry = t.TypeOf<typeof sideFileEntry>
