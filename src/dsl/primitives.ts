/**
 * Constructors of the primitives, data-first, one per node tag. Each computes the node's type
 * with the shape rule of `shape.ts`. Constructors never throw: a node built from operands whose
 * shapes do not fit gets the placeholder type `invalidType` (a leaf keeps its declared shape), and
 * `typecheck` (which re-derives every shape) reports the mismatch as a `DslError`.
 *
 * In TypeScript the type-level twins of `types/shapes.ts` reject such a program at compile time
 * first: each constructor's type parameters capture the operand shapes, and the operand where the
 * runtime rule would fail gets the rule's sentence as its parameter type, so tsc prints
 * `Argument of type 'Tensor<[512, 10]>' is not assignable to parameter of type
 * '"MatMul: inner dims differ (784 vs 512)"'`. Shapes that are not literal (read from a file,
 * computed) are accepted as `Tensor<Shape>` and left to `typecheck`.
 */
import * as E from 'fp-ts/lib/Either.js'
import type {
  Add, BatchNorm, Binarize, Const, Conv2d, DType, Init, Input, Loss, LossOp, MatMul, Mul, Node,
  Param, Pool, Reshape, Shape, TensorType, Unary, UnaryOp,
} from './node.js'
import { siteId } from './node.js'
import type { Noise } from './noise.js'
import {
  batchNormShape, broadcastShape, conv2dShape, lossShape, matmulShape, poolShape, reshapeShape, validShape,
} from './shape.js'
import type {
  BatchNormShape, BroadcastShape, Complaint, Conv2dShape, LossShape, MatMulShape, ParamShape, PoolShape, ReshapeShape,
  ShapeOf, ValidShape,
} from './types/shapes.js'
import type { IsSingle } from './types/arith.js'

declare const shapeOf: unique symbol
/**
 * A node whose shape `S` is known to the compiler (a phantom; at run time it is just a `Node`).
 * Any `Node` is a `Tensor<Shape>`, so networks built from data are accepted and checked at run time.
 * @example
 * const x: Tensor<['batch', 784]> = input('x', ['batch', 784])
 */
export type Tensor<S extends Shape = Shape> = Node & { readonly [shapeOf]?: S }

/**
 * The parameter type of an operand checked by a twin: the operand's own type `T` when the rule
 * holds, else the rule's sentence prefixed by the op (`"MatMul: inner dims differ (784 vs 512)"`),
 * which no tensor is assignable to. Inference still reads `T`'s type parameters through it.
 */
// Operand<V, Op, T>: V is a twin's verdict (a shape or a sentence).
export type Operand<V, Op extends string, T> = Guard<Complaint<V, Op>, T>
/** `T`, or the sentence `V` if `V` is one (for verdicts already prefixed by their op). */
export type Guard<V, T> = [V] extends [string] ? V : T

/**
 * The shape a node's type carries: `S` for a `Tensor<S>`; `Shape` (unknown) for a plain `Node` or
 * a union of tensors of different shapes, which are then left to `typecheck`.
 */
// ShapeIn<T>: constructors take operands as `T extends Node` and read their shapes with this,
// so a union argument is accepted as a whole instead of failing on one of its members.
export type ShapeIn<T> = [T] extends [Tensor<infer S extends Shape>] ? (IsSingle<S> extends true ? S : Shape) : Shape

/** The type stored on a node whose operands did not fit; `typecheck` reports why. */
export const invalidType: TensorType = { shape: [], dtype: 'real' }

const typed = (rule: E.Either<string, Shape>, dtype: DType): TensorType =>
  E.isRight(rule) ? { shape: rule.right, dtype } : invalidType

const binaryIfBoth = (a: Node, b: Node): DType =>
  a.type.dtype === 'binary' && b.type.dtype === 'binary' ? 'binary' : 'real'

/** Nodes are tensors of any shape at run time; the phantom only exists for the compiler. */
const tensor = <S extends Shape>(node: Node): Tensor<S> => node
/** The runtime value of an operand whose parameter type is an `Operand` (checked by then). */
const nodeOf = (x: unknown): Node => x as Node
const nodeShape = (shape: unknown): Shape => shape as Shape

