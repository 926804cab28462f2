/**
 * Reference kernels for NCHW convolution, pooling and batch normalisation, with their reverse
 * rules. Padding cells of a convolution read `padValue`; their contribution has no gradient
 * with respect to the input (they are constants), but does reach the kernel.
 */
import type { NDArray } from '../ndarray.js'
import { windowOut } from '../../dsl/shape.js'
import type { MatrixProducts, RowParts } from './ops.js'
import { fresh, referenceProducts, wholeRows } from './ops.js'

/** Where a kernel's float64 result lives: `MatrixProducts.alloc` (contents unspecified), by default a new array. */
type Alloc = (length: number) => Float64Array

export interface ConvGeom {
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

/**
 * The patch matrix of a convolution ("im2col"): row (b, oy, ox), column (ic, ky, kx) holds the
 * input under that kernel tap, or `padValue` for a padding cell. The convolution is then one
 * matrix product with the kernel seen as [o, c·kh·kw], so it runs on the `MatrixProducts` in use.
 */
export const im2col = (x: Float64Array, g: ConvGeom, padValue: number): Float64Array => {
  const depth = g.c * g.kh * g.kw
  const cols = new Float64Array(g.n * g.ho * g.wo * depth)
  let at = 0
  for (let b = 0; b < g.n; b++)
    for (let oy = 0; oy < g.ho; oy++)
      for (let ox = 0; ox < g.wo; ox++)
        for (let ic = 0; ic < g.c; ic++) {
          const plane = (b * g.c + ic) * g.h
          for (let ky = 0; ky < g.kh; ky++) {
            const iy = oy * g.sh - g.ph + ky
            const ix0 = ox * g.sw - g.pw
            const x0 = (plane + iy) * g.w + ix0
            if (iy >= 0 && iy < g.h && ix0 >= 0 && ix0 + g.kw <= g.w) {
              // The whole kernel row lies inside the image (the common case): a plain copy.
              for (let kx = 0; kx < g.kw; kx++) cols[at++] = x[x0 + kx]!
              continue
            }
            const rowInside = iy >= 0 && iy < g.h
            for (let kx = 0; kx < g.kw; kx++) {
              const ix = ix0 + kx
              cols[at++] = rowInside && ix >= 0 && ix < g.w ? x[x0 + kx]! : padValue
            }
          }
        }
  return cols
}

/** The reverse of `im2col`: adds each patch cell's gradient to its input cell (padding cells have none). */
const col2im = (gCols: Float64Array, g: ConvGeom, gx: Float64Array): void => {
  let at = 0
  for (let b = 0; b < g.n; b++)
    for (let oy = 0; oy < g.ho; oy++)
      for (let ox = 0; ox < g.wo; ox++)
        for (let ic = 0; ic < g.c; ic++) {
          const plane = (b * g.c + ic) * g.h
          for (let ky = 0; ky < g.kh; ky++) {
            const iy = oy * g.sh - g.ph + ky
            const rowInside = iy >= 0 && iy < g.h
            const x0 = (plane + iy) * g.w + ox * g.sw - g.pw
            for (let kx = 0; kx < g.kw; kx++, at++) {
              const ix = ox * g.sw - g.pw + kx
              if (rowInside && ix >= 0 && ix < g.w) gx[x0 + kx]! += gCols[at]!
            }
          }
        }
}

/** NCHW [n, o, ho·wo] from the product's [o, n·ho·wo] (whole ho·wo runs copied), and back. */
const toNchw = (p: Float64Array, g: ConvGeom): Float64Array => {
  const hw = g.ho * g.wo
  const rows = g.n * hw
  const out = new Float64Array(p.length)
  for (let b = 0; b < g.n; b++)
    for (let oc = 0; oc < g.o; oc++) out.set(p.subarray(oc * rows + b * hw, oc * rows + (b + 1) * hw), (b * g.o + oc) * hw)
  return out
}
const fromNchw = (v: Float64Array, g: ConvGeom): Float64Array => {
  const hw = g.ho * g.wo
  const rows = g.n * hw
  const out = new Float64Array(v.length)
  for (let b = 0; b < g.n; b++)
    for (let oc = 0; oc < g.o; oc++) out.set(v.subarray((b * g.o + oc) * hw, (b * g.o + oc + 1) * hw), oc * rows + b * hw)
  return out
}

/**
 * out[b, oc, oy, ox] = Σ_{ic,ky,kx} k[oc, ic, ky, kx] · x[b, ic, oy·sh − ph + ky, ox·sw − pw + kx]
 * (padding cells read `padValue`), computed as kernel · patchesᵀ by `kernels.matmulNT`; with the
 * reference kernels each sum runs in (ic, ky, kx) order from 0. `cols`, when given, is
 * `im2col(x)` already built (the reverse rule reuses the forward pass's).
 */
export const conv2d = (
  x: NDArray, k: NDArray, stride: readonly [number, number], padding: readonly [number, number], padValue: number,
  kernels: MatrixProducts = referenceProducts, cols?: Float64Array,
): NDArray => {
  if (cols === undefined && kernels.conv2d !== undefined) return kernels.conv2d(x, k, stride, padding, padValue)
  const g = convGeom(x, k, stride, padding)
  const depth = g.c * g.kh * g.kw
  const patches = cols ?? im2col(x.data, g, padValue)
  const p = kernels.matmulNT({ shape: [g.o, depth], data: k.data }, { shape: [g.n * g.ho * g.wo, depth], data: patches })
  return { shape: [g.n, g.o, g.ho, g.wo], data: toNchw(p.data, g) }
}

/**
 * Gradients of a convolution with respect to its input (unless `needInput` is false: then a
 * zero array) and kernel: gK = g·patches, gPatches = gᵀ·K folded back by `col2im`, with g the
 * output gradient as [o, n·ho·wo].
 */
export const conv2dBackward = (
  x: NDArray, k: NDArray, gOut: NDArray, stride: readonly [number, number], padding: readonly [number, number], padValue: number,
  kernels: MatrixProducts = referenceProducts, cols?: Float64Array, needInput = true,
): { readonly input: NDArray; readonly kernel: NDArray } => {
  if (cols === undefined && kernels.conv2dBackward !== undefined) return kernels.conv2dBackward(x, k, gOut, stride, padding, padValue, needInput)
  const g = convGeom(x, k, stride, padding)
  const depth = g.c * g.kh * g.kw
  const rows = g.n * g.ho * g.wo
  const gOc: NDArray = { shape: [g.o, rows], data: fromNchw(gOut.data, g) }
  const patches = cols ?? im2col(x.data, g, padValue)
  const gk = kernels.matmul(gOc, { shape: [rows, depth], data: patches })
  const gx = new Float64Array(x.data.length)
  if (needInput) col2im(kernels.matmulTN(gOc, { shape: [g.o, depth], data: k.data }).data, g, gx)
  return { input: { shape: x.shape, data: gx }, kernel: { shape: k.shape, data: gk.data } }
}

/** The geometry of a convolution of `x` by `k` (exported for the reverse rule's patch cache). */
export const convGeometry = convGeom

/**
 * Max or average pooling without padding; `argmax` records the winning input of each cell (the
 * first maximum in (ky, kx) order; −1 if no value beats −∞). Averages sum in (ky, kx) order.
 */
export const pool = (
  op: 'max' | 'avg', x: NDArray, window: readonly [number, number], stride: readonly [number, number], alloc: Alloc = fresh,
): { readonly out: NDArray; readonly argmax: Int32Array } => {
  const [n, c, h, w] = x.shape as [number, number, number, number]
  const [wh, ww] = window
  const [sh, sw] = stride
  const ho = windowOut(h, wh, sh, 0)
  const wo = windowOut(w, ww, sw, 0)
  const X = x.data
  const out = alloc(n * c * ho * wo)
  const argmax = new Int32Array(out.length)
  const area = wh * ww
  if (op === 'max' && wh === 2 && ww === 2) {
    // The common 2×2 max pool, unrolled; the same winner as the general loop below.
    for (let bc = 0, oi = 0; bc < n * c; bc++)
      for (let oy = 0; oy < ho; oy++) {
        const row0 = (bc * h + oy * sh) * w
        for (let ox = 0; ox < wo; ox++, oi++) {
          const x0 = row0 + ox * sw
          const v0 = X[x0]!, v1 = X[x0 + 1]!, v2 = X[x0 + w]!, v3 = X[x0 + w + 1]!
          const sum = v0 + v1 + v2 + v3
          if (sum - sum === 0) {
            // All four finite: the first maximum by index arithmetic, with no branch on the data
            // (random values would mispredict one): the first of each row, then of the two rows.
            const i01 = x0 + +(v1 > v0)
            const i23 = x0 + w + +(v3 > v2)
            const i = i01 + +(X[i23]! > X[i01]!) * (i23 - i01)
            out[oi] = X[i]!
            argmax[oi] = i
            continue
          }
          let best = -Infinity
          let at = -1
          if (v0 > best) { best = v0; at = x0 }
          if (v1 > best) { best = v1; at = x0 + 1 }
          if (v2 > best) { best = v2; at = x0 + w }
          if (v3 > best) { best = v3; at = x0 + w + 1 }
          out[oi] = best
          argmax[oi] = at
        }
      }
    return { out: { shape: [n, c, ho, wo], data: out }, argmax }
  }
  for (let bc = 0, oi = 0; bc < n * c; bc++)
    for (let oy = 0; oy < ho; oy++) {
      const row0 = (bc * h + oy * sh) * w
      for (let ox = 0; ox < wo; ox++, oi++) {
        const x0 = row0 + ox * sw
        let best = -Infinity
        let at = -1
        if (op === 'max') {
          for (let ky = 0, r = x0; ky < wh; ky++, r += w)
            for (let xi = r; xi < r + ww; xi++) {
              const v = X[xi]!
              if (v > best) { best = v; at = xi }
            }
          out[oi] = best
        } else {
          let sum = 0
          for (let ky = 0, r = x0; ky < wh; ky++, r += w)
            for (let xi = r; xi < r + ww; xi++) {
              const v = X[xi]!
              sum += v
              if (v > best) { best = v; at = xi }
            }
          out[oi] = sum / area
        }
        argmax[oi] = at
      }
    }
  return { out: { shape: [n, c, ho, wo], data: out }, argmax }
}

export const poolBackward = (
  op: 'max' | 'avg', x: NDArray, gOut: NDArray, argmax: Int32Array, window: readonly [number, number], stride: readonly [number, number],
  alloc: Alloc = fresh,
): NDArray => {
  const [n, c, h, w] = x.shape as [number, number, number, number]
  const [, , ho, wo] = gOut.shape as [number, number, number, number]
  const gx = alloc(x.data.length)
  const G = gOut.data
  const [wh, ww] = window
  const [sh, sw] = stride
  const area = wh * ww
  const plane = h * w
  // Pooling has no padding, so the windows of plane bc read only that plane: each plane is
  // cleared just before its sums (still in cache when they land, instead of one pass over the
  // whole gradient first), and the sums start from 0 and run in the same order as before.
  for (let bc = 0, oi = 0; bc < n * c; bc++) {
    gx.fill(0, bc * plane, (bc + 1) * plane)
    const end = oi + ho * wo
    if (op === 'max') {
      // A cell with no winner (argmax −1) passes nothing, as an out-of-range typed-array write would not.
      for (; oi < end; oi++) {
        const at = argmax[oi]!
        if (at >= 0) gx[at]! += G[oi]!
      }
      continue
    }
    for (let oy = 0; oy < ho; oy++)
      for (let ox = 0; ox < wo; ox++, oi++) {
        const v = G[oi]! / area
        for (let ky = 0, r = (bc * h + oy * sh) * w + ox * sw; ky < wh; ky++, r += w)
          for (let xi = r; xi < r + ww; xi++) gx[xi]! += v
      }
  }
  return { shape: x.shape, data: gx }
}

/**
 * Layout of axis 1 (features/channels) as [outer, c, inner]: value (b, ch, s) sits at
 * (b·c + ch)·inner + s. The loops below visit values in flat order, so every per-channel sum
 * runs over the same values in the same order as a flat loop would.
 */
const channelLayout = (shape: readonly number[]): { readonly outer: number; readonly c: number; readonly inner: number } => {
  const c = shape[1]!
  const inner = shape.length === 4 ? shape[2]! * shape[3]! : 1
  return { outer: shape[0]!, c, inner }
}

/** f of each channel's value, by index (`Float64Array.from(v, f)` would allocate an iterator result per value). */
const perChannel = (v: Float64Array, f: (x: number) => number): Float64Array => {
  const out = new Float64Array(v.length)
  for (let i = 0; i < v.length; i++) out[i] = f(v[i]!)
  return out
}

export interface BatchNormValues { readonly gamma: NDArray; readonly beta: NDArray; readonly mean: NDArray; readonly variance: NDArray }

/**
 * Per-channel mean and (biased) variance over the batch and spatial axes: the mean (Σ x / count),
 * then the centred squares about it. With `rows` (data parallelism, `MatrixProducts.rows`) x
 * holds some parts of a larger minibatch: each sum is taken per part and the parts added in part
 * order (`RowParts.sum`), count = the whole minibatch's; by default x is the minibatch, one part.
 */
export const batchStats = (x: NDArray, rows: RowParts = wholeRows(x.shape[0]!)): { readonly mean: Float64Array; readonly variance: Float64Array } => {
  const { c, inner } = channelLayout(x.shape)
  const count = rows.batch * inner
  const X = x.data
  const mean = rows.sum(c, (lo, hi, out) => {
    // [n, c]: one row per example, channels contiguous (the same sums in the same order).
    if (inner === 1) for (let b = lo, i = lo * c; b < hi; b++) for (let k = 0; k < c; k++, i++) out[k]! += X[i]! / count
    else
      for (let b = lo, i = lo * c * inner; b < hi; b++)
        for (let k = 0; k < c; k++) {
          let m = out[k]!
          for (let s = 0; s < inner; s++, i++) m += X[i]! / count
          out[k] = m
        }
  })
  const variance = rows.sum(c, (lo, hi, out) => {
    if (inner === 1) for (let b = lo, i = lo * c; b < hi; b++) for (let k = 0; k < c; k++, i++) out[k]! += (X[i]! - mean[k]!) ** 2 / count
    else
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

/** y = γ (x − μ)/√(σ² + ε) + β with μ, σ² given (running statistics, or batch statistics). */
export const batchNorm = (x: NDArray, p: BatchNormValues, eps: number, alloc: Alloc = fresh): NDArray => {
  const { outer, c, inner } = channelLayout(x.shape)
  const X = x.data
  const out = alloc(X.length)
  const gamma = p.gamma.data
  const mu = p.mean.data
  const beta = p.beta.data
  const sd = perChannel(p.variance.data, (v) => Math.sqrt(v + eps))
  if (inner === 1) {
    for (let b = 0, i = 0; b < outer; b++) for (let k = 0; k < c; k++, i++) out[i] = (gamma[k]! * (X[i]! - mu[k]!)) / sd[k]! + beta[k]!
    return { shape: x.shape, data: out }
  }
  for (let b = 0, i = 0; b < outer; b++)
    for (let k = 0; k < c; k++) {
      const gk = gamma[k]!
      const mk = mu[k]!
      const sk = sd[k]!
      const bk = beta[k]!
      for (let s = 0; s < inner; s++, i++) out[i] = (gk * (X[i]! - mk)) / sk + bk
    }
  return { shape: x.shape, data: out }
}

/**
 * Reverse rule of batch normalisation. With `batchStatistics` the mean and variance are
 * functions of x (training mode), and their dependence is differentiated too. The four
 * per-channel sums (γ's and β's gradients, Σ g·γ and Σ g·γ·x̂) are taken per part of `rows`, as
 * in `batchStats`; then each row's input gradient.
 */
export const batchNormBackward = (
  x: NDArray, p: BatchNormValues, eps: number, gOut: NDArray, batchStatistics: boolean, alloc: Alloc = fresh, rows: RowParts = wholeRows(x.shape[0]!),
): { readonly input: NDArray; readonly gamma: NDArray; readonly beta: NDArray } => {
  const { outer, c, inner } = channelLayout(x.shape)
  const count = rows.batch * inner
  const X = x.data
  const G = gOut.data
  const mu = p.mean.data
  const gam = p.gamma.data
  const inv = perChannel(p.variance.data, (v) => 1 / Math.sqrt(v + eps))
  // [gGamma | gBeta | sumG | sumGXhat], c each.
  const sums = rows.sum(4 * c, (lo, hi, out) => {
    if (inner === 1) {
      for (let b = lo, i = lo * c; b < hi; b++)
        for (let k = 0; k < c; k++, i++) {
          const xhat = (X[i]! - mu[k]!) * inv[k]!
          const go = G[i]!
          const gamma = gam[k]!
          out[k]! += go * xhat
          out[c + k]! += go
          out[2 * c + k]! += go * gamma
          out[3 * c + k]! += go * gamma * xhat
        }
      return
    }
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
