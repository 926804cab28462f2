/**
 * Float64 loops for the generic steps that dominate a convolutional network's real layers: the
 * real-input convolution (the first layer on pixels), the per-channel bias add, max pooling and
 * batch norm in inference mode. They replace `reference/spatial.ts`'s `conv2d`, `pool` and
 * `batchNorm` and `reference/ops.ts`'s `elementwise` add, bit-identical to them: every output is
 * the same sequence of IEEE operations in the same order (a convolution output is 0 + Σ taps in
 * (channel, row, column) order, a bias add is `a + b`, a max pool keeps the first strict
 * maximum from −∞, batch norm is (γ(x − μ))/√(σ² + ε) + β term for term), only visited without
 * a closure call per tap, with the innermost loop over contiguous outputs, and written straight
 * into the step's output buffer: allocating a fresh 100 MB array per step (16 channels of 28×28
 * for 1 000 images) cost more than the arithmetic.
 *
 * Used by `generic.ts`; what they do not cover falls through to the reference kernels (then
 * copied into `out`).
 */
import type { NDArray } from '../ndarray.js'
import { elementwise } from '../reference/ops.js'
import type { BatchNormValues } from '../reference/spatial.js'
import { batchNorm as referenceBatchNorm, conv2d as referenceConv2d, pool as referencePool } from '../reference/spatial.js'
import { windowOut } from '../../dsl/shape.js'

// ---------------------------------------------------------------------------------------------
// Rules

/**
 * `reference/spatial.ts` `conv2d`, tap-major: for each (example, output channel) the output plane
 * starts at 0 and receives one tap after another, in the reference's (input channel, ky, kx)
 * order, so each output sees the same additions in the same order.
 * @example conv2dInto(x, k, [1, 1], [1, 1], 0, out) // out ≡ conv2d(x, k, [1, 1], [1, 1], 0).data
 */
export const conv2dInto = (
  x: NDArray, k: NDArray, stride: readonly [number, number], padding: readonly [number, number], padValue: number, out: Float64Array,
): void => {
  const [n, c, h, w] = x.shape as [number, number, number, number]
  const [o, , kh, kw] = k.shape as [number, number, number, number]
  const [sh, sw] = stride
  const [ph, pw] = padding
  const ho = windowOut(h, kh, sh, ph)
  const wo = windowOut(w, kw, sw, pw)
  if (!(ho > 0 && wo > 0)) {
    out.set(referenceConv2d(x, k, stride, padding, padValue).data)
    return
  }
  const xd = x.data
  const kd = k.data
  out.fill(0, 0, n * o * ho * wo)
  // Per kernel column kx: the output columns [lo, hi) whose input column is inside the image.
  const lo = new Int32Array(kw)
  const hi = new Int32Array(kw)
  for (let kx = 0; kx < kw; kx++) {
    let a = 0
    while (a < wo && a * sw - pw + kx < 0) a++
    let b = wo
    while (b > a && (b - 1) * sw - pw + kx >= w) b--
    lo[kx] = a
    hi[kx] = b
  }
  for (let b = 0; b < n; b++)
    for (let oc = 0; oc < o; oc++) {
      const plane = ((b * o + oc) * ho) * wo
      for (let ic = 0; ic < c; ic++) {
        const xPlane = (b * c + ic) * h * w
        for (let ky = 0; ky < kh; ky++)
          for (let kx = 0; kx < kw; kx++) {
            const wt = kd[((oc * c + ic) * kh + ky) * kw + kx]!
            const pad = wt * padValue
            const a = lo[kx]!
            const e = hi[kx]!
            for (let oy = 0; oy < ho; oy++) {
              const iy = oy * sh - ph + ky
              const row = plane + oy * wo
              if (iy < 0 || iy >= h) {
                for (let ox = 0; ox < wo; ox++) out[row + ox]! += pad
                continue
              }
              const xRow = xPlane + iy * w - pw + kx
              for (let ox = 0; ox < a; ox++) out[row + ox]! += pad
              if (sw === 1) for (let ox = a; ox < e; ox++) out[row + ox]! += wt * xd[xRow + ox]!
              else for (let ox = a; ox < e; ox++) out[row + ox]! += wt * xd[xRow + ox * sw]!
              for (let ox = e; ox < wo; ox++) out[row + ox]! += pad
            }
          }
      }
    }
}

/**
 * `elementwise(a, b, (x, y) => x + y)` with a fast path for a per-channel constant ([C, 1, 1] or
 * [1, C, 1, 1], a convolution's bias) on either side of an NCHW tensor; operands keep their
 * order (`a + b`).
 * @example addInto(convOut, bias, out) // out ≡ elementwise(convOut, bias, (x, y) => x + y).data
 */
