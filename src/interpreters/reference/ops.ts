/**
 * Typed-array kernels of the reference interpreters: plain row-major loops over Float64Array,
 * written for clarity first and without per-element allocation. The forward rules
 * (`forward.ts`) and the reverse rules (`backward.ts`) are thin wrappers over these.
 */
import type { NDArray } from '../ndarray.js'
import type { LossOp, Node, UnaryOp } from '../../dsl/node.js'
import type { Noise, ProperNoise } from '../../dsl/noise.js'
import type { Key } from '../../dsl/random.js'

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1)

/** A new zeroed array: the default `MatrixProducts.alloc`. */
export const fresh = (length: number): Float64Array => new Float64Array(length)

/**
 * The matrix products of the forward and reverse rules, replaceable as a value: the reference
 * loops below by default, faster kernels (e.g. WebAssembly, single precision) for training.
 * Any replacement must compute the same products; tests compare it with the reference.
 */
export interface MatrixProducts {
  /** [m,k]·[k,n] → [m,n] */
  readonly matmul: (a: NDArray, b: NDArray) => NDArray
  /** [m,n]·[k,n]ᵀ → [m,k] */
  readonly matmulNT: (a: NDArray, b: NDArray) => NDArray
  /** [m,k]ᵀ·[m,n] → [k,n] */
  readonly matmulTN: (a: NDArray, b: NDArray) => NDArray
  /** Optional: `matmulTN`'s values written into `out` (length k·n) instead of a new array (a part's weight gradient into its slot). */
  readonly matmulTNInto?: (a: NDArray, b: NDArray, out: Float64Array) => void
  /**
   * Optional: the sampling rule x = +1 iff u < floor(F(a/s)·2³²) over `a`, with u the draws
   * `fillBits(key, 0, ·)`; a replacement must give exactly those bits (the gradient interpreter
   * uses it for sampled sites when no custom bit source is given). `offset` (default 0): the
   * counter of a[0]'s draw, `fillBits(key, offset, ·)` (a slice of rows starts at its first row's).
   * `into` (of a's length): written and returned instead of a new array.
   */
  readonly signs?: (noise: ProperNoise, a: Float64Array, key: Key, offset?: number, into?: Float64Array) => Float64Array
  /**
   * Optional: takes back result arrays of these products (and of `signs` and `alloc`) that nobody
   * holds any more, to write later results into them instead of fresh memory; the gradient
   * interpreter passes a pass's temporaries. Arrays the products did not hand out are ignored.
   */
  readonly release?: (arrays: Iterable<Float64Array>) => void
  /**
   * Optional: a whole NCHW convolution, `spatial.conv2d`'s result without its patch matrix (e.g.
   * patches gathered straight into the kernels' own memory); the same products as `matmulNT`
   * would compute on the patch matrix, within their rounding.
   */
  readonly conv2d?: (x: NDArray, k: NDArray, stride: readonly [number, number], padding: readonly [number, number], padValue: number) => NDArray
  /** Optional, with `conv2d`: `spatial.conv2dBackward` (kernel gradient; input gradient, or zeros unless `needInput`). */
  readonly conv2dBackward?: (
    x: NDArray, k: NDArray, gOut: NDArray, stride: readonly [number, number], padding: readonly [number, number], padValue: number, needInput: boolean,
  ) => { readonly input: NDArray; readonly kernel: NDArray }
  /**
   * Optional: where the rules take their large float64 results from (pooling, batch norm, bias
   * adds, the ST factor, convolutions and their reverse rules); contents unspecified, the rule
   * writes every element. Default: `new Float64Array`. An implementation may hand out an array
   * given back through `release` (one already touched: fresh large arrays cost page faults);
   * nothing else it handed out is ever reused.
   */
  readonly alloc?: (length: number) => Float64Array
  /** Optional: `stFactorTimes(noise, a, g)` (dsl/distributions.ts), the same bits; undefined leaves a noise to it. */
  readonly stFactorTimes?: (noise: Noise, a: Float64Array, g: Float64Array) => Float64Array | undefined
  /**
   * Optional: the pass covers some rows of a larger minibatch cut into parts (data parallelism,
   * `train/parallel/`). Every sum over the batch axis is then taken per part and the parts'
   * partials are added in part order (`RowParts.sum`); absent, the rules sum over their rows.
   */
  readonly rows?: RowParts
}