// ---------------------------------------------------------------------------------------------
// Leaves. A leaf keeps its declared shape even if invalid, so typecheck's leaf rules report it.

/**
 * A named data input. Use 'batch' as the leading axis for per-example data.
 * @example
 * const x = input('x', ['batch', 784]) // Tensor<['batch', 784]>
 */
export const input = <const S extends Shape>(
  name: string,
  shape: Operand<ValidShape<S>, 'Input', S>,
  dtype: DType = 'real',
): Tensor<ShapeOf<ValidShape<S>>> => tensor({ _tag: 'Input', name, type: { shape: nodeShape(shape), dtype } } satisfies Input)

/**
 * A named real parameter (no batch axis).
 * @example
 * const W = param('W', [784, 512]) // Tensor<[784, 512]>
 */
export const param = <const S extends Shape>(
  name: string,
  shape: Operand<ParamShape<S>, 'Param', S>,
  init: Init = { kind: 'glorot' },
  trainable = true,
): Tensor<ShapeOf<ParamShape<S>>> =>
  tensor({ _tag: 'Param', name, init, trainable, type: { shape: nodeShape(shape), dtype: 'real' } } satisfies Param)

/** A real scalar constant; broadcasts against anything. */
export const constant = (value: number): Tensor<[]> =>
  tensor({ _tag: 'Const', value, type: { shape: [], dtype: 'real' } } satisfies Const)

// ---------------------------------------------------------------------------------------------
// Linear algebra

/**
 * The matrix product [m, k] × [k, n] → [m, n] (m may be the batch axis).
 * @example
 * const h = matmul(input('x', ['batch', 784]), param('W', [784, 512])) // Tensor<['batch', 512]>
 */
export const matmul = <L extends Node, R extends Node>(
  lhs: L,
  rhs: Operand<MatMulShape<ShapeIn<L>, ShapeIn<R>>, 'MatMul', R>,
): Tensor<ShapeOf<MatMulShape<ShapeIn<L>, ShapeIn<R>>>> => {
  const r = nodeOf(rhs)
  return tensor({ _tag: 'MatMul', lhs, rhs: r, type: typed(matmulShape(lhs.type.shape, r.type.shape), 'real') } satisfies MatMul)
}

/** Broadcasting sum (numpy rules, aligned on the right). */
export const add = <L extends Node, R extends Node>(
  lhs: L,
  rhs: Operand<BroadcastShape<ShapeIn<L>, ShapeIn<R>>, 'Add', R>,
): Tensor<ShapeOf<BroadcastShape<ShapeIn<L>, ShapeIn<R>>>> => {
  const r = nodeOf(rhs)
  return tensor({ _tag: 'Add', lhs, rhs: r, type: typed(broadcastShape(lhs.type.shape, r.type.shape), 'real') } satisfies Add)
}

/** Broadcasting elementwise product; the product of two ±1 tensors stays binary. */
export const mul = <L extends Node, R extends Node>(
  lhs: L,
  rhs: Operand<BroadcastShape<ShapeIn<L>, ShapeIn<R>>, 'Mul', R>,
): Tensor<ShapeOf<BroadcastShape<ShapeIn<L>, ShapeIn<R>>>> => {
  const r = nodeOf(rhs)
  return tensor({
    _tag: 'Mul', lhs, rhs: r,
    type: typed(broadcastShape(lhs.type.shape, r.type.shape), binaryIfBoth(lhs, r)),
  } satisfies Mul)
}

// ---------------------------------------------------------------------------------------------
// Elementwise

/** An elementwise op; `neg` of a ±1 tensor stays binary (`abs` of ±1 is 1, real). */
export const unary = <X extends Node>(op: UnaryOp, arg: X): Tensor<ShapeIn<X>> =>
  tensor({
    _tag: 'Unary', op, arg,
    type: { shape: arg.type.shape, dtype: op === 'neg' && arg.type.dtype === 'binary' ? 'binary' : 'real' },
  } satisfies Unary)

