/**
 * The type-level twins of the shape rules in `../shape.ts`: `MatMulShape<A, B>` beside
 * `matmulShape(a, b)`, and so on, with the branches in the same order and the sentences from the
 * shared writers of `messages.ts`. A twin evaluates to the result shape (a mutable tuple) or to
 * the sentence that explains the mismatch (a string literal type).
 *
 * Shapes that are not literal degrade gracefully: a shape of unknown rank (`Shape`, `number[]`)
 * gives `Shape`, and a size that is `number` is "unknown", never a mismatch. Such programs are
 * accepted here and checked at run time by `typecheck`.
 */
import type { Dim, Shape } from '../node.js'
import type { IsLiteral, IsNatural, Plus, Product, Window } from './arith.js'
import type {
  ShowShape, writeBatchKept, writeBatchLeads, writeBatchRhs, writeCannotBroadcast, writeChannels, writeElementCounts,
  writeFeatureCounts, writeInnerDims, writeKernelShape, writeKernelTooLarge, writeLogitsRank, writeNotPositive,
  writeOneLogit, writeParamBatch, writeRank2, writeRank2or4, writeRank4, writeTargets, writeWindowTooLarge,
} from './messages.js'

// ---------------------------------------------------------------------------------------------
// Model: a verdict is a shape or a sentence

/** What a twin returns: the result shape, or the sentence of the mismatch. */
export type Verdict = Shape | string
/** The shape of a verdict; a failed rule gives `Shape`, so a mistake is reported once, not again downstream. */
export type ShapeOf<V> = V extends Shape ? V : Shape
/** A verdict whose sentence is prefixed by the op as `draw` does (`MatMul: inner dims differ (784 vs 512)`). */
export type Complaint<V, Op extends string> = [V] extends [string] ? `${Op}: ${V}` : V

// ---------------------------------------------------------------------------------------------
// Rules, in the order of ../shape.ts

// ValidShape<S>: twin of validShape; 'batch' only as the leading axis, other sizes positive integers.
export type ValidShape<S extends Shape> = IsTuple<S> extends true ? ValidDims<S, S, []> : S
type ValidDims<Rest, S extends Shape, I extends 0[]> = Rest extends readonly [infer D, ...infer T]
  ? IsBatch<D> extends true
    ? I extends [] ? ValidDims<T, S, [0]> : writeBatchLeads<I['length'], ShowShape<S>>
    : IsBadSize<D> extends true
      ? writeNotPositive<Part<D>, ShowShape<S>>
      : ValidDims<T, S, [...I, 0]>
  : Writable<S>

/** A readonly tuple made mutable (`input` infers `readonly ['batch', 784]`; tensors carry `['batch', 784]`). */
export type Writable<S> = { -readonly [K in keyof S]: S[K] }

// ParamShape<S>: typecheck's Param rule; no batch axis, then a valid shape.
export type ParamShape<S extends Shape> = true extends HasBatchAxis<S> ? writeParamBatch<ShowShape<S>> : ValidShape<S>
type HasBatchAxis<S extends Shape> = S extends readonly [infer D, ...infer T extends Shape] ? IsBatch<D> | HasBatchAxis<T> : false

// MatMulShape<A, B>: twin of matmulShape; [m, k] × [k, n] → [m, n], m may be the batch axis.
export type MatMulShape<A extends Shape, B extends Shape> = [IsTuple<A>, IsTuple<B>] extends [true, true]
  ? [A, B] extends [readonly [infer M, infer K1], readonly [infer K2, infer N]]
    ? true extends IsBatch<K2> | IsBatch<N>
      ? writeBatchRhs<ShowShape<B>>
      : Differ<K1, K2> extends true ? writeInnerDims<Part<K1>, Part<K2>> : [M, N]
    : writeRank2<ShowShape<A>, ShowShape<B>>
  : Shape

// BroadcastShape<A, B>: twin of broadcastShape; numpy broadcasting aligned on the right, a size-1
// axis stretches, and the result must still be a valid shape (the batch axis leading).
export type BroadcastShape<A extends Shape, B extends Shape> = [IsTuple<A>, IsTuple<B>] extends [true, true]
  ? BroadcastDims<A, B, A, B, []>
  : Shape
// BroadcastDims<X, Y, A, B, Out>: walks X and Y from the right (a missing axis reads as 1).
type BroadcastDims<X extends Shape, Y extends Shape, A extends Shape, B extends Shape, Out extends Dim[]> =
  [X, Y] extends [readonly [], readonly []]
    ? ValidShape<Out>
    : BroadcastDim<LastDim<X>, LastDim<Y>> extends infer D
      ? [D] extends [false]
        ? writeCannotBroadcast<ShowShape<A>, ShowShape<B>>
        : BroadcastDims<InitDims<X>, InitDims<Y>, A, B, [D & Dim, ...Out]>
      : never
// BroadcastDim<X, Y>: runtime `x === y || y === 1 ? x : x === 1 ? y : error`; with an unknown
// operand the known one wins unless it is 1, and `false` marks the error.
type BroadcastDim<X, Y> = [Known<X>, Known<Y>] extends [true, true]
  ? [X] extends [Y] ? X : [Y] extends [1] ? X : [X] extends [1] ? Y : false
  : [Y] extends [1] ? X : [X] extends [1] ? Y : Known<Y> extends true ? Y : Known<X> extends true ? X : X | Y
type LastDim<S extends Shape> = S extends readonly [...Shape, infer D] ? D : 1
type InitDims<S extends Shape> = S extends readonly [...infer I extends Shape, unknown] ? I : []

