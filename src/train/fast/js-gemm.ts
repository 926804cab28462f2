/**
 * Plain-JavaScript training kernels in float64, for hosts without WebAssembly SIMD. Same
 * products as the reference loops, with the loop order chosen so that the innermost loop is
 * contiguous in every operand, and four depth indices (or four dot products) per pass so that
 * each load and store of the output row serves four multiply-adds.
 */
import type { NDArray } from '../../interpreters/ndarray.js'
import type { MatrixProducts } from '../../interpreters/reference/ops.js'

/**
 * out[r·n + j] += Σ_p x[p·xs + r·xr] · y[p·n + j] over p < depth, for one output row r:
 * the shared inner loop of NN (x = a's row, xs = 1) and TN (x = a's column, xs = k).
 */
const axpyRows = (
  out: Float64Array, o: number, x: Float64Array, x0: number, xs: number, y: Float64Array, depth: number, n: number,
): void => {
  let p = 0
  for (; p + 4 <= depth; p += 4) {
    const a0 = x[x0 + p * xs]!
    const a1 = x[x0 + (p + 1) * xs]!
    const a2 = x[x0 + (p + 2) * xs]!
    const a3 = x[x0 + (p + 3) * xs]!
    const y0 = p * n
    const y1 = y0 + n
    const y2 = y1 + n
    const y3 = y2 + n
    for (let j = 0; j < n; j++) out[o + j]! += a0 * y[y0 + j]! + a1 * y[y1 + j]! + a2 * y[y2 + j]! + a3 * y[y3 + j]!
  }
  for (; p < depth; p++) {
    const a0 = x[x0 + p * xs]!
    const y0 = p * n
    for (let j = 0; j < n; j++) out[o + j]! += a0 * y[y0 + j]!
  }
}

/** [m,k]·[k,n] → [m,n] */
const matmul = (a: NDArray, b: NDArray): NDArray => {
  const [m, k] = a.shape as [number, number]
  const n = b.shape[1]!
  const out = new Float64Array(m * n)
  for (let i = 0; i < m; i++) axpyRows(out, i * n, a.data, i * k, 1, b.data, k, n)
  return { shape: [m, n], data: out }
}

/** [m,k]ᵀ·[m,n] → [k,n]: row p of the output sums a[i,p]·b[i,:] over i. */
const matmulTN = (a: NDArray, b: NDArray): NDArray => {
  const [m, k] = a.shape as [number, number]
  const n = b.shape[1]!
  const out = new Float64Array(k * n)
  for (let p = 0; p < k; p++) axpyRows(out, p * n, a.data, p, k, b.data, m, n)
  return { shape: [k, n], data: out }
}

/** [m,n]·[k,n]ᵀ → [m,k]: four dot products share each load of a's row. */
const matmulNT = (a: NDArray, b: NDArray): NDArray => {
  const [m, n] = a.shape as [number, number]
  const k = b.shape[0]!
  const A = a.data
  const B = b.data
  const out = new Float64Array(m * k)
  for (let i = 0; i < m; i++) {
    const ai = i * n
    let p = 0
    for (; p + 4 <= k; p += 4) {
      const b0 = p * n
      const b1 = b0 + n
      const b2 = b1 + n
      const b3 = b2 + n
      let s0 = 0
      let s1 = 0
      let s2 = 0
      let s3 = 0
      for (let j = 0; j < n; j++) {
        const v = A[ai + j]!
        s0 += v * B[b0 + j]!
        s1 += v * B[b1 + j]!
        s2 += v * B[b2 + j]!
        s3 += v * B[b3 + j]!
      }
      out[i * k + p] = s0
      out[i * k + p + 1] = s1
      out[i * k + p + 2] = s2
      out[i * k + p + 3] = s3
    }
    for (; p < k; p++) {
      const b0 = p * n
      let s = 0
      for (let j = 0; j < n; j++) s += A[ai + j]! * B[b0 + j]!
      out[i * k + p] = s
    }
  }
  return { shape: [m, k], data: out }
}

/**
 * Float64 kernels in plain JavaScript (no WebAssembly needed); sums in a different order from
 * the reference loops, so results agree to float64 rounding, not bit for bit.
 */
export const jsProducts: MatrixProducts = { matmul, matmulNT, matmulTN }