// ---------------------------------------------------------------------------------------------
// Spatial

export interface Conv2dOptions {
  readonly stride?: number | readonly [number, number]
  readonly padding?: number | readonly [number, number]
  /** The value read outside the input; 0 by default. */
  readonly padValue?: number
}
const pair = (v: number | readonly [number, number] | undefined, d: number): readonly [number, number] =>
  v === undefined ? [d, d] : typeof v === 'number' ? [v, v] : v

/** The type twin of `pair`: a size or a pair as a pair, `[D, D]` when absent. */
// PairOf<V, D>: literal sizes stay literal, so the window arithmetic can use them.
export type PairOf<V, D extends number> = V extends number
  ? [V, V]
  : V extends readonly [infer H extends number, infer W extends number] ? [H, W] : [D, D]
/** The value of option `K` in an options type `O`, `undefined` if absent. */
export type OptionOf<O, K extends string> = O extends { readonly [k in K]?: infer V } ? V : undefined

// Conv2dVerdict<X, K, O>: the twin applied to the operands' shapes and the literal options.
type Conv2dVerdict<X, K, O> = Conv2dShape<ShapeIn<X>, ShapeIn<K>, PairOf<OptionOf<O, 'stride'>, 1>, PairOf<OptionOf<O, 'padding'>, 0>>

/**
 * 2-D convolution of an NCHW input [n, c, h, w] with a kernel [o, c, kh, kw] → [n, o, h', w'],
 * h' = floor((h + 2·padding − kh) / stride) + 1.
 * @example
 * const y = conv2d(input('x', ['batch', 1, 28, 28]), param('K', [8, 1, 3, 3]), { padding: 1 })
 * // Tensor<['batch', 8, 28, 28]>
 */
export const conv2d = <X extends Node, K extends Node, const O extends Conv2dOptions = {}>(
  input: X,
  kernel: Operand<Conv2dVerdict<X, K, O>, 'Conv2d', K>,
  opts?: O,
): Tensor<ShapeOf<Conv2dVerdict<X, K, O>>> => {
  const k = nodeOf(kernel)
  const stride = pair(opts?.stride, 1)
  const padding = pair(opts?.padding, 0)
  return tensor({
    _tag: 'Conv2d', input, kernel: k, stride, padding, padValue: opts?.padValue ?? 0,
    type: typed(conv2dShape(input.type.shape, k.type.shape, stride, padding), 'real'),
  } satisfies Conv2d)
}

/**
 * Max or average pooling on NCHW inputs, without padding; the stride defaults to the window.
 * @example
 * const p = pool('max', input('x', ['batch', 8, 28, 28]), 2) // Tensor<['batch', 8, 14, 14]>
 */
export const pool = <
  X extends Node,
  const W extends number | readonly [number, number],
  const St extends number | readonly [number, number] = W,
>(
  op: 'max' | 'avg',
  input: Operand<PoolShape<ShapeIn<X>, PairOf<W, 1>, PairOf<St, 1>>, 'Pool', X>,
  window: W,
  stride?: St,
): Tensor<ShapeOf<PoolShape<ShapeIn<X>, PairOf<W, 1>, PairOf<St, 1>>>> => {
  const x = nodeOf(input)
  const w = pair(window, 1)
  const s = stride === undefined ? w : pair(stride, 1)
  const dtype: DType = op === 'max' ? x.type.dtype : 'real'
  return tensor({ _tag: 'Pool', op, input: x, window: w, stride: s, type: typed(poolShape(x.type.shape, w, s), dtype) } satisfies Pool)
}

/**
 * The same elements in a new shape; the batch axis stays leading (or absent) on both sides.
 * @example
 * const f = reshape(input('x', ['batch', 28, 28]), ['batch', 784]) // Tensor<['batch', 784]>
 */
export const reshape = <X extends Node, const T extends Shape>(
  input: X,
  shape: Operand<ReshapeShape<ShapeIn<X>, T>, 'Reshape', T>,
): Tensor<ShapeOf<ReshapeShape<ShapeIn<X>, T>>> => {
  const target = nodeShape(shape)
  return tensor({
    _tag: 'Reshape', input, shape: target,
    type: typed(E.chain((t: Shape) => reshapeShape(input.type.shape, t))(validShape(target)), input.type.dtype),
  } satisfies Reshape)
}

