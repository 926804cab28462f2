/**
 * The batch-coupled products of a pass that holds some parts of a larger minibatch (data
 * parallelism, `MatrixProducts.rows`): the gradients of parameters without a batch axis (a dense
 * weight X^T·dY, a convolution kernel). Batch norm's sums take `rows` themselves
 * (`spatial.batchStats`, `spatial.batchNormBackward`).
 * Each is a sum over rows, taken per part and added in part order by `RowParts.sum`, so every
 * pass of the minibatch gets the same bits, however the parts are spread over passes; the
 * per-row parts of each rule are the reference rule's own arithmetic with the global counts.
 */
import type { NDArray } from '../ndarray.js'
import type { MatrixProducts, RowParts } from './ops.js'
import * as spatial from './spatial.js'

/** The rows [lo, hi) of a rows-first array, as a view. */
const rowsOf = (a: NDArray, lo: number, hi: number): NDArray => {
  const width = a.shape[0] === 0 ? 0 : a.data.length / a.shape[0]!
  return { shape: [hi - lo, ...a.shape.slice(1)], data: a.data.subarray(lo * width, hi * width) }
}

/**
 * lhsᵀ·g over the whole minibatch (lhs [rows, k], g [rows, n]): each part's product, added in part
 * order by `rows.sum`; `deferred` (nobody reads it before the pass ends): one product over the
 * whole minibatch (`rows.productLater`), or the parts added by `rows.later`.
 */
export const matmulTNRows = (lhs: NDArray, g: NDArray, kernels: MatrixProducts, rows: RowParts, deferred = false): NDArray => {
  const k = lhs.shape[1]!
  const n = g.shape[1]!
  if (deferred && rows.productLater !== undefined) return { shape: [k, n], data: rows.productLater(lhs, g, kernels) }
  const sum = deferred && rows.later !== undefined ? rows.later : rows.sum
  const data = sum(k * n, (lo, hi, out) => {
    if (hi <= lo) {
      out.fill(0)
      return
    }
    if (kernels.matmulTNInto !== undefined) return kernels.matmulTNInto(rowsOf(lhs, lo, hi), rowsOf(g, lo, hi), out)
    const part = kernels.matmulTN(rowsOf(lhs, lo, hi), rowsOf(g, lo, hi)).data
    out.set(part)
    kernels.release?.([part])
  }, true)
  return { shape: [k, n], data }
}

/**
 * `spatial.conv2dBackward` over the whole minibatch: each part's rows in one call (its input
 * gradient is those rows' own), the kernel gradient the parts' partials added in part order.
 */
export const conv2dBackwardRows = (
  x: NDArray, k: NDArray, gOut: NDArray, stride: readonly [number, number], padding: readonly [number, number], padValue: number,
  kernels: MatrixProducts, needInput: boolean, rows: RowParts, sum: RowParts['sum'] = rows.sum,
): { readonly input: NDArray; readonly kernel: NDArray } => {
  const gx = (kernels.alloc ?? ((n: number) => new Float64Array(n)))(x.data.length)
  if (!needInput) gx.fill(0)
  const width = x.shape[0] === 0 ? 0 : x.data.length / x.shape[0]!
  const kernel = sum(k.data.length, (lo, hi, out) => {
    if (hi <= lo) {
      out.fill(0)
      return
    }
    const r = spatial.conv2dBackward(rowsOf(x, lo, hi), k, rowsOf(gOut, lo, hi), stride, padding, padValue, kernels, undefined, needInput)
    out.set(r.kernel.data)
    if (needInput) gx.set(r.input.data, lo * width)
    kernels.release?.([r.kernel.data, r.input.data])
  }, true)
  return { input: { shape: x.shape, data: gx }, kernel: { shape: k.shape, data: kernel } }
}
