/**
 * Fusion rules: which `binarize(chain(product))` patterns become one kernel.
 *
 * A binarize with a per-example input fuses with the product below it (a MatMul or Conv2d of
 * ±1 operands, or of 8-bit input planes) when every op in between is elementwise, monotone and
 * per-unit constant:
 *
 * - `add(v, c)`, `mul(v, c)` (either operand order) with c constant and varying only along the
 *   unit axis (the last axis of a dense output, the channel axis of a convolution);
 * - `batchNorm(v)` in inference mode with constant statistics;
 * - `unary(op, v)` for every op but `abs` (the only non-monotone one).
 *
 * The result is one float64 function per unit, a_j(dot), evaluated with exactly the reference's
 * arithmetic (`reference/ops.ts`, `reference/spatial.ts`), which `fuseEpilogue.ts` turns into
 * integer thresholds. Anything else is not fused, and the plan says why.
 */
import type { BatchNorm, Node } from '../../dsl/node.js'
import { unaryFn } from '../reference/ops.js'
import type { UnitFn } from './fuseEpilogue.js'

/** A constant node's value (the caller's constant folder), or undefined if it is not constant. */
export type ConstOf = (n: Node) => Float64Array | undefined

/** One op of a fusable chain as a function of (unit, value). */
type ChainOp = (unit: number, a: number) => number

export interface Chain {
  /** The MatMul or Conv2d at the bottom of the chain. */
  readonly product: Node
  /** a_j(dot) per unit. */
  readonly units: readonly UnitFn[]
}

/**
 * The per-unit value of a constant of shape `shape` broadcast against an output whose unit axis
 * is `axis` of `rank` axes, or undefined when it varies along another axis.
 */
const perUnit = (value: Float64Array, shape: readonly (number | 'batch')[], rank: number, axis: number, units: number): ((u: number) => number) | undefined => {
  if (shape.length > rank) return undefined
  for (let i = 0; i < shape.length; i++) {
    const outAxis = rank - shape.length + i
    const d = shape[i]
    if (outAxis === axis) {
      if (d !== 1 && d !== units) return undefined
    } else if (d !== 1) return undefined
  }
  const along = shape.length > 0 && shape[shape.length - (rank - axis)] === units && units !== 1
  return along ? (u) => value[u]! : () => value[0]!
}

const bnOp = (n: BatchNorm, constOf: ConstOf): ChainOp | undefined => {
  if (n.mode !== 'inference') return undefined
  const [g, b, m, v] = [n.gamma, n.beta, n.runningMean, n.runningVar].map(constOf)
  if (g === undefined || b === undefined || m === undefined || v === undefined) return undefined
  // The reference's expression, term for term: (γ(x − μ))/√(σ² + ε) + β.
  return (u, x) => (g[u]! * (x - m[u]!)) / Math.sqrt(v[u]! + n.eps) + b[u]!
}

/** The default bottom of a chain: a product. */
const isProduct = (n: Node): boolean => n._tag === 'MatMul' || n._tag === 'Conv2d'

/**
 * Walks down from a binarize's input through fusable ops to a product. `rank` and `axis`
 * describe the output (2 and 1 for dense [batch, N], 4 and 1 for NCHW convolutions).
 * Returns the chain, or the reason it stops. `isBottom` may stop the walk at other nodes too
 * (the exporter stops at max-pooling, see src/export/deploy.ts).
 */
export const fusableChain = (top: Node, constOf: ConstOf, isBottom: (n: Node) => boolean = isProduct): Chain | string => {
  const ops: ChainOp[] = []
  let n = top
  for (;;) {
    if (isBottom(n)) break
    const rank = n.type.shape.length
    const units = n.type.shape[1]
    if (typeof units !== 'number' || n.type.shape[0] !== 'batch') return `${n._tag} has no per-example unit axis`
    const axis = 1
    if (n._tag === 'Add' || n._tag === 'Mul') {
      const [c, v] = constOf(n.rhs) !== undefined ? [n.rhs, n.lhs] : [n.lhs, n.rhs]
      const value = constOf(c)
      if (value === undefined) return `${n._tag} of two non-constant operands`
      const at = perUnit(value, c.type.shape, rank, rank === 2 ? 1 : axis, units)
      if (at === undefined) return `${n._tag} by a constant that varies along a non-unit axis`
      const rhsIsConst = c === n.rhs
      // Operand order as in the reference (a + b, a * b), though both are commutative in IEEE.
      ops.push(n._tag === 'Add'
        ? (rhsIsConst ? (u, a) => a + at(u) : (u, a) => at(u) + a)
        : (rhsIsConst ? (u, a) => a * at(u) : (u, a) => at(u) * a))
      n = v
    } else if (n._tag === 'BatchNorm') {
      const op = bnOp(n, constOf)
      if (op === undefined) return n.mode === 'train' ? 'batch norm in training mode uses batch statistics' : 'batch norm with non-constant statistics'
      ops.push(op)
      n = n.input
    } else if (n._tag === 'Unary') {
      if (n.op === 'abs') return 'abs is not monotone'
      const f = unaryFn[n.op]
      ops.push((_, a) => f(a))
      n = n.arg
    } else return `${n._tag} cannot be fused`
  }
  const product = n
  const units = product.type.shape[1]
  if (typeof units !== 'number') return 'the product has no unit axis'
  // ops were collected top-down; apply bottom-up.
  const chain = ops.slice().reverse()
  const fns: UnitFn[] = []
  for (let u = 0; u < units; u++)
    fns.push((dot) => {
      let a = dot
      for (const op of chain) a = op(u, a)
      return a
    })
  return { product, units: fns }
}
