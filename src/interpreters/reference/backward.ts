/**
 * Reverse-mode differentiation over the IR: one vector–Jacobian rule per primitive, written
 * once and shared by the exact interpreter and every gradient estimator. The rule of `Binarize`
 * is the only one that differs between estimators, so the caller passes it.
 */
import type { Binarize, Node, Tag, NodeOf } from '../../dsl/node.js'
import { children } from '../../dsl/node.js'
import { topoOrder } from '../../dsl/fold.js'
import type { NDArray } from '../ndarray.js'
import type { Evaluation } from './forward.js'
import * as ops from './ops.js'
import * as spatial from './spatial.js'
import { conv2dBackwardRows, matmulTNRows } from './rowParts.js'
import { unbroadcast, unbroadcastRows } from './unbroadcast.js'
import { hasBatch } from '../../dsl/shape.js'

/** Gradient with respect to a binarize node's input, given the gradient at its output (or none). */
export type BinarizeBackward = (node: Binarize, input: NDArray, output: NDArray, gOut: NDArray) => NDArray | undefined

export interface Seeds {
  /** Per-example weights of the loss nodes to differentiate (the mean loss has weights 1/N). */
  readonly loss?: ReadonlyMap<Node, Float64Array>
  /** Extra gradients injected at any node (e.g. a score-function term at a site's input). */
  readonly at?: ReadonlyMap<Node, NDArray>
}

type Vjp<K extends Tag> = (
  node: NodeOf<K>, arg: (role: string) => NDArray, out: NDArray, g: NDArray, ev: Evaluation, needs: (role: string) => boolean,
) => ReadonlyArray<readonly [string, NDArray]>

const hadamard = ops.mul

/** Whether the gradient of `child` sums over the batch axis of `node` (a parameter without one). */
const acrossRows = (node: Node, child: Node): boolean => hasBatch(node.type.shape) && !hasBatch(child.type.shape)

/** Whether the sum over parts of `child`'s gradient is completed at the pass's end (`RowParts.later`): nobody reads it before. */
const deferred = (child: Node, rows: ops.RowParts): boolean => rows.later !== undefined && rows.deferrable?.has(child) === true

/** The sum over parts of `child`'s gradient: `rows.later` when `deferred`, else `rows.sum`. */
const sumFor = (child: Node, rows: ops.RowParts): ops.RowParts['sum'] => (deferred(child, rows) ? rows.later! : rows.sum)

/** `unbroadcast`, per part and in part order where it sums over the rows of a pass that holds parts. */
const unbroadcastTo = (node: Node, child: Node, g: NDArray, s: readonly number[], ev: Evaluation): NDArray =>
  ev.products.rows !== undefined && acrossRows(node, child) ? unbroadcastRows(g, s, ev.products.rows, sumFor(child, ev.products.rows)) : unbroadcast(g, s)

/** The vector–Jacobian rules; Loss and Binarize are seeded by the caller. */
const vjpRules: { readonly [K in Tag]: Vjp<K> } = {
  Input: () => [],
  Param: () => [],
  Const: () => [],
  // The products for a data input or a constant are skipped: nobody reads those gradients.
  MatMul: (n, arg, __, g, ev, needs) => [
    ...(needs('lhs') ? [['lhs', ev.products.matmulNT(g, arg('rhs'))] as const] : []),
    ...(needs('rhs')
      ? [['rhs', ev.products.rows !== undefined && acrossRows(n, n.rhs) ? matmulTNRows(arg('lhs'), g, ev.products, ev.products.rows, deferred(n.rhs, ev.products.rows)) : ev.products.matmulTN(arg('lhs'), g)] as const]
      : []),
  ],
  Add: (n, arg, __, g, ev) => [['lhs', unbroadcastTo(n, n.lhs, g, arg('lhs').shape, ev)], ['rhs', unbroadcastTo(n, n.rhs, g, arg('rhs').shape, ev)]],
  Mul: (n, arg, __, g, ev) => [
    ['lhs', unbroadcastTo(n, n.lhs, hadamard(g, arg('rhs')), arg('lhs').shape, ev)],
    ['rhs', unbroadcastTo(n, n.rhs, hadamard(g, arg('lhs')), arg('rhs').shape, ev)],
  ],
  Unary: (n, arg, __, g) => {
    const x = arg('arg')
    const d = ops.unaryDeriv[n.op]
    const out = new Float64Array(g.data.length)
    for (let i = 0; i < out.length; i++) out[i] = g.data[i]! * d(x.data[i]!)
    return [['arg', { shape: x.shape, data: out }]]
  },
  Conv2d: (n, arg, __, g, ev, needs) => {
    if (ev.products.rows !== undefined) {
      const r = conv2dBackwardRows(arg('input'), arg('kernel'), g, n.stride, n.padding, n.padValue, ev.products, needs('input'), ev.products.rows, sumFor(n.kernel, ev.products.rows))
      return [['input', r.input], ['kernel', r.kernel]]
    }
    const r = spatial.conv2dBackward(arg('input'), arg('kernel'), g, n.stride, n.padding, n.padValue, ev.products, ev.patches.get(n), needs('input'))
    return [['input', r.input], ['kernel', r.kernel]]
  },
  Pool: (n, arg, __, g, ev) => [['input', spatial.poolBackward(n.op, arg('input'), g, ev.argmax.get(n)!, n.window, n.stride, ev.products.alloc)]],
  Reshape: (_, arg, __, g) => [['input', { shape: arg('input').shape, data: g.data }]],
  BatchNorm: (n, arg, __, g, ev) => {
    const stats = ev.bnStats.get(n)!
    const values = { gamma: arg('gamma'), beta: arg('beta'), mean: stats.mean, variance: stats.variance }
    const r = spatial.batchNormBackward(arg('input'), values, n.eps, g, n.mode === 'train', ev.products.alloc, ev.products.rows)
    return [['input', r.input], ['gamma', r.gamma], ['beta', r.beta]]
  },
  Binarize: () => [],
  Loss: () => [],
}