// ---------------------------------------------------------------------------------------------
// Normalisation

/** The four statistics of a batch normalisation, each of shape [c]. */
export interface BatchNormStats<G extends Node = Node, B extends Node = Node, M extends Node = Node, V extends Node = Node> {
  readonly gamma: G
  readonly beta: B
  readonly runningMean: M
  readonly runningVar: V
}
// BatchNormAll<X, Stats>: the first statistic whose BatchNormShape fails, in the runtime order.
type BatchNormAll<X extends Shape, Stats extends readonly Shape[]> = Stats extends readonly [
  infer S extends Shape,
  ...infer Rest extends readonly Shape[],
]
  ? [BatchNormShape<X, S>] extends [string] ? BatchNormShape<X, S> : BatchNormAll<X, Rest>
  : ShapeOf<BatchNormShape<X, Shape>>

/**
 * Batch normalisation over axis 1 of a [batch, c] or [batch, c, h, w] input.
 * @example
 * const c = [64] as const
 * const bn = batchNormalization(input('x', ['batch', 64]), {
 *   gamma: param('g', c), beta: param('b', c), runningMean: param('m', c), runningVar: param('v', c),
 * }, 'train') // Tensor<['batch', 64]>
 */
export const batchNormalization = <X extends Node, G extends Node, B extends Node, M extends Node, V extends Node>(
  input: X,
  stats: Operand<BatchNormAll<ShapeIn<X>, [ShapeIn<G>, ShapeIn<B>, ShapeIn<M>, ShapeIn<V>]>, 'BatchNorm', BatchNormStats<G, B, M, V>>,
  mode: 'train' | 'inference',
  eps = 1e-5,
  momentum = 0.1,
): Tensor<ShapeOf<BatchNormAll<ShapeIn<X>, [ShapeIn<G>, ShapeIn<B>, ShapeIn<M>, ShapeIn<V>]>>> => {
  const s = stats as unknown as BatchNormStats
  const rule = [s.gamma, s.beta, s.runningMean, s.runningVar]
    .map((t) => batchNormShape(input.type.shape, t.type.shape))
    .find(E.isLeft) ?? batchNormShape(input.type.shape, s.gamma.type.shape)
  return tensor({
    _tag: 'BatchNorm', input, gamma: s.gamma, beta: s.beta, runningMean: s.runningMean, runningVar: s.runningVar,
    mode, eps, momentum, type: typed(rule, 'real'),
  } satisfies BatchNorm)
}

// ---------------------------------------------------------------------------------------------
// The stochastic binary unit

/** x = sign(input − Z) with Z ~ noise, at stochastic site `site`; the shape is kept. */
export const binarize = <X extends Node>(input: X, noise: Noise, site: string): Tensor<ShapeIn<X>> =>
  tensor({ _tag: 'Binarize', input, noise, site: siteId(site), type: { shape: input.type.shape, dtype: 'binary' } } satisfies Binarize)

// ---------------------------------------------------------------------------------------------
// Loss heads

/**
 * A loss head, the mean over the batch: a scalar.
 * @example
 * const l = loss('softmax-ce', input('logits', ['batch', 10]), input('y', ['batch'], 'index')) // Tensor<[]>
 */
export const loss = <Op extends LossOp, L extends Node, T extends Node>(
  op: Op,
  logits: L,
  target: Operand<LossShape<Op, ShapeIn<L>, ShapeIn<T>>, 'Loss', T>,
): Tensor<[]> => {
  const t = nodeOf(target)
  return tensor({ _tag: 'Loss', op, logits, target: t, type: typed(lossShape(op, logits.type.shape, t.type.shape), 'real') } satisfies Loss)
}

/** A copy of a node with a label for error paths and summaries. */
export const labelled = <N extends Node>(node: N, label: string): N => ({ ...node, label })
