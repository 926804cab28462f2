/**
 * Reference kernels for NCHW convolution, pooling and batch normalisation, with their reverse
 * rules. Padding cells of a convolution read `padValue`; their contribution has no gradient
 * with respect to the input (they are constants), but does reach the kernel.
 */
import type { NDArray } from '../ndarray.js'
import { windowOut } from '../../dsl/shape.js'

interface ConvGeom {
  readonly n: number; readonly c: number; readonly h: number; readonly w: number
  readonly o: number; readonly kh: number; readonly kw: number
  readonly ho: number; readonly wo: number
  readonly sh: number; readonly sw: number; readonly ph: number; readonly pw: number
}

const convGeom = (x: NDArray, k: NDArray, stride: readonly [number, number], padding: readonly [number, number]): ConvGeom => {
  const [n, c, h, w] = x.shape as [number, number, number, number]
  const [o, , kh, kw] = k.shape as [number, number, number, number]
  const [sh, sw] = stride
  const [ph, pw] = padding
  return { n, c, h, w, o, kh, kw, sh, sw, ph, pw, ho: windowOut(h, kh, sh, ph), wo: windowOut(w, kw, sw, pw) }
}

/** Visits every (output cell, kernel tap) pair; `xi` is −1 for a padding cell. */
const eachTap = (
  g: ConvGeom,
  visit: (outIdx: number, kIdx: number, xi: number) => void,
): void => {
  for (let b = 0; b < g.n; b++)
    for (let oc = 0; oc < g.o; oc++)
      for (let oy = 0; oy < g.ho; oy++)
        for (let ox = 0; ox < g.wo; ox++) {
          const outIdx = ((b * g.o + oc) * g.ho + oy) * g.wo + ox
          for (let ic = 0; ic < g.c; ic++)
            for (let ky = 0; ky < g.kh; ky++) {
              const iy = oy * g.sh - g.ph + ky
              for (let kx = 0; kx < g.kw; kx++) {
                const ix = ox * g.sw - g.pw + kx
                const inside = iy >= 0 && iy < g.h && ix >= 0 && ix < g.w
                const xi = inside ? ((b * g.c + ic) * g.h + iy) * g.w + ix : -1
                visit(outIdx, ((oc * g.c + ic) * g.kh + ky) * g.kw + kx, xi)
              }
            }
        }
}

export const conv2d = (
  x: NDArray, k: NDArray, stride: readonly [number, number], padding: readonly [number, number], padValue: number,
): NDArray => {
  const g = convGeom(x, k, stride, padding)
  const out = new Float64Array(g.n * g.o * g.ho * g.wo)
  eachTap(g, (oi, ki, xi) => {
    out[oi]! += k.data[ki]! * (xi < 0 ? padValue : x.data[xi]!)
  })
  return { shape: [g.n, g.o, g.ho, g.wo], data: out }
}

/** Gradients of a convolution with respect to its input and kernel. */
export const conv2dBackward = (
  x: NDArray, k: NDArray, gOut: NDArray, stride: readonly [number, number], padding: readonly [number, number], padValue: number,
): { readonly input: NDArray; readonly kernel: NDArray } => {
  const g = convGeom(x, k, stride, padding)
  const gx = new Float64Array(x.data.length)
  const gk = new Float64Array(k.data.length)
  eachTap(g, (oi, ki, xi) => {
    const go = gOut.data[oi]!
    if (xi >= 0) {
      gx[xi]! += go * k.data[ki]!
      gk[ki]! += go * x.data[xi]!
    } else gk[ki]! += go * padValue
  })
  return { input: { shape: x.shape, data: gx }, kernel: { shape: k.shape, data: gk } }
}

/** Max or average pooling without padding; `argmax` records the winning input of each cell. */
export const pool = (
  op: 'max' | 'avg', x: NDArray, window: readonly [number, number], stride: readonly [number, number],
): { readonly out: NDArray; readonly argmax: Int32Array } => {
  const [n, c, h, w] = x.shape as [number, number, number, number]
  const ho = windowOut(h, window[0], stride[0], 0)
  const wo = windowOut(w, window[1], stride[1], 0)
  const out = new Float64Array(n * c * ho * wo)
  const argmax = new Int32Array(out.length)
  const area = window[0] * window[1]
  for (let bc = 0; bc < n * c; bc++)
    for (let oy = 0; oy < ho; oy++)
      for (let ox = 0; ox < wo; ox++) {
        const oi = (bc * ho + oy) * wo + ox
        let best = -Infinity
        let at = -1
        let sum = 0
        for (let ky = 0; ky < window[0]; ky++)
          for (let kx = 0; kx < window[1]; kx++) {
            const xi = (bc * h + oy * stride[0] + ky) * w + ox * stride[1] + kx
            const v = x.data[xi]!
            sum += v
            if (v > best) { best = v; at = xi }
          }
        out[oi] = op === 'max' ? best : sum / area
        argmax[oi] = at
      }
  return { out: { shape: [n, c, ho, wo], data: out }, argmax }
}

