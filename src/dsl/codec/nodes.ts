/**
 * Decoding the `nodes` and `outputs` of a model file into IR nodes, in three steps:
 * structure (each node object against the io-ts codec of its op), links (every child field names
 * an earlier node: no unknown ids, no forward or self references, so no cycles), and building
 * (the constructors of `primitives.ts`, so each node's type is computed exactly as in code).
 * Each id becomes one node object, so a node used twice in the file is one shared node.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Node, Tag } from '../node.js'
import { childRoles, tags } from '../node.js'
import {
  add, batchNormalization, binarize, constant, conv2d, input, labelled, loss, matmul, mul, param, pool, reshape, unary,
} from '../primitives.js'
import { topoOrder } from '../fold.js'
import type { ModelError } from './modelErrors.js'
import { at, report, show, structure } from './modelErrors.js'
import type { NodeRecord } from './schema.js'
import { nodeCodec } from './schema.js'

export interface DecodedNodes {
  readonly outputs: Readonly<Record<string, Node>>
  /** Node by id, and the index in `nodes` and id of each node (for error paths). */
  readonly byId: ReadonlyMap<string, Node>
  readonly where: ReadonlyMap<Node, { readonly index: number; readonly id: string }>
}

type AnyRecord = NodeRecord<Tag>
type Get = (id: string) => Node

// One constructor call per op: the decoder's rule table.
const buildRules: { readonly [K in Tag]: (r: NodeRecord<K>, get: Get) => Node } = {
  Input: (r) => input(r.name, r.shape, r.dtype),
  Param: (r) => param(r.name, r.shape, r.init, r.trainable),
  Const: (r) => constant(r.value),
  MatMul: (r, get) => matmul(get(r.lhs), get(r.rhs)),
  Add: (r, get) => add(get(r.lhs), get(r.rhs)),
  Mul: (r, get) => mul(get(r.lhs), get(r.rhs)),
  Unary: (r, get) => unary(r.fn, get(r.arg)),
  Conv2d: (r, get) => conv2d(get(r.input), get(r.kernel), { stride: r.stride, padding: r.padding, padValue: r.padValue }),
  Pool: (r, get) => pool(r.fn, get(r.input), r.window, r.stride),
  Reshape: (r, get) => reshape(get(r.input), r.shape),
  BatchNorm: (r, get) =>
    batchNormalization(
      get(r.input),
      { gamma: get(r.gamma), beta: get(r.beta), runningMean: get(r.runningMean), runningVar: get(r.runningVar) },
      r.mode, r.eps, r.momentum,
    ),
  Binarize: (r, get) => binarize(get(r.input), r.noise, r.site),
  Loss: (r, get) => loss(r.fn, get(r.logits), get(r.target)),
}

const isObject = (u: unknown): u is Readonly<Record<string, unknown>> => typeof u === 'object' && u !== null && !Array.isArray(u)
const isTag = (u: unknown): u is Tag => typeof u === 'string' && (tags as readonly string[]).includes(u)
const refsOf = (r: AnyRecord): Array<readonly [string, string]> => {
  const fields = r as unknown as Readonly<Record<string, string>>
  return (childRoles[r.op] as readonly string[]).map((role) => [role, fields[role] ?? ''] as const)
}

/** Step 1: each element against its op's codec. Returns the records (undefined where invalid). */
const decodeRecords = (raw: readonly unknown[], errors: ModelError[]): Array<AnyRecord | undefined> =>
  raw.map((u, i) => {
    const path = at('nodes', i)
    if (!isObject(u)) {
      errors.push(structure(path, `expected a node object {"id", "op", …}, found ${show(u)}`))
      return undefined
    }
    if (!isTag(u.op)) {
      const known = tags.join(', ')
      errors.push(structure(at(path, 'op'), typeof u.op === 'string' ? `unknown op ${show(u.op)}; expected one of ${known}` : `expected one of ${known}, found ${show(u.op)}`))
      return undefined
    }
    const r = nodeCodec(u.op).decode(u)
    if (E.isLeft(r)) errors.push(...report(path, r.left))
    return E.isRight(r) ? (r.right as AnyRecord) : undefined
  })

/**
 * A chain of ids from `from` back to `to` through child fields, if one exists (a cycle): a
 * depth-first search that keeps one parent per id, so it is linear in the file even when the
 * cycle is 100 000 nodes long.
 */
const chain = (graph: ReadonlyMap<string, readonly string[]>, from: string, to: string): readonly string[] | undefined => {
  const parent = new Map<string, string | undefined>([[from, undefined]])
  const stack = [from]
  while (stack.length > 0) {
    const last = stack.pop()!
    if (last === to) {
      const trail: string[] = []
      for (let x: string | undefined = last; x !== undefined; x = parent.get(x)) trail.push(x)
      return trail.reverse()
    }
    for (const next of graph.get(last) ?? []) if (!parent.has(next)) { parent.set(next, last); stack.push(next) }
  }
  return undefined
}

