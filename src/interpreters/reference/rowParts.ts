/**
 * The batch-coupled rules of a pass that holds some parts of a larger minibatch (data
 * parallelism, `MatrixProducts.rows`): batch-norm statistics and their reverse sums, and the
 * gradients of parameters without a batch axis (a dense weight X^T·dY, a convolution kernel).
 * Each is a sum over rows, taken per part and added in part order by `RowParts.sum`, so every
 * pass of the minibatch gets the same bits, however the parts are spread over passes; the
 * per-row parts of each rule are the reference rule's own arithmetic with the global counts.
 */
import type { NDArray } from '../ndarray.js'
import type { MatrixProducts, RowParts } from './ops.js'
import * as spatial from './spatial.js'

/** Rows, channels and values per channel and row of an [n, c] or [n, c, h, w] array. */
const layout = (shape: readonly number[]): { readonly outer: number; readonly c: number; readonly inner: number } =>
  ({ outer: shape[0]!, c: shape[1]!, inner: shape.length === 4 ? shape[2]! * shape[3]! : 1 })

/**
 * `spatial.batchStats` over the whole minibatch: the mean (Σ x / count, per part), then the
 * centred squares about that mean (the same two passes), count = rows.batch · values per row.
 */
export const batchStatsRows = (x: NDArray, rows: RowParts): { readonly mean: Float64Array; readonly variance: Float64Array } => {
  const { c, inner } = layout(x.shape)
  const count = rows.batch * inner
  const X = x.data
  const mean = rows.sum(c, (lo, hi, out) => {
    for (let b = lo, i = lo * c * inner; b < hi; b++)
      for (let k = 0; k < c; k++) {
        let m = out[k]!
        for (let s = 0; s < inner; s++, i++) m += X[i]! / count
        out[k] = m
      }
  })
  const variance = rows.sum(c, (lo, hi, out) => {
    for (let b = lo, i = lo * c * inner; b < hi; b++)
      for (let k = 0; k < c; k++) {
        const mk = mean[k]!
        let v = out[k]!
        for (let s = 0; s < inner; s++, i++) v += (X[i]! - mk) ** 2 / count
        out[k] = v
      }
  })
  return { mean, variance }
}

/**
 * `spatial.batchNormBackward` over the whole minibatch: the four per-channel sums (γ's and β's
 * gradients, Σ g·γ and Σ g·γ·x̂) per part in one `rows.sum`, then each row's input gradient.
 */
export const batchNormBackwardRows = (
  x: NDArray, p: spatial.BatchNormValues, eps: number, gOut: NDArray, batchStatistics: boolean, rows: RowParts,
  alloc: (length: number) => Float64Array = (n) => new Float64Array(n),
): { readonly input: NDArray; readonly gamma: NDArray; readonly beta: NDArray } => {
  const { outer, c, inner } = layout(x.shape)
  const count = rows.batch * inner
  const X = x.data
  const G = gOut.data
  const mu = p.mean.data
  const gam = p.gamma.data
  const inv = Float64Array.from(p.variance.data, (v) => 1 / Math.sqrt(v + eps))
  // [gGamma | gBeta | sumG | sumGXhat], c each.
  const sums = rows.sum(4 * c, (lo, hi, out) => {
    for (let b = lo, i = lo * c * inner; b < hi; b++)
      for (let k = 0; k < c; k++) {
        const mk = mu[k]!
        const ik = inv[k]!
        const gamma = gam[k]!
        let gg = out[k]!
        let gb = out[c + k]!
        let sg = out[2 * c + k]!
        let sgx = out[3 * c + k]!
        for (let s = 0; s < inner; s++, i++) {
          const xhat = (X[i]! - mk) * ik
          const go = G[i]!
          gg += go * xhat
          gb += go
          sg += go * gamma
          sgx += go * gamma * xhat
        }
        out[k] = gg
        out[c + k] = gb
        out[2 * c + k] = sg
        out[3 * c + k] = sgx
      }
  })
  const gx = alloc(X.length)
  for (let b = 0, i = 0; b < outer; b++)
    for (let k = 0; k < c; k++) {
      const mk = mu[k]!
      const ik = inv[k]!
      const gamma = gam[k]!
      const sg = sums[2 * c + k]!
      const sgx = sums[3 * c + k]!
      if (!batchStatistics) {
        for (let s = 0; s < inner; s++, i++) gx[i] = G[i]! * gamma * ik
        continue
      }
      const scale = ik / count
      for (let s = 0; s < inner; s++, i++) {
        const xhat = (X[i]! - mk) * ik
        gx[i] = scale * (count * (G[i]! * gamma) - sg - xhat * sgx)
      }
    }
  return { input: { shape: x.shape, data: gx }, gamma: { shape: [c], data: sums.slice(0, c) }, beta: { shape: [c], data: sums.slice(c, 2 * c) } }
}

/** The rows [lo, hi) of a rows-first array, as a view. */
const rowsOf = (a: NDArray, lo: number, hi: number): NDArray => {
  const width = a.shape[0] === 0 ? 0 : a.data.length / a.shape[0]!
  return { shape: [hi - lo, ...a.shape.slice(1)], data: a.data.subarray(lo * width, hi * width) }
}

/** lhsᵀ·g over the whole minibatch (lhs [rows, k], g [rows, n]): each part's product, added in part order. */
export const matmulTNRows = (lhs: NDArray, g: NDArray, kernels: MatrixProducts, rows: RowParts): NDArray => {
  const k = lhs.shape[1]!
  const n = g.shape[1]!
  const data = rows.sum(k * n, (lo, hi, out) => {
    if (hi <= lo) return
    const part = kernels.matmulTN(rowsOf(lhs, lo, hi), rowsOf(g, lo, hi)).data
    out.set(part)
    kernels.release?.([part])
  })
  return { shape: [k, n], data }
}

/**
 * `spatial.conv2dBackward` over the whole minibatch: each part's rows in one call (its input
 * gradient is those rows' own), the kernel gradient the parts' partials added in part order.
 */
export const conv2dBackwardRows = (
  x: NDArray, k: NDArray, gOut: NDArray, stride: readonly [number, number], padding: readonly [number, number], padValue: number,
  kernels: MatrixProducts, needInput: boolean, rows: RowParts,
): { readonly input: NDArray; readonly kernel: NDArray } => {
  const gx = (kernels.alloc ?? ((n: number) => new Float64Array(n)))(x.data.length)
  if (!needInput) gx.fill(0)
  const width = x.shape[0] === 0 ? 0 : x.data.length / x.shape[0]!
  const kernel = rows.sum(k.data.length, (lo, hi, out) => {
    if (hi <= lo) return
    const r = spatial.conv2dBackward(rowsOf(x, lo, hi), k, rowsOf(gOut, lo, hi), stride, padding, padValue, kernels, undefined, needInput)
    out.set(r.kernel.data)
    if (needInput) gx.set(r.input.data, lo * width)
    kernels.release?.([r.kernel.data, r.input.data])
  })
  return { input: { shape: x.shape, data: gx }, kernel: { shape: k.shape, data: kernel } }
}
