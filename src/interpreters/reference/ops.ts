/**
 * Typed-array kernels of the reference interpreters: plain row-major loops over Float64Array,
 * written for clarity first and without per-element allocation. The forward rules
 * (`forward.ts`) and the reverse rules (`backward.ts`) are thin wrappers over these.
 */
import type { NDArray } from '../ndarray.js'
import type { LossOp, UnaryOp } from '../../dsl/node.js'

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1)

/**
 * The matrix products of the forward and reverse rules, replaceable as a value: the reference
 * loops below by default, faster kernels (e.g. WebAssembly, single precision) for training.
 * Any replacement must compute the same products; tests compare it with the reference.
 */
export interface Kernels {
  /** [m,k]·[k,n] → [m,n] */
  readonly matmul: (a: NDArray, b: NDArray) => NDArray
  /** [m,n]·[k,n]ᵀ → [m,k] */
  readonly matmulNT: (a: NDArray, b: NDArray) => NDArray
  /** [m,k]ᵀ·[m,n] → [k,n] */
  readonly matmulTN: (a: NDArray, b: NDArray) => NDArray
}

/** [m,k] × [k,n] → [m,n] (i-k-j loop order: the inner loop is contiguous). */
export const matmul = (a: NDArray, b: NDArray): NDArray => {
  const [m, k] = a.shape as [number, number]
  const n = b.shape[1]!
  const out = new Float64Array(m * n)
  const A = a.data
  const B = b.data
  for (let i = 0; i < m; i++) {
    const row = i * n
    for (let p = 0; p < k; p++) {
      const av = A[i * k + p]!
      if (av === 0) continue
      const brow = p * n
      for (let j = 0; j < n; j++) out[row + j]! += av * B[brow + j]!
    }
  }
  return { shape: [m, n], data: out }
}

/** aᵀ·b for a [m,k], b [m,n] → [k,n]. */
export const matmulTN = (a: NDArray, b: NDArray): NDArray => {
  const [m, k] = a.shape as [number, number]
  const n = b.shape[1]!
  const out = new Float64Array(k * n)
  for (let i = 0; i < m; i++)
    for (let p = 0; p < k; p++) {
      const av = a.data[i * k + p]!
      if (av === 0) continue
      for (let j = 0; j < n; j++) out[p * n + j]! += av * b.data[i * n + j]!
    }
  return { shape: [k, n], data: out }
}

/** a·bᵀ for a [m,n], b [k,n] → [m,k]. */
export const matmulNT = (a: NDArray, b: NDArray): NDArray => {
  const [m, n] = a.shape as [number, number]
  const k = b.shape[0]!
  const out = new Float64Array(m * k)
  for (let i = 0; i < m; i++)
    for (let p = 0; p < k; p++) {
      let s = 0
      for (let j = 0; j < n; j++) s += a.data[i * n + j]! * b.data[p * n + j]!
      out[i * k + p] = s
    }
  return { shape: [m, k], data: out }
}

/** The broadcast result shape of two concrete shapes (already checked by typecheck). */
export const broadcastConcrete = (a: readonly number[], b: readonly number[]): number[] => {
  const n = Math.max(a.length, b.length)
  const out: number[] = []
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1
    const y = b[b.length - n + i] ?? 1
    out.push(x === 1 ? y : x)
  }
  return out
}

/** For each flat index of `out`, the flat index into an operand of shape `s` broadcast to it. */
export const broadcastIndex = (s: readonly number[], out: readonly number[]): Int32Array => {
  const total = sizeOf(out)
  const idx = new Int32Array(total)
  if (sizeOf(s) === total) {
    for (let i = 0; i < total; i++) idx[i] = i
    return idx
  }
  const n = out.length
  const strides = new Array<number>(n).fill(0)
  let stride = 1
  for (let i = n - 1; i >= 0; i--) {
    const d = s[s.length - n + i] ?? 1
    strides[i] = d === 1 ? 0 : stride
    stride *= d
  }
  const counter = new Array<number>(n).fill(0)
  let at = 0
  for (let i = 0; i < total; i++) {
    idx[i] = at
    for (let ax = n - 1; ax >= 0; ax--) {
      counter[ax]!++
      at += strides[ax]!
      if (counter[ax]! < out[ax]!) break
      at -= strides[ax]! * out[ax]!
      counter[ax] = 0
    }
  }
  return idx
}

/** How `b` broadcasts against `a` when it is a trailing block of a's shape (the common bias case). */
const trailing = (a: readonly number[], b: readonly number[]): number | undefined => {
  if (b.length > a.length) return undefined
  for (let i = 1; i <= b.length; i++) if (b[b.length - i] !== a[a.length - i]) return undefined
  return sizeOf(b)
}

export const elementwise = (a: NDArray, b: NDArray, f: (x: number, y: number) => number): NDArray => {
  // Fast paths: b (or a) repeats as a trailing block; the general case uses index maps.
  const tb = trailing(a.shape, b.shape)
  if (tb !== undefined) {
    const out = new Float64Array(a.data.length)
    for (let i = 0, j = 0; i < out.length; i++, j = j + 1 === tb ? 0 : j + 1) out[i] = f(a.data[i]!, b.data[j]!)
    return { shape: a.shape, data: out }
  }
  const ta = trailing(b.shape, a.shape)
  if (ta !== undefined) {
    const out = new Float64Array(b.data.length)
    for (let i = 0, j = 0; i < out.length; i++, j = j + 1 === ta ? 0 : j + 1) out[i] = f(a.data[j]!, b.data[i]!)
    return { shape: b.shape, data: out }
  }
  const shape = broadcastConcrete(a.shape, b.shape)
  const ia = broadcastIndex(a.shape, shape)
  const ib = broadcastIndex(b.shape, shape)
  const out = new Float64Array(ia.length)
  for (let i = 0; i < out.length; i++) out[i] = f(a.data[ia[i]!]!, b.data[ib[i]!]!)
  return { shape, data: out }
}