/**
 * Adds `g` into node's gradient. A rule's result may alias another array (Add passes g through,
 * Reshape reuses it), so the first gradient is kept by reference and copied only when a second
 * one is added (into a fresh array: prev + g, the same sum as before); `owned` marks the copies.
 */
const accumulate = (grads: Map<Node, NDArray>, node: Node, g: NDArray, owned: Set<Node>): void => {
  const prev = grads.get(node)
  if (prev === undefined) { grads.set(node, g); return }
  if (owned.has(node)) {
    const P = prev.data
    const G = g.data
    for (let i = 0; i < G.length; i++) P[i]! += G[i]!
    return
  }
  const sum = new Float64Array(g.data.length)
  for (let i = 0; i < sum.length; i++) sum[i] = prev.data[i]! + g.data[i]!
  grads.set(node, { shape: prev.shape, data: sum })
  owned.add(node)
}

/**
 * Gradients of Σ_loss Σ_e weight_e · loss_e (plus the injected seeds) with respect to every
 * node below `roots`; read parameters' gradients off their Param nodes.
 */
export const backward = (
  ev: Evaluation, roots: readonly Node[], seeds: Seeds, binarizeBackward: BinarizeBackward,
  order: readonly Node[] = topoOrder(roots, ev.cut),
): Map<Node, NDArray> => {
  const grads = new Map<Node, NDArray>()
  const owned = new Set<Node>()
  for (const [node, g] of seeds.at ?? []) accumulate(grads, node, g, owned)
  const value = (n: Node): NDArray => ev.values.get(n)!
  for (let i = order.length - 1; i >= 0; i--) {
    const node = order[i]!
    if (node._tag === 'Loss') {
      const w = seeds.loss?.get(node)
      if (w !== undefined) accumulate(grads, node.logits, ops.lossGrad(node.op, value(node.logits), value(node.target), w), owned)
      continue
    }
    const g = grads.get(node)
    if (g === undefined || ev.cut.has(node)) continue
    if (node._tag === 'Binarize') {
      const gi = binarizeBackward(node, value(node.input), value(node), g)
      if (gi !== undefined) accumulate(grads, node.input, gi, owned)
      continue
    }
    const kids = new Map(children(node))
    const rule = vjpRules[node._tag] as Vjp<Tag>
    const needs = (role: string): boolean => {
      const child = kids.get(role)
      return child !== undefined && child._tag !== 'Const' && child._tag !== 'Input'
    }
    for (const [role, gc] of rule(node as never, (r) => value(kids.get(r)!), value(node), g, ev, needs)) {
      if (needs(role)) accumulate(grads, kids.get(role)!, gc, owned)
    }
  }
  return grads
}

/** Mean-loss weights (1/N per example) for a batch of N. */
export const meanWeights = (n: number): Float64Array => new Float64Array(n).fill(1 / n)