export const addInto = (a: NDArray, b: NDArray, out: Float64Array): void => {
  const channel = (big: NDArray, small: NDArray): number | undefined => {
    if (big.shape.length !== 4) return undefined
    const c = big.shape[1]!
    const s = small.shape
    const fits = (s.length === 3 && s[0] === c && s[1] === 1 && s[2] === 1)
      || (s.length === 4 && s[0] === 1 && s[1] === c && s[2] === 1 && s[3] === 1)
    return fits && c > 1 ? c : undefined
  }
  const bigLeft = channel(a, b) !== undefined
  const big = bigLeft ? a : b
  const small = bigLeft ? b : a
  const c = channel(big, small)
  if (c === undefined) {
    out.set(elementwise(a, b, (x, y) => x + y).data)
    return
  }
  const plane = big.shape[2]! * big.shape[3]!
  const n = big.shape[0]!
  const d = big.data
  const s = small.data
  for (let bc = 0, at = 0; bc < n * c; bc++) {
    const v = s[bc % c]!
    const end = at + plane
    if (bigLeft) for (; at < end; at++) out[at] = d[at]! + v
    else for (; at < end; at++) out[at] = v + d[at]!
  }
}

/**
 * `pool('max', …).out` of `reference/spatial.ts`: the first strict maximum of each window from
 * −∞ (so a window of NaNs gives −∞ there too). Average pooling goes to the reference.
 * @example poolInto('max', x, [2, 2], [2, 2], out) // out ≡ pool('max', x, [2, 2], [2, 2]).out.data
 */
export const poolInto = (op: 'max' | 'avg', x: NDArray, window: readonly [number, number], stride: readonly [number, number], out: Float64Array): void => {
  if (op !== 'max') {
    out.set(referencePool(op, x, window, stride).out.data)
    return
  }
  const [n, c, h, w] = x.shape as [number, number, number, number]
  const [kh, kw] = window
  const [sh, sw] = stride
  const ho = windowOut(h, kh, sh, 0)
  const wo = windowOut(w, kw, sw, 0)
  const xd = x.data
  if (kh === 2 && kw === 2) {
    // The common 2×2 window, unrolled: the same four comparisons in the same order.
    for (let bc = 0, oi = 0; bc < n * c; bc++)
      for (let oy = 0; oy < ho; oy++) {
        const r0 = (bc * h + oy * sh) * w
        const r1 = r0 + w
        for (let ox = 0, at = 0; ox < wo; ox++, oi++, at += sw) {
          let best = -Infinity
          const a = xd[r0 + at]!, b = xd[r0 + at + 1]!, d = xd[r1 + at]!, e = xd[r1 + at + 1]!
          if (a > best) best = a
          if (b > best) best = b
          if (d > best) best = d
          if (e > best) best = e
          out[oi] = best
        }
      }
    return
  }
  for (let bc = 0, oi = 0; bc < n * c; bc++)
    for (let oy = 0; oy < ho; oy++)
      for (let ox = 0; ox < wo; ox++, oi++) {
        let best = -Infinity
        for (let ky = 0; ky < kh; ky++) {
          const row = (bc * h + oy * sh + ky) * w + ox * sw
          for (let kx = 0; kx < kw; kx++) {
            const v = xd[row + kx]!
            if (v > best) best = v
          }
        }
        out[oi] = best
      }
}

/**
 * `reference/spatial.ts` `batchNorm` (given statistics) of an NCHW or [N, C] tensor, with the
 * square root computed once per channel (the same double every time).
 * @example batchNormInto(x, values, 1e-5, out) // out ≡ batchNorm(x, values, 1e-5).data
 */
export const batchNormInto = (x: NDArray, p: BatchNormValues, eps: number, out: Float64Array): void => {
  if (x.shape.length !== 4 && x.shape.length !== 2) {
    out.set(referenceBatchNorm(x, p, eps).data)
    return
  }
  const c = x.shape[1]!
  const inner = x.shape.length === 4 ? x.shape[2]! * x.shape[3]! : 1
  const xd = x.data
  const [g, b, m, v] = [p.gamma.data, p.beta.data, p.mean.data, p.variance.data]
  for (let i = 0, ch = 0; i < xd.length; ch = ch + 1 === c ? 0 : ch + 1) {
    const gc = g[ch]!, mc = m[ch]!, bc = b[ch]!
    const root = Math.sqrt(v[ch]! + eps)
    const end = i + inner
    for (; i < end; i++) out[i] = (gc * (xd[i]! - mc)) / root + bc
  }
}