/**
 * The rows of one pass within a minibatch of `batch` rows cut into parts: this pass holds the
 * global rows [first, first + local rows), which are whole parts, `ranges` in local rows.
 */
export interface RowParts {
  /** Rows of the whole minibatch (all parts). */
  readonly batch: number
  /** The global index of this pass's first row. */
  readonly first: number
  /** This pass's parts, as [lo, hi) ranges of its own rows, in part order. */
  readonly ranges: readonly (readonly [number, number])[]
  /** Optional: every part of the minibatch, as [lo, hi) ranges of its global rows, in part order. */
  readonly allRanges?: readonly (readonly [number, number])[]
  /**
   * Σ over every part of the minibatch, in part order, of `partial(lo, hi, out)` (which writes
   * the part's sum of length `len` into the zeroed `out`; called for this pass's own parts): the
   * same bits in every pass of the minibatch, however its parts are spread over passes.
   * `fills`: the partial writes every element of `out`, which then need not be zeroed first.
   */
  readonly sum: (len: number, partial: (lo: number, hi: number, out: Float64Array) => void, fills?: boolean) => Float64Array
  /**
   * Optional: `n` values without a batch axis whose elements are independent (a weight site's
   * signs): `fill(lo, hi, out)` writes elements [lo, hi) into `out` (length hi − lo) for ranges
   * that together cover [0, n), spread over the passes of the minibatch; every pass gets all n.
   */
  readonly spread?: (n: number, fill: (lo: number, hi: number, out: Float64Array) => void) => Float64Array
  /** Optional: `spread` of several arrays at one meeting of the passes (undefined: they do not fit; use `spread`). */
  readonly spreads?: (items: readonly { readonly n: number; readonly fill: (lo: number, hi: number, out: Float64Array) => void }[]) => Float64Array[] | undefined
  /**
   * Optional: `sum` whose total is completed only by `settle` (the passes then meet once for all
   * such sums, instead of once or twice each): the same bits, for a total nobody reads before
   * `settle`. The reverse pass takes it for the nodes in `deferrable` (set by the gradient
   * interpreter: parameters and pass-through weight sites whose gradients are only returned).
   * `now`: the pass reads the total right after `settle` (else it may be complete only later, below).
   */
  readonly later?: (len: number, partial: (lo: number, hi: number, out: Float64Array) => void, fills?: boolean, now?: boolean) => Float64Array
  /**
   * Completes every total of `later` since the last call (every pass of the minibatch calls it at
   * the same point): those taken with `now` when it returns, the others once every pass of the
   * minibatch has returned (what a parameter's gradient needs).
   */
  readonly settle?: () => void
  /**
   * Optional: lhsᵀ·g (lhs [rows, k], g [rows, n], this pass's rows) over every row of the
   * minibatch as ONE product of full depth (`kernels.matmulTN` of the whole minibatch: not a sum
   * over parts), for a weight gradient the reverse pass takes `later`; completed by `settle` like
   * a long `later` total. Every element is that product's own, whoever computes it.
   */
  readonly productLater?: (lhs: NDArray, g: NDArray, kernels: MatrixProducts) => Float64Array
  /** The nodes whose gradient sums may be `later` ones. */
  readonly deferrable?: ReadonlySet<Node>
}

/**
 * A minibatch of `batch` rows as one part held by one pass: each sum is its rows' sum (the
 * rules' default when no `MatrixProducts.rows` is given).
 * @example wholeRows(64).sum(1, (lo, hi, out) => { out[0] = hi - lo }) // Float64Array [64]
 */
export const wholeRows = (batch: number): RowParts => ({
  batch, first: 0, ranges: [[0, batch]],
  sum: (len, partial) => {
    const out = new Float64Array(len)
    partial(0, batch, out)
    return out
  },
})

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

/**
 * How `b` broadcasts against `a` when it is one contiguous block of a's axes (1 elsewhere):
 * a reads as [outer, mid, inner] and b as [mid], so b's value for a's flat index i is
 * b[⌊i / inner⌋ mod mid]. Covers the bias of a dense layer ([n, o] + [o]: inner 1) and of a
 * convolution ([n, o, h, w] + [o, 1, 1]). Undefined for any other pattern.
 */