/** A cycle as `a → b → … → a`, its middle cut when it is long. */
const showCycle = (ids: readonly string[]): string =>
  (ids.length <= 12 ? ids : [...ids.slice(0, 6), `… (${ids.length - 11} more) …`, ...ids.slice(-5)]).join(' → ')

/** Forward references reported one by one (each searched for a cycle); the rest are counted. */
const maxForward = 10

/** Step 2: ids are unique and every child field names an earlier node. */
const link = (raw: readonly unknown[], records: ReadonlyArray<AnyRecord | undefined>, errors: ModelError[]): Map<string, number> => {
  const index = new Map<string, number>()
  raw.forEach((u, i) => {
    const id = isObject(u) ? u.id : undefined
    if (typeof id !== 'string' || id === '') return
    const first = index.get(id)
    if (first === undefined) index.set(id, i)
    else errors.push(structure(at(at('nodes', i), 'id'), `duplicate id ${show(id)} (first used at nodes[${first}])`))
  })
  const graph = new Map(records.flatMap((r) => (r === undefined ? [] : [[r.id, refsOf(r).map(([, id]) => id)] as const])))
  let forward = 0
  records.forEach((r, i) => {
    if (r === undefined) return
    for (const [role, target] of refsOf(r)) {
      const path = at(at('nodes', i), role)
      const j = index.get(target)
      if (target === r.id) errors.push(structure(path, `node ${show(r.id)} refers to itself (a cycle)`))
      else if (j === undefined) errors.push(structure(path, `node ${show(r.id)} refers to ${show(target)}, which is not a node id`))
      else if (j > i && ++forward <= maxForward) {
        const cycle = chain(graph, target, r.id)
        errors.push(structure(path, cycle === undefined
          ? `node ${show(r.id)} refers to ${show(target)}, which comes later (nodes[${j}]); list every node after the nodes it uses`
          : `node ${show(r.id)} is part of a cycle: ${showCycle([r.id, ...cycle])}`))
      }
    }
  })
  if (forward > maxForward)
    errors.push(structure('nodes', `${forward - maxForward} more child fields refer to nodes that come later; list every node after the nodes it uses`))
  return index
}

/** Step 3 (only on a structurally valid file): build the nodes and resolve the outputs. */
const build = (records: readonly AnyRecord[], rawOutputs: Readonly<Record<string, string>>, errors: ModelError[]): DecodedNodes => {
  const byId = new Map<string, Node>()
  const where = new Map<Node, { index: number; id: string }>()
  const get: Get = (id) => byId.get(id) as Node
  records.forEach((r, index) => {
    const rule = buildRules[r.op] as (r: AnyRecord, get: Get) => Node
    const built = rule(r, get)
    const node = r.label === undefined ? built : labelled(built, r.label)
    byId.set(r.id, node)
    where.set(node, { index, id: r.id })
  })
  const outputs = Object.fromEntries(Object.entries(rawOutputs).map(([name, id]) => [name, get(id)]))
  const used = new Set(topoOrder(Object.values(outputs)))
  for (const [node, w] of where)
    if (!used.has(node)) errors.push(structure(at('nodes', w.index), `node ${show(w.id)} is not used by any output`))
  return { outputs, byId, where }
}

/** Decodes `nodes` and `outputs`; every structural and link error is reported, not just the first. */
export const decodeNodes = (rawNodes: unknown, rawOutputs: unknown): E.Either<ModelError[], DecodedNodes> => {
  const errors: ModelError[] = []
  if (!Array.isArray(rawNodes)) return E.left([structure('nodes', `expected an array of node objects, found ${show(rawNodes)}`)])
  const records = decodeRecords(rawNodes, errors)
  const index = link(rawNodes, records, errors)
  const outputs: Record<string, string> = {}
  if (!isObject(rawOutputs)) errors.push(structure('outputs', `expected an object from output names to node ids, found ${show(rawOutputs)}`))
  else {
    for (const [name, id] of Object.entries(rawOutputs)) {
      if (typeof id !== 'string') errors.push(structure(at('outputs', name), `expected a node id, found ${show(id)}`))
      else if (!index.has(id)) errors.push(structure(at('outputs', name), `refers to ${show(id)}, which is not a node id`))
      else Object.defineProperty(outputs, name, { value: id, enumerable: true })
    }
  }
  if (errors.length > 0) return E.left(errors)
  const decoded = build(records as AnyRecord[], outputs, errors)
  return errors.length > 0 ? E.left(errors) : E.right(decoded)
}
