/**
 * The sentences of the shape rules, written once for both worlds (arktype's shared message
 * writers). Each `writeX` is a runtime function (used by `../shape.ts`) and, under the same name,
 * a template literal type (used by the type-level twins in `shapes.ts`). The runtime writer is
 * annotated with its type twin as return type, so the compiler proves that the two produce the
 * same sentence: change one and the other stops compiling.
 *
 * Writers take shapes already shown (`showShape` at run time, `ShowShape` at compile time).
 */
import type { Dim, Shape } from '../node.js'

/** A value a sentence may mention: a size, the batch axis, or a shown shape. */
type Part = string | number

/** A shape as messages write it: `[batch, 784]`; the twin of `showShape`. */
// ShowShape<S>: joins the dims with ", "; a shape of unknown rank shows as `[${string}]`.
export type ShowShape<S extends Shape> = number extends S['length'] ? `[${string}]` : `[${JoinDims<S>}]`
type JoinDims<S> = S extends readonly [infer H extends Dim, ...infer T]
  ? T extends readonly [] ? `${H}` : `${H}, ${JoinDims<T>}`
  : ''

// validShape
export type writeBatchLeads<I extends Part, S extends Part> = `the batch axis must lead, found it at axis ${I} of ${S}`
export const writeBatchLeads = <I extends Part, S extends Part>(i: I, s: S): writeBatchLeads<I, S> =>
  `the batch axis must lead, found it at axis ${i} of ${s}`
export type writeNotPositive<D extends Part, S extends Part> = `dimensions must be positive integers, found ${D} in ${S}`
export const writeNotPositive = <D extends Part, S extends Part>(d: D, s: S): writeNotPositive<D, S> =>
  `dimensions must be positive integers, found ${d} in ${s}`

// matmulShape
export type writeRank2<A extends Part, B extends Part> = `expects rank-2 operands, found ${A} and ${B}`
export const writeRank2 = <A extends Part, B extends Part>(a: A, b: B): writeRank2<A, B> =>
  `expects rank-2 operands, found ${a} and ${b}`
export type writeBatchRhs<B extends Part> = `the right operand cannot have a batch axis, found ${B}`
export const writeBatchRhs = <B extends Part>(b: B): writeBatchRhs<B> => `the right operand cannot have a batch axis, found ${b}`
export type writeInnerDims<K1 extends Part, K2 extends Part> = `inner dims differ (${K1} vs ${K2})`
export const writeInnerDims = <K1 extends Part, K2 extends Part>(k1: K1, k2: K2): writeInnerDims<K1, K2> =>
  `inner dims differ (${k1} vs ${k2})`

// broadcastShape
export type writeCannotBroadcast<A extends Part, B extends Part> = `cannot broadcast ${A} with ${B}`
export const writeCannotBroadcast = <A extends Part, B extends Part>(a: A, b: B): writeCannotBroadcast<A, B> =>
  `cannot broadcast ${a} with ${b}`

// conv2dShape, poolShape
export type writeRank4<X extends Part> = `expects an NCHW input of rank 4, found ${X}`
export const writeRank4 = <X extends Part>(x: X): writeRank4<X> => `expects an NCHW input of rank 4, found ${x}`
export type writeKernelShape<K extends Part> = `expects a kernel [out, in, kh, kw], found ${K}`
export const writeKernelShape = <K extends Part>(k: K): writeKernelShape<K> => `expects a kernel [out, in, kh, kw], found ${k}`
export type writeChannels<C extends Part, CI extends Part> = `input channels differ (${C} vs ${CI})`
export const writeChannels = <C extends Part, CI extends Part>(c: C, ci: CI): writeChannels<C, CI> =>
  `input channels differ (${c} vs ${ci})`
export type writeKernelTooLarge<KH extends Part, KW extends Part, H extends Part, W extends Part> =
  `kernel ${KH}x${KW} is larger than the padded input ${H}x${W}`
export const writeKernelTooLarge = <KH extends Part, KW extends Part, H extends Part, W extends Part>(
  kh: KH, kw: KW, h: H, w: W,
): writeKernelTooLarge<KH, KW, H, W> => `kernel ${kh}x${kw} is larger than the padded input ${h}x${w}`
export type writeWindowTooLarge<WH extends Part, WW extends Part, H extends Part, W extends Part> =
  `window ${WH}x${WW} is larger than the input ${H}x${W}`
export const writeWindowTooLarge = <WH extends Part, WW extends Part, H extends Part, W extends Part>(
  wh: WH, ww: WW, h: H, w: W,
): writeWindowTooLarge<WH, WW, H, W> => `window ${wh}x${ww} is larger than the input ${h}x${w}`

// reshapeShape
export type writeBatchKept<X extends Part, T extends Part> = `the batch axis must be kept, found ${X} to ${T}`
export const writeBatchKept = <X extends Part, T extends Part>(x: X, t: T): writeBatchKept<X, T> =>
  `the batch axis must be kept, found ${x} to ${t}`
export type writeElementCounts<A extends Part, B extends Part> = `element counts differ (${A} vs ${B})`
export const writeElementCounts = <A extends Part, B extends Part>(a: A, b: B): writeElementCounts<A, B> =>
  `element counts differ (${a} vs ${b})`

// batchNormShape
export type writeRank2or4<X extends Part> = `expects an input of rank 2 or 4, found ${X}`
export const writeRank2or4 = <X extends Part>(x: X): writeRank2or4<X> => `expects an input of rank 2 or 4, found ${x}`
export type writeFeatureCounts<C extends Part, S extends Part> = `feature counts differ (${C} vs ${S})`
export const writeFeatureCounts = <C extends Part, S extends Part>(c: C, s: S): writeFeatureCounts<C, S> =>
  `feature counts differ (${c} vs ${s})`

// lossShape
export type writeLogitsRank<L extends Part> = `expects logits [batch, classes], found ${L}`
export const writeLogitsRank = <L extends Part>(l: L): writeLogitsRank<L> => `expects logits [batch, classes], found ${l}`
export type writeOneLogit<L extends Part> = `expects one logit per example, found ${L}`
export const writeOneLogit = <L extends Part>(l: L): writeOneLogit<L> => `expects one logit per example, found ${l}`
export type writeTargets<T extends Part, L extends Part> = `targets do not match logits (${T} vs ${L})`
export const writeTargets = <T extends Part, L extends Part>(t: T, l: L): writeTargets<T, L> =>
  `targets do not match logits (${t} vs ${l})`

// Param (typecheck's attribute rule, drawn as "<attribute> must be <expected>, found <found>")
export type writeParamBatch<S extends Part> = `shape must be free of the batch axis, found ${S}`
export const writeParamBatch = <S extends Part>(s: S): writeParamBatch<S> => `shape must be free of the batch axis, found ${s}`
