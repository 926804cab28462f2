/**
 * Type-level shapes of the composites in `../composites.ts`. A composite's type is the twin of
 * the primitive that can fail inside it, applied to the operands the composite builds at run
 * time: `dense(u)` on x builds W of shape [x[1], u], so its check is `MatMulShape<X, [X[1], u]>`.
 * Each verdict is already prefixed by its op (`MatMul: …`), ready for `Guard`.
 */
import type { Dim, Shape } from '../node.js'
import type { Product } from './arith.js'
import type { BatchNormShape, Complaint, Conv2dShape, LossShape, MatMulShape, PoolShape } from './shapes.js'

/** Axis 1 of a shape, the features or channels a layer sizes its parameters by; 1 if absent. */
// FeaturesOf<X>: the runtime `typeof x[1] === 'number' ? x[1] : 1` of the composites.
export type FeaturesOf<X extends Shape> = X extends readonly [unknown, infer C extends number, ...unknown[]]
  ? C
  : number extends X['length'] ? number : 1

/** The prefixed verdict of `dense(units)` on X: the product x·W with W of shape [x[1], units]. */
export type DenseShape<X extends Shape, U extends number> = Complaint<MatMulShape<X, [FeaturesOf<X>, U]>, 'MatMul'>

/** The prefixed verdict of `conv(filters, k, opts)` on X, with a kernel [filters, x[1], k, k]. */
export type ConvShape<X extends Shape, F extends number, K extends number, St extends number, P extends number> = Complaint<
  Conv2dShape<X, [F, FeaturesOf<X>, K, K], [St, St], [P, P]>,
  'Conv2d'
>

/** The prefixed verdict of `maxPool(w, s)` and `avgPool(w, s)` on X. */
export type PoolLayerShape<X extends Shape, W extends number, St extends number> = Complaint<PoolShape<X, [W, W], [St, St]>, 'Pool'>

/** The prefixed verdict of `batchNorm()` on X, with statistics of shape [x[1]]. */
export type BatchNormLayerShape<X extends Shape> = Complaint<BatchNormShape<X, [FeaturesOf<X>]>, 'BatchNorm'>

/** `flatten()`: [batch, …rest] → [batch, product of rest], else [product]; never a mismatch. */
// FlattenShape<X>: the target the runtime flatten passes to reshape (products via `Product`).
export type FlattenShape<X extends Shape> = number extends X['length']
  ? Shape
  : X extends readonly ['batch', ...infer Rest extends Dim[]] ? ['batch', Product<Rest>] : [Product<X>]

/** The prefixed verdict of a loss head on logits L with targets T. */
export type LossLayerShape<Op extends string, L extends Shape, T extends Shape> = Complaint<LossShape<Op, L, T>, 'Loss'>

/** What `mlp` reads from its options: the widths of the first layer and of the head. */
interface MlpWidths {
  readonly hidden: readonly number[]
  readonly outputs: number
}
/**
 * The prefixed verdict of `mlp(opts)` on X. Every dense layer maps [m, k] to [m, width], so only
 * the first product can fail (its input rank), and the result is [m, outputs].
 */
// MlpShape<X, O>: the first layer's check, then the head's shape.
export type MlpShape<X extends Shape, O extends MlpWidths> = DenseShape<X, FirstWidth<O>> extends infer V
  ? [V] extends [string] ? V : DenseShape<X, O['outputs']>
  : never
type FirstWidth<O extends MlpWidths> = O['hidden'] extends readonly [infer H extends number, ...unknown[]]
  ? H
  : O['hidden'] extends readonly [] ? O['outputs'] : number
