/**
 * Laws of the reference pooling and batch-norm kernels: they equal their definitions written
 * out cell by cell (the oracles below, the straightforward loops they replaced), bit for bit,
 * on fast-check geometries: odd sizes, windows and strides that do not tile the image, channel
 * counts that are not multiples of any vector width, ties, ±∞, and 2-D as well as 4-D inputs.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { windowOut } from '../../../src/dsl/shape.js'
import type { NDArray } from '../../../src/interpreters/ndarray.js'
import { batchNorm, batchNormBackward, batchStats, pool, poolBackward } from '../../../src/interpreters/reference/spatial.js'

const small = (max: number) => fc.integer({ min: 1, max })
// Reals with ties (a few repeated values) and the odd infinity.
const value = fc.oneof({ weight: 8, arbitrary: fc.double({ min: -4, max: 4, noNaN: true }) }, { weight: 2, arbitrary: fc.constantFrom(0, 1, -1) },
  { weight: 1, arbitrary: fc.constantFrom(-Infinity, Infinity) })
const finite = fc.double({ min: -4, max: 4, noNaN: true })
const arrayOf = (n: number, v: fc.Arbitrary<number>) => fc.array(v, { minLength: n, maxLength: n }).map((xs) => Float64Array.from(xs))

interface PoolCase { readonly op: 'max' | 'avg'; readonly x: NDArray; readonly window: [number, number]; readonly stride: [number, number]; readonly g: Float64Array }
const arbPool: fc.Arbitrary<PoolCase> = fc
  .record({ op: fc.constantFrom('max' as const, 'avg' as const), n: small(3), c: small(5), h: small(9), w: small(9), window: fc.oneof(fc.constant<[number, number]>([2, 2]), fc.tuple(small(3), small(3))), stride: fc.tuple(small(3), small(3)) })
  .filter((p) => p.window[0] <= p.h && p.window[1] <= p.w)
  .chain((p) => {
    const cells = p.n * p.c * windowOut(p.h, p.window[0], p.stride[0], 0) * windowOut(p.w, p.window[1], p.stride[1], 0)
    return fc.tuple(arrayOf(p.n * p.c * p.h * p.w, p.op === 'max' ? value : finite), arrayOf(cells, finite))
      .map(([x, g]) => ({ op: p.op, x: { shape: [p.n, p.c, p.h, p.w], data: x }, window: p.window, stride: p.stride, g }))
  })

/** Pooling cell by cell: the first maximum (strictly greater) in (ky, kx) order, or the mean in that order. */
const poolOracle = (p: PoolCase) => {
  const [n, c, h, w] = p.x.shape as [number, number, number, number]
  const ho = windowOut(h, p.window[0], p.stride[0], 0)
  const wo = windowOut(w, p.window[1], p.stride[1], 0)
  const out = new Float64Array(n * c * ho * wo)
  const argmax = new Int32Array(out.length)
  const gx = new Float64Array(p.x.data.length)
  const area = p.window[0] * p.window[1]
  for (let bc = 0; bc < n * c; bc++)
    for (let oy = 0; oy < ho; oy++)
      for (let ox = 0; ox < wo; ox++) {
        const oi = (bc * ho + oy) * wo + ox
        let best = -Infinity
        let at = -1
        let sum = 0
        for (let ky = 0; ky < p.window[0]; ky++)
          for (let kx = 0; kx < p.window[1]; kx++) {
            const xi = (bc * h + oy * p.stride[0] + ky) * w + ox * p.stride[1] + kx
            const v = p.x.data[xi]!
            sum += v
            if (v > best) { best = v; at = xi }
          }
        out[oi] = p.op === 'max' ? best : sum / area
        argmax[oi] = at
        if (p.op === 'max') { if (at >= 0) gx[at]! += p.g[oi]! }
        else
          for (let ky = 0; ky < p.window[0]; ky++)
            for (let kx = 0; kx < p.window[1]; kx++) gx[(bc * h + oy * p.stride[0] + ky) * w + ox * p.stride[1] + kx]! += p.g[oi]! / area
      }
  return { out, argmax, gx }
}

interface BnCase { readonly x: NDArray; readonly gamma: NDArray; readonly beta: NDArray; readonly g: NDArray; readonly eps: number }
const arbBn: fc.Arbitrary<BnCase> = fc
  .record({ n: small(6), c: small(9), spatial: fc.constantFrom<readonly number[]>([], [1, 1], [2, 3], [3, 1], [5, 5]), eps: fc.constantFrom(1e-5, 0.1) })
  .chain((p) => {
    const shape = [p.n, p.c, ...p.spatial]
    const size = shape.reduce((a, b) => a * b, 1)
    return fc.tuple(arrayOf(size, finite), arrayOf(p.c, finite), arrayOf(p.c, finite), arrayOf(size, finite))
      .map(([x, gamma, beta, g]) => ({ x: { shape, data: x }, gamma: { shape: [p.c], data: gamma }, beta: { shape: [p.c], data: beta }, g: { shape, data: g }, eps: p.eps }))
  })

