/**
 * Constructors of the primitives, data-first, one per node tag. Each computes the node's type
 * with the shape rule of `shape.ts`. Constructors never throw: a node built from operands whose
 * shapes do not fit gets the placeholder type `invalidType`, and `typecheck` (which re-derives
 * every shape) reports the mismatch as a `DslError`. In TypeScript, the type-level twins reject
 * such a program at compile time first.
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

declare const shapeOf: unique symbol
/** A node whose shape `S` is known to the compiler (a phantom; at run time it is just a `Node`). */
export type Tensor<S extends Shape = Shape> = Node & { readonly [shapeOf]?: S }

/** The type stored on a node whose operands did not fit; `typecheck` reports why. */
export const invalidType: TensorType = { shape: [], dtype: 'real' }

const typed = (rule: E.Either<string, Shape>, dtype: DType): TensorType =>
  E.isRight(rule) ? { shape: rule.right, dtype } : invalidType

const binaryIfBoth = (a: Node, b: Node): DType =>
  a.type.dtype === 'binary' && b.type.dtype === 'binary' ? 'binary' : 'real'

// ---------------------------------------------------------------------------------------------
// Leaves

/** A named data input. Use 'batch' as the leading axis for per-example data. */
export const input = <S extends Shape>(name: string, shape: S, dtype: DType = 'real'): Tensor<S> =>
  ({ _tag: 'Input', name, type: typed(validShape(shape), dtype) }) satisfies Input

/** A named real parameter (no batch axis). */
export const param = <S extends Shape>(
  name: string,
  shape: S,
  init: Init = { kind: 'glorot' },
  trainable = true,
): Tensor<S> => ({ _tag: 'Param', name, init, trainable, type: typed(validShape(shape), 'real') }) satisfies Param

/** A real scalar constant; broadcasts against anything. */
export const constant = (value: number): Tensor<[]> =>
  ({ _tag: 'Const', value, type: { shape: [], dtype: 'real' } }) satisfies Const

// ---------------------------------------------------------------------------------------------
// Linear algebra

export const matmul = (lhs: Node, rhs: Node): Tensor =>
  ({ _tag: 'MatMul', lhs, rhs, type: typed(matmulShape(lhs.type.shape, rhs.type.shape), 'real') }) satisfies MatMul

export const add = (lhs: Node, rhs: Node): Tensor =>
  ({ _tag: 'Add', lhs, rhs, type: typed(broadcastShape(lhs.type.shape, rhs.type.shape), 'real') }) satisfies Add

/** Elementwise product; the product of two ±1 tensors stays binary. */
export const mul = (lhs: Node, rhs: Node): Tensor =>
  ({
    _tag: 'Mul', lhs, rhs,
    type: typed(broadcastShape(lhs.type.shape, rhs.type.shape), binaryIfBoth(lhs, rhs)),
  }) satisfies Mul

// ---------------------------------------------------------------------------------------------
// Elementwise

/** An elementwise op; `neg` and `abs` of a ±1 tensor stay binary (abs of ±1 is 1, real). */
export const unary = (op: UnaryOp, arg: Node): Tensor =>
  ({
    _tag: 'Unary', op, arg,
    type: { shape: arg.type.shape, dtype: op === 'neg' && arg.type.dtype === 'binary' ? 'binary' : 'real' },
  }) satisfies Unary

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

export const conv2d = (input: Node, kernel: Node, opts: Conv2dOptions = {}): Tensor => {
  const stride = pair(opts.stride, 1)
  const padding = pair(opts.padding, 0)
  return {
    _tag: 'Conv2d', input, kernel, stride, padding, padValue: opts.padValue ?? 0,
    type: typed(conv2dShape(input.type.shape, kernel.type.shape, stride, padding), 'real'),
  } satisfies Conv2d
}

export const pool = (
  op: 'max' | 'avg',
  input: Node,
  window: number | readonly [number, number],
  stride?: number | readonly [number, number],
): Tensor => {
  const w = pair(window, 1)
  const s = pair(stride, 1)
  const dtype: DType = op === 'max' ? input.type.dtype : 'real'
  return { _tag: 'Pool', op, input, window: w, stride: stride === undefined ? w : s, type: typed(poolShape(input.type.shape, w, stride === undefined ? w : s), dtype) } satisfies Pool
}

export const reshape = <S extends Shape>(input: Node, shape: S): Tensor<S> =>
  ({ _tag: 'Reshape', input, shape, type: typed(E.chain((t: Shape) => reshapeShape(input.type.shape, t))(validShape(shape)), input.type.dtype) }) satisfies Reshape

// ---------------------------------------------------------------------------------------------
// Normalisation

export const batchNormalization = (
  input: Node,
  stats: { readonly gamma: Node; readonly beta: Node; readonly runningMean: Node; readonly runningVar: Node },
  mode: 'train' | 'inference',
  eps = 1e-5,
  momentum = 0.1,
): Tensor => {
  const rule = [stats.gamma, stats.beta, stats.runningMean, stats.runningVar]
    .map((s) => batchNormShape(input.type.shape, s.type.shape))
    .find(E.isLeft) ?? batchNormShape(input.type.shape, stats.gamma.type.shape)
  return { _tag: 'BatchNorm', input, ...stats, mode, eps, momentum, type: typed(rule, 'real') } satisfies BatchNorm
}

// ---------------------------------------------------------------------------------------------
// The stochastic binary unit

/** x = sign(input − Z) with Z ~ noise, at stochastic site `site`. */
export const binarize = (input: Node, noise: Noise, site: string): Tensor =>
  ({ _tag: 'Binarize', input, noise, site: siteId(site), type: { shape: input.type.shape, dtype: 'binary' } }) satisfies Binarize

// ---------------------------------------------------------------------------------------------
// Loss heads

export const loss = (op: LossOp, logits: Node, target: Node): Tensor<[]> =>
  ({ _tag: 'Loss', op, logits, target, type: typed(lossShape(op, logits.type.shape, target.type.shape), 'real') }) satisfies Loss

/** A copy of a node with a label for error paths and summaries. */
export const labelled = <N extends Node>(node: N, label: string): N => ({ ...node, label })