/** Sums `g` (of the broadcast shape) back onto an operand of shape `s`. */
export const unbroadcast = (g: NDArray, s: readonly number[]): NDArray => {
  const size = sizeOf(s)
  if (size === g.data.length) return { shape: s, data: g.data }
  const out = new Float64Array(size)
  if (trailing(g.shape, s) !== undefined) {
    for (let i = 0, j = 0; i < g.data.length; i++, j = j + 1 === size ? 0 : j + 1) out[j]! += g.data[i]!
    return { shape: s, data: out }
  }
  const idx = broadcastIndex(s, g.shape)
  for (let i = 0; i < idx.length; i++) out[idx[i]!]! += g.data[i]!
  return { shape: s, data: out }
}

// Elementwise nonlinearities and their derivatives (as functions of the input x).
const sigmoid = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)))
export const unaryFn: { readonly [K in UnaryOp]: (x: number) => number } = {
  tanh: Math.tanh,
  sigmoid,
  hardtanh: (x) => (x < -1 ? -1 : x > 1 ? 1 : x),
  relu: (x) => (x > 0 ? x : 0),
  neg: (x) => -x,
  abs: Math.abs,
  exp: Math.exp,
  log: Math.log,
}
export const unaryDeriv: { readonly [K in UnaryOp]: (x: number) => number } = {
  tanh: (x) => 1 - Math.tanh(x) ** 2,
  sigmoid: (x) => sigmoid(x) * (1 - sigmoid(x)),
  hardtanh: (x) => (Math.abs(x) <= 1 ? 1 : 0),
  relu: (x) => (x > 0 ? 1 : 0),
  neg: () => -1,
  abs: (x) => (x > 0 ? 1 : x < 0 ? -1 : 0),
  exp: Math.exp,
  log: (x) => 1 / x,
}

export const map = (a: NDArray, f: (x: number) => number): NDArray => {
  const out = new Float64Array(a.data.length)
  for (let i = 0; i < out.length; i++) out[i] = f(a.data[i]!)
  return { shape: a.shape, data: out }
}

// ---------------------------------------------------------------------------------------------
// Loss heads: per-example values and their derivatives with respect to the logits.

const softplus = (x: number): number => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)))

/** Per-example losses (length = leading size of `logits`). */
export const lossPerExample = (op: LossOp, logits: NDArray, target: NDArray): Float64Array => {
  const n = logits.shape[0] ?? 1
  const width = logits.data.length / n
  const out = new Float64Array(n)
  for (let e = 0; e < n; e++) {
    if (op === 'softmax-ce') {
      let max = -Infinity
      for (let j = 0; j < width; j++) max = Math.max(max, logits.data[e * width + j]!)
      let s = 0
      for (let j = 0; j < width; j++) s += Math.exp(logits.data[e * width + j]! - max)
      out[e] = max + Math.log(s) - logits.data[e * width + target.data[e]!]!
    } else if (op === 'logistic-nll') {
      out[e] = softplus(-target.data[e]! * logits.data[e]!)
    } else {
      let s = 0
      for (let j = 0; j < width; j++) s += (logits.data[e * width + j]! - target.data[e * width + j]!) ** 2
      out[e] = s
    }
  }
  return out
}

/** d loss_e / d logits, scaled per example by `weights[e]`. */
export const lossGrad = (op: LossOp, logits: NDArray, target: NDArray, weights: Float64Array): NDArray => {
  const n = logits.shape[0] ?? 1
  const width = logits.data.length / n
  const g = new Float64Array(logits.data.length)
  for (let e = 0; e < n; e++) {
    const w = weights[e]!
    if (op === 'softmax-ce') {
      let max = -Infinity
      for (let j = 0; j < width; j++) max = Math.max(max, logits.data[e * width + j]!)
      let s = 0
      for (let j = 0; j < width; j++) s += Math.exp(logits.data[e * width + j]! - max)
      for (let j = 0; j < width; j++) g[e * width + j] = (w * Math.exp(logits.data[e * width + j]! - max)) / s
      g[e * width + target.data[e]!]! -= w
    } else if (op === 'logistic-nll') {
      const y = target.data[e]!
      g[e] = -w * y * sigmoid(-y * logits.data[e]!)
    } else {
      for (let j = 0; j < width; j++) g[e * width + j] = 2 * w * (logits.data[e * width + j]! - target.data[e * width + j]!)
    }
  }
  return { shape: logits.shape, data: g }
}

/** Predictive class probabilities for one example's logits (softmax, or σ for one logit). */
export const predictive = (op: LossOp, logits: NDArray): NDArray => {
  const n = logits.shape[0] ?? 1
  const width = logits.data.length / n
  if (op === 'logistic-nll') return map({ shape: [n], data: logits.data }, sigmoid)
  if (op === 'squared') return logits
  const out = new Float64Array(logits.data.length)
  for (let e = 0; e < n; e++) {
    let max = -Infinity
    for (let j = 0; j < width; j++) max = Math.max(max, logits.data[e * width + j]!)
    let s = 0
    for (let j = 0; j < width; j++) s += out[e * width + j] = Math.exp(logits.data[e * width + j]! - max)
    for (let j = 0; j < width; j++) out[e * width + j]! /= s
  }
  return { shape: logits.shape, data: out }
}

/** The reference kernels (float64, plain loops). */
export const referenceKernels: Kernels = { matmul, matmulNT, matmulTN }