export const poolBackward = (
  op: 'max' | 'avg', x: NDArray, gOut: NDArray, argmax: Int32Array, window: readonly [number, number], stride: readonly [number, number],
): NDArray => {
  const [, , h, w] = x.shape as [number, number, number, number]
  const [, , ho, wo] = gOut.shape as [number, number, number, number]
  const gx = new Float64Array(x.data.length)
  const area = window[0] * window[1]
  for (let oi = 0; oi < gOut.data.length; oi++) {
    if (op === 'max') { gx[argmax[oi]!]! += gOut.data[oi]!; continue }
    const bc = Math.floor(oi / (ho * wo))
    const oy = Math.floor(oi / wo) % ho
    const ox = oi % wo
    for (let ky = 0; ky < window[0]; ky++)
      for (let kx = 0; kx < window[1]; kx++) gx[(bc * h + oy * stride[0] + ky) * w + ox * stride[1] + kx]! += gOut.data[oi]! / area
  }
  return { shape: x.shape, data: gx }
}

/** Layout of axis 1 (features/channels): value i belongs to channel (i / inner) % c. */
const channelOf = (shape: readonly number[]): ((i: number) => number) => {
  const c = shape[1]!
  const inner = shape.length === 4 ? shape[2]! * shape[3]! : 1
  return (i) => Math.floor(i / inner) % c
}

export interface BatchNormValues { readonly gamma: NDArray; readonly beta: NDArray; readonly mean: NDArray; readonly variance: NDArray }

/** Per-channel mean and (biased) variance over the batch and spatial axes. */
export const batchStats = (x: NDArray): { readonly mean: Float64Array; readonly variance: Float64Array } => {
  const c = x.shape[1]!
  const ch = channelOf(x.shape)
  const count = x.data.length / c
  const mean = new Float64Array(c)
  const variance = new Float64Array(c)
  for (let i = 0; i < x.data.length; i++) mean[ch(i)]! += x.data[i]! / count
  for (let i = 0; i < x.data.length; i++) variance[ch(i)]! += (x.data[i]! - mean[ch(i)]!) ** 2 / count
  return { mean, variance }
}

/** y = γ (x − μ)/√(σ² + ε) + β with μ, σ² given (running statistics, or batch statistics). */
export const batchNorm = (x: NDArray, p: BatchNormValues, eps: number): NDArray => {
  const ch = channelOf(x.shape)
  const out = new Float64Array(x.data.length)
  for (let i = 0; i < out.length; i++) {
    const c = ch(i)
    out[i] = (p.gamma.data[c]! * (x.data[i]! - p.mean.data[c]!)) / Math.sqrt(p.variance.data[c]! + eps) + p.beta.data[c]!
  }
  return { shape: x.shape, data: out }
}

/**
 * Reverse rule of batch normalisation. With `batchStatistics` the mean and variance are
 * functions of x (training mode), and their dependence is differentiated too.
 */
export const batchNormBackward = (
  x: NDArray, p: BatchNormValues, eps: number, gOut: NDArray, batchStatistics: boolean,
): { readonly input: NDArray; readonly gamma: NDArray; readonly beta: NDArray } => {
  const c = x.shape[1]!
  const ch = channelOf(x.shape)
  const count = x.data.length / c
  const gGamma = new Float64Array(c)
  const gBeta = new Float64Array(c)
  const sumG = new Float64Array(c)
  const sumGXhat = new Float64Array(c)
  const inv = Float64Array.from(p.variance.data, (v) => 1 / Math.sqrt(v + eps))
  for (let i = 0; i < x.data.length; i++) {
    const k = ch(i)
    const xhat = (x.data[i]! - p.mean.data[k]!) * inv[k]!
    gGamma[k]! += gOut.data[i]! * xhat
    gBeta[k]! += gOut.data[i]!
    sumG[k]! += gOut.data[i]! * p.gamma.data[k]!
    sumGXhat[k]! += gOut.data[i]! * p.gamma.data[k]! * xhat
  }
  const gx = new Float64Array(x.data.length)
  for (let i = 0; i < x.data.length; i++) {
    const k = ch(i)
    const gxhat = gOut.data[i]! * p.gamma.data[k]!
    if (!batchStatistics) { gx[i] = gxhat * inv[k]!; continue }
    const xhat = (x.data[i]! - p.mean.data[k]!) * inv[k]!
    gx[i] = (inv[k]! / count) * (count * gxhat - sumG[k]! - xhat * sumGXhat[k]!)
  }
  return { input: { shape: x.shape, data: gx }, gamma: { shape: [c], data: gGamma }, beta: { shape: [c], data: gBeta } }
}