/** Batch norm value by value, every per-channel sum over (b, spatial) in flat order. */
const bnOracle = (p: BnCase, batchStatistics: boolean, running: { mean: Float64Array; variance: Float64Array }) => {
  const c = p.x.shape[1]!
  const inner = p.x.data.length / (p.x.shape[0]! * c)
  const count = p.x.data.length / c
  const ch = (i: number): number => Math.floor(i / inner) % c
  const X = p.x.data
  const mean = new Float64Array(c)
  const variance = new Float64Array(c)
  for (let i = 0; i < X.length; i++) mean[ch(i)]! += X[i]! / count
  for (let i = 0; i < X.length; i++) variance[ch(i)]! += (X[i]! - mean[ch(i)]!) ** 2 / count
  const mu = batchStatistics ? mean : running.mean
  const vr = batchStatistics ? variance : running.variance
  const y = Float64Array.from(X, (v, i) => (p.gamma.data[ch(i)]! * (v - mu[ch(i)]!)) / Math.sqrt(vr[ch(i)]! + p.eps) + p.beta.data[ch(i)]!)
  const inv = Float64Array.from(vr, (v) => 1 / Math.sqrt(v + p.eps))
  const gGamma = new Float64Array(c)
  const gBeta = new Float64Array(c)
  const sumG = new Float64Array(c)
  const sumGXhat = new Float64Array(c)
  const G = p.g.data
  for (let i = 0; i < X.length; i++) {
    const k = ch(i)
    const xhat = (X[i]! - mu[k]!) * inv[k]!
    gGamma[k]! += G[i]! * xhat
    gBeta[k]! += G[i]!
    sumG[k]! += G[i]! * p.gamma.data[k]!
    sumGXhat[k]! += G[i]! * p.gamma.data[k]! * xhat
  }
  const gx = Float64Array.from(X, (v, i) => {
    const k = ch(i)
    const gamma = p.gamma.data[k]!
    if (!batchStatistics) return G[i]! * gamma * inv[k]!
    const xhat = (v - mu[k]!) * inv[k]!
    return (inv[k]! / count) * (count * (G[i]! * gamma) - sumG[k]! - xhat * sumGXhat[k]!)
  })
  return { mean, variance, y, gx, gGamma, gBeta }
}

const bits = (a: ArrayLike<number>): number[] => Array.from(a, (v) => (Object.is(v, -0) ? 0 : v))

describe('reference pooling and batch norm', () => {
  it('pool and poolBackward ≡ the cell-by-cell definition, bit for bit (values, argmax, input gradient)', () => {
    fc.assert(fc.property(arbPool, (p) => {
      const want = poolOracle(p)
      const got = pool(p.op, p.x, p.window, p.stride)
      expect(Array.from(got.out.data)).toEqual(Array.from(want.out))
      expect(Array.from(got.argmax)).toEqual(Array.from(want.argmax))
      const gx = poolBackward(p.op, p.x, { shape: got.out.shape, data: p.g }, got.argmax, p.window, p.stride)
      expect(bits(gx.data)).toEqual(bits(want.gx))
    }), { seed: 4040, numRuns: 200 })
  })

  it('batchStats, batchNorm and batchNormBackward ≡ the value-by-value definition, bit for bit (both modes, 2-D and 4-D)', () => {
    fc.assert(fc.property(arbBn, fc.boolean(), (p, train) => {
      const c = p.x.shape[1]!
      const running = { mean: Float64Array.from({ length: c }, (_, k) => k / 7 - 0.3), variance: Float64Array.from({ length: c }, (_, k) => 0.5 + k / 5) }
      const want = bnOracle(p, train, running)
      const st = batchStats(p.x)
      expect(Array.from(st.mean)).toEqual(Array.from(want.mean))
      expect(Array.from(st.variance)).toEqual(Array.from(want.variance))
      const stats = train ? st : running
      const values = { gamma: p.gamma, beta: p.beta, mean: { shape: [c], data: stats.mean }, variance: { shape: [c], data: stats.variance } }
      expect(bits(batchNorm(p.x, values, p.eps).data)).toEqual(bits(want.y))
      const r = batchNormBackward(p.x, values, p.eps, p.g, train)
      expect(bits(r.input.data)).toEqual(bits(want.gx))
      expect(bits(r.gamma.data)).toEqual(bits(want.gGamma))
      expect(bits(r.beta.data)).toEqual(bits(want.gBeta))
    }), { seed: 5050, numRuns: 150 })
  })
})
