/**
 * Shape rules, the first interpreter. Each rule returns the result shape or the sentence that
 * explains the mismatch; the type-level twin of the same name in `types/shapes.ts` computes the
 * same shape and the same sentence at compile time. The sentences come from the shared writers
 * of `types/messages.ts`, each a runtime function and a template literal type of one name.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Dim, Shape } from './node.js'
import {
  writeBatchKept, writeBatchLeads, writeBatchRhs, writeCannotBroadcast, writeChannels, writeElementCounts, writeFeatureCounts,
  writeInnerDims, writeKernelShape, writeKernelTooLarge, writeLogitsRank, writeNotPositive, writeOneLogit, writeRank2,
  writeRank2or4, writeRank4, writeTargets, writeWindowTooLarge,
} from './types/messages.js'

type Rule = E.Either<string, Shape>

export const showShape = (s: Shape): string => `[${s.join(', ')}]`

/** Number of elements, counting the batch axis as 1 (so per-example sizes compare). */
export const sizeOf = (s: Shape): number => s.reduce<number>((n, d) => n * (d === 'batch' ? 1 : d), 1)

export const hasBatch = (s: Shape): boolean => s[0] === 'batch'

/** Concrete shape for a batch of `n` examples. */
export const concreteShape = (s: Shape, n: number): number[] => s.map((d) => (d === 'batch' ? n : d))

/** A valid shape: positive integer sizes, and 'batch' only as the leading axis. */
export const validShape = (s: Shape): E.Either<string, Shape> => {
  for (let i = 0; i < s.length; i++) {
    const d = s[i]
    if (d === 'batch') {
      if (i !== 0) return E.left(writeBatchLeads(i, showShape(s)))
    } else if (!(Number.isInteger(d) && d !== undefined && d > 0)) {
      return E.left(writeNotPositive(String(d), showShape(s)))
    }
  }
  return E.right(s)
}

// MatMul: [m, k] × [k, n] → [m, n]; m may be the batch axis.
export const matmulShape = (a: Shape, b: Shape): Rule => {
  if (a.length !== 2 || b.length !== 2) return E.left(writeRank2(showShape(a), showShape(b)))
  if (b[0] === 'batch' || b[1] === 'batch') return E.left(writeBatchRhs(showShape(b)))
  const [m, k1] = a as readonly [Dim, Dim]
  const [k2, n] = b as readonly [Dim, Dim]
  if (k1 !== k2) return E.left(writeInnerDims(k1, k2))
  return E.right([m, n])
}

// Add, Mul: numpy broadcasting, aligned on the right; a size-1 axis stretches.
export const broadcastShape = (a: Shape, b: Shape): Rule => {
  const n = Math.max(a.length, b.length)
  const out: Dim[] = []
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1
    const y = b[b.length - n + i] ?? 1
    if (x === y || y === 1) out.push(x)
    else if (x === 1) out.push(y)
    else return E.left(writeCannotBroadcast(showShape(a), showShape(b)))
  }
  // A broadcast may not move the batch axis away from the front.
  return validShape(out)
}

/** Output size of a sliding window along one axis (floor rule, as in PyTorch). */
export const windowOut = (size: number, k: number, stride: number, pad: number): number =>
  Math.floor((size + 2 * pad - k) / stride) + 1

// Conv2d: [n, c, h, w] ⊛ [o, c, kh, kw] → [n, o, h', w'].
export const conv2dShape = (
  x: Shape,
  k: Shape,
  stride: readonly [number, number],
  padding: readonly [number, number],
): Rule => {
  if (x.length !== 4) return E.left(writeRank4(showShape(x)))
  if (k.length !== 4 || k.includes('batch')) return E.left(writeKernelShape(showShape(k)))
  const [n, c, h, w] = x as readonly [Dim, number, number, number]
  const [o, ci, kh, kw] = k as readonly [number, number, number, number]
  if (c !== ci) return E.left(writeChannels(c, ci))
  const ho = windowOut(h, kh, stride[0], padding[0])
  const wo = windowOut(w, kw, stride[1], padding[1])
  if (ho < 1 || wo < 1)
    return E.left(writeKernelTooLarge(kh, kw, h + 2 * padding[0], w + 2 * padding[1]))
  return E.right([n, o, ho, wo])
}

// Pool: [n, c, h, w] → [n, c, h', w'] with no padding.
export const poolShape = (x: Shape, window: readonly [number, number], stride: readonly [number, number]): Rule => {
  if (x.length !== 4) return E.left(writeRank4(showShape(x)))
  const [n, c, h, w] = x as readonly [Dim, number, number, number]
  const ho = windowOut(h, window[0], stride[0], 0)
  const wo = windowOut(w, window[1], stride[1], 0)
  if (ho < 1 || wo < 1) return E.left(writeWindowTooLarge(window[0], window[1], h, w))
  return E.right([n, c, ho, wo])
}

// Reshape: same element count; the batch axis stays leading on both sides or on neither.
export const reshapeShape = (x: Shape, target: Shape): Rule => {
  if (hasBatch(x) !== hasBatch(target))
    return E.left(writeBatchKept(showShape(x), showShape(target)))
  const a = sizeOf(x)
  const b = sizeOf(target)
  if (a !== b) return E.left(writeElementCounts(a, b))
  return E.right(target)
}

// BatchNorm: features on axis 1 of a [batch, c] or [batch, c, h, w] input; statistics of shape [c].
export const batchNormShape = (x: Shape, stat: Shape): Rule => {
  if (x.length !== 2 && x.length !== 4) return E.left(writeRank2or4(showShape(x)))
  if (stat.length !== 1 || stat[0] !== x[1]) return E.left(writeFeatureCounts(String(x[1]), showShape(stat)))
  return E.right(x)
}

// Loss heads: a scalar, the mean over the batch.
export const lossShape = (op: 'softmax-ce' | 'logistic-nll' | 'squared', logits: Shape, target: Shape): Rule => {
  if (op === 'softmax-ce') {
    if (logits.length !== 2) return E.left(writeLogitsRank(showShape(logits)))
    if (target.length !== 1 || target[0] !== logits[0])
      return E.left(writeTargets(showShape(target), showShape(logits)))
    return E.right([])
  }
  if (op === 'logistic-nll') {
    const perExample = logits.length === 1 || (logits.length === 2 && logits[1] === 1)
    if (!perExample) return E.left(writeOneLogit(showShape(logits)))
    if (sizeOf(target) !== 1 || target[0] !== logits[0])
      return E.left(writeTargets(showShape(target), showShape(logits)))
    return E.right([])
  }
  if (showShape(logits) !== showShape(target))
    return E.left(writeTargets(showShape(target), showShape(logits)))
  return E.right([])
}