// Conv2dShape<X, K, St, P>: twin of conv2dShape; [n, c, h, w] ⊛ [o, c, kh, kw] → [n, o, h', w'].
export type Conv2dShape<X extends Shape, K extends Shape, St extends readonly [number, number], P extends readonly [number, number]> =
  [IsTuple<X>, IsTuple<K>] extends [true, true]
    ? X extends readonly [infer N, infer C, infer H, infer W]
      ? K extends readonly [infer O, infer CI, infer KH, infer KW]
        ? true extends HasBatchAxis<K>
          ? writeKernelShape<ShowShape<K>>
          : Differ<C, CI> extends true
            ? writeChannels<Part<C>, Part<CI>>
            : [Window<H, KH, St[0], P[0]>, Window<W, KW, St[1], P[1]>] extends [infer HO, infer WO]
              ? [HO, WO] extends [0, unknown] | [unknown, 0]
                ? writeKernelTooLarge<Part<KH>, Part<KW>, Plus<Plus<H, P[0]>, P[0]>, Plus<Plus<W, P[1]>, P[1]>>
                : [N, O, HO, WO]
              : never
        : writeKernelShape<ShowShape<K>>
      : writeRank4<ShowShape<X>>
    : Shape

// PoolShape<X, Win, St>: twin of poolShape; [n, c, h, w] → [n, c, h', w'] with no padding.
export type PoolShape<X extends Shape, Win extends readonly [number, number], St extends readonly [number, number]> =
  IsTuple<X> extends true
    ? X extends readonly [infer N, infer C, infer H, infer W]
      ? [Window<H, Win[0], St[0], 0>, Window<W, Win[1], St[1], 0>] extends [infer HO, infer WO]
        ? [HO, WO] extends [0, unknown] | [unknown, 0]
          ? writeWindowTooLarge<Win[0], Win[1], Part<H>, Part<W>>
          : [N, C, HO, WO]
        : never
      : writeRank4<ShowShape<X>>
    : Shape

// ReshapeShape<X, T>: twin of the reshape constructor (validShape of the target, then
// reshapeShape): the batch axis stays leading on both sides or on neither, the count is kept.
export type ReshapeShape<X extends Shape, T extends Shape> = ValidShape<T> extends infer V
  ? [V] extends [string]
    ? V
    : [IsTuple<X>, IsTuple<T>] extends [true, true]
      ? IsBatch<X[0]> extends IsBatch<T[0]>
        ? Differ<Product<X>, Product<T>> extends true ? writeElementCounts<Product<X> & number, Product<T> & number> : V
        : writeBatchKept<ShowShape<X>, ShowShape<T>>
      : V
  : never

// BatchNormShape<X, Stat>: twin of batchNormShape; features on axis 1 of a rank-2 or rank-4 input,
// each statistic of shape [c].
export type BatchNormShape<X extends Shape, Stat extends Shape> = [IsTuple<X>, IsTuple<Stat>] extends [true, true]
  ? X['length'] extends 2 | 4
    ? Stat extends readonly [infer C] ? (Differ<C, X[1]> extends true ? FeatureCounts<X, Stat> : Writable<X>) : FeatureCounts<X, Stat>
    : writeRank2or4<ShowShape<X>>
  : IsTuple<X> extends true ? (X['length'] extends 2 | 4 ? Writable<X> : writeRank2or4<ShowShape<X>>) : Shape
type FeatureCounts<X extends Shape, Stat extends Shape> = writeFeatureCounts<Part<X[1]>, ShowShape<Stat>>

// LossShape<Op, L, T>: twin of lossShape; a scalar, the mean over the batch.
export type LossShape<Op extends string, L extends Shape, T extends Shape> = [IsTuple<L>, IsTuple<T>] extends [true, true]
  ? Op extends 'softmax-ce'
    ? L['length'] extends 2
      ? T extends readonly [infer T0] ? (Differ<T0, L[0]> extends true ? Targets<L, T> : []) : Targets<L, T>
      : writeLogitsRank<ShowShape<L>>
    : Op extends 'logistic-nll'
      ? L extends readonly [unknown] | readonly [unknown, infer L1]
        ? Differ<L1, 1> extends true
          ? writeOneLogit<ShowShape<L>>
          : T extends readonly [infer T0, ...Shape]
            ? Differ<Product<T>, 1> | Differ<T0, L[0]> extends false ? [] : Targets<L, T>
            : Targets<L, T>
        : writeOneLogit<ShowShape<L>>
      : SameDims<L, T> extends true ? [] : Targets<L, T>
  : []
type Targets<L extends Shape, T extends Shape> = writeTargets<ShowShape<T>, ShowShape<L>>
// SameDims<L, T>: the runtime `showShape(l) === showShape(t)`, unknown sizes counted as equal.
type SameDims<L extends Shape, T extends Shape> = L['length'] extends T['length']
  ? true extends { [I in keyof L]: I extends keyof T ? Differ<L[I], T[I]> : true }[number] ? false : true
  : false

// ---------------------------------------------------------------------------------------------
// Utilities on dims

// IsTuple<S>: the rank of S is known.
type IsTuple<S extends Shape> = number extends S['length'] ? false : true
// IsBatch<D>: D is known to be the batch axis.
type IsBatch<D> = [D] extends ['batch'] ? true : false
// Known<D>: D is the batch axis or one size literal.
type Known<D> = IsBatch<D> extends true ? true : IsLiteral<D>
// Differ<A, B>: both known and not equal (the runtime `!==` on known values).
type Differ<A, B> = [Known<A>, Known<B>] extends [true, true] ? ([A] extends [B] ? false : true) : false
// IsBadSize<D>: a known size that is not a positive integer.
type IsBadSize<D> = IsLiteral<D> extends true ? (IsNatural<D> extends true ? ([D] extends [0] ? true : false) : true) : false
type Part<D> = D & (string | number)