export interface Block { readonly outer: number; readonly mid: number; readonly inner: number }
export const blockOf = (a: readonly number[], b: readonly number[]): Block | undefined => {
  if (b.length > a.length) return undefined
  const off = a.length - b.length
  const dims = (i: number): number => (i < off ? 1 : b[i - off]!)
  let lo = 0
  while (lo < a.length && dims(lo) === 1) lo++
  let hi = a.length
  while (hi > lo && dims(hi - 1) === 1) hi--
  for (let i = lo; i < hi; i++) if (dims(i) !== a[i]) return undefined
  const prod = (from: number, to: number): number => { let p = 1; for (let i = from; i < to; i++) p *= a[i]!; return p }
  return { outer: prod(0, lo), mid: prod(lo, hi), inner: prod(hi, a.length) }
}

/** out[i] = f(a[i], b[block index of i]) over a's flat order (`swap`: f(b…, a[i])). */
const blockwise = (a: NDArray, b: NDArray, blk: Block, f: (x: number, y: number) => number, swap: boolean): NDArray => {
  const out = new Float64Array(a.data.length)
  const A = a.data
  const B = b.data
  for (let o = 0, i = 0; o < blk.outer; o++)
    for (let m = 0; m < blk.mid; m++) {
      const y = B[m]!
      if (swap) for (let s = 0; s < blk.inner; s++, i++) out[i] = f(y, A[i]!)
      else for (let s = 0; s < blk.inner; s++, i++) out[i] = f(A[i]!, y)
    }
  return { shape: a.shape, data: out }
}

export const elementwise = (a: NDArray, b: NDArray, f: (x: number, y: number) => number): NDArray => {
  // Fast paths: b (or a) repeats as a block of the other's axes; the general case uses index maps.
  if (a.data.length >= b.data.length) {
    const blk = blockOf(a.shape, b.shape)
    if (blk !== undefined) return blockwise(a, b, blk, f, false)
  } else {
    const blk = blockOf(b.shape, a.shape)
    if (blk !== undefined) return blockwise(b, a, blk, f, true)
  }
  const shape = broadcastConcrete(a.shape, b.shape)
  const ia = broadcastIndex(a.shape, shape)
  const ib = broadcastIndex(b.shape, shape)
  const out = new Float64Array(ia.length)
  for (let i = 0; i < out.length; i++) out[i] = f(a.data[ia[i]!]!, b.data[ib[i]!]!)
  return { shape, data: out }
}

/** a + b with broadcasting (its own loops: the hot Add of every layer's bias); `alloc`: where the result lives. */
export const add = (a: NDArray, b: NDArray, alloc: (length: number) => Float64Array = fresh): NDArray => {
  if (a.data.length === b.data.length && a.shape.length === b.shape.length) {
    const out = alloc(a.data.length)
    for (let i = 0; i < out.length; i++) out[i] = a.data[i]! + b.data[i]!
    return { shape: a.shape, data: out }
  }
  const big = a.data.length >= b.data.length
  const blk = big ? blockOf(a.shape, b.shape) : blockOf(b.shape, a.shape)
  if (blk === undefined) return elementwise(a, b, (x, y) => x + y)
  const [l, r] = big ? [a, b] : [b, a]
  const out = alloc(l.data.length)
  const L = l.data
  const R = r.data
  // Addition commutes exactly, so operand order does not matter here.
  for (let o = 0, i = 0; o < blk.outer; o++)
    for (let m = 0; m < blk.mid; m++) {
      const y = R[m]!
      for (let s = 0; s < blk.inner; s++, i++) out[i] = L[i]! + y
    }
  return { shape: l.shape, data: out }
}

/** a · b with broadcasting. */
export const mul = (a: NDArray, b: NDArray): NDArray => {
  if (a.data.length === b.data.length && a.shape.length === b.shape.length) {
    const out = new Float64Array(a.data.length)
    for (let i = 0; i < out.length; i++) out[i] = a.data[i]! * b.data[i]!
    return { shape: a.shape, data: out }
  }
  return elementwise(a, b, (x, y) => x * y)
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
export const referenceProducts: MatrixProducts = { matmul, matmulNT, matmulTN }
