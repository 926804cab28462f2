/**
 * Binary weights in the layouts their consumers read (layout.ts rules 5 and 6): packed once at
 * compile time when constant, or re-drawn on every pass when they are `binarize(η, noise)` in a
 * sampling mode. A re-drawn tensor uses the Monte Carlo interpreter's rule exactly: draw i (the
 * flat index in the weight tensor's own shape) of the site key, +1 iff u < T(F(η_i)), with the
 * thresholds T precomputed here; one draw per pass, shared by the whole batch.
 */
import type { SiteId } from '../../dsl/node.js'
import type { ProperNoise } from '../../dsl/noise.js'
import { noiseFns } from '../../dsl/distributions.js'
import { threshold } from '../reference/sampling.js'
import type { BufferKind } from './kernels.js'
import { bitOf, packConvWeights, packDenseWeights, rowBytes, rowWords32, wordOf } from './layout.js'
import type { WordBits } from './layout.js'
import type { Step } from './plan.js'

/** Where weights come from: constant values (±1), or latent values η drawn per pass. */
export type WeightSource =
  | { readonly kind: 'static'; readonly values: Float64Array }
  | { readonly kind: 'sampled'; readonly eta: Float64Array; readonly noise: ProperNoise; readonly site: SiteId }

/** What the lowering lends these helpers: buffer allocation, step and site registration. */
export interface Emit {
  readonly buffer: (name: string, kind: BufferKind, perExample: boolean | 'perThread', bytes: number, init?: Int32Array | Float64Array) => number
  readonly step: (s: Step) => void
  readonly site: (s: SiteId) => void
  readonly wordBits: WordBits
}

/** A static buffer of the site's `count` draws, filled by a FillRandom kernel on every pass. */
const drawsOf = (emit: Emit, ws: Extract<WeightSource, { kind: 'sampled' }>, name: string, count: number): number => {
  const draws = emit.buffer(`${name} weight draws`, 'u32', false, 4 * count)
  emit.site(ws.site)
  emit.step({ _tag: 'Kernel', kernel: { _tag: 'FillRandom', label: `${name} weights`, out: draws, count, perExample: false, site: ws.site } })
  return draws
}

/** Dense weights [K, N] packed transposed, static or re-drawn on every pass. */
export const packedDenseWeights = (emit: Emit, ws: WeightSource, name: string, k: number, n: number, width: number, map?: Int32Array): number => {
  const wb = emit.wordBits
  const bytes = n * rowBytes(width, wb)
  if (ws.kind === 'static') return emit.buffer(`${name} weights`, 'bits', false, bytes, packDenseWeights(ws.values, k, n, wb, map, width))
  const id = emit.buffer(`${name} weights (sampled)`, 'bits', false, bytes)
  const cdf = noiseFns(ws.noise).cdf
  const t = Float64Array.from(ws.eta, (e) => threshold(cdf(e)))
  const stride = rowWords32(width, wb)
  const draws = drawsOf(emit, ws, name, k * n)
  emit.step({
    _tag: 'Generic', label: `sample weights ${ws.site}`, reason: 'weights are drawn once per pass: compare and pack in JavaScript',
    reads: [],
    run: (env) => {
      const u = env.views.u32.subarray(env.addr(draws) / 4, env.addr(draws) / 4 + k * n)
      const base = env.addr(id) / 4
      const w = env.views.i32
      w.fill(0, base, base + n * stride)
      for (let i = 0; i < k; i++) {
        const f = map === undefined ? i : map[i]!
        for (let j = 0; j < n; j++) if (u[i * n + j]! < t[i * n + j]!) w[base + j * stride + wordOf(f)]! |= 1 << bitOf(f)
      }
    },
  })
  return id
}

/** Convolution kernel K [O, C, kh, kw] as O·kh·kw rows of C bits, static or re-drawn per pass. */
export const packedConvWeights = (emit: Emit, ws: WeightSource, name: string, o: number, c: number, kh: number, kw: number): number => {
  const wb = emit.wordBits
  const stride = rowWords32(c, wb)
  const bytes = o * kh * kw * 4 * stride
  if (ws.kind === 'static') return emit.buffer(`${name} kernel`, 'bits', false, bytes, packConvWeights(ws.values, o, c, kh, kw, wb))
  const id = emit.buffer(`${name} kernel (sampled)`, 'bits', false, bytes)
  const cdf = noiseFns(ws.noise).cdf
  const t = Float64Array.from(ws.eta, (e) => threshold(cdf(e)))
  const draws = drawsOf(emit, ws, name, t.length)
  emit.step({
    _tag: 'Generic', label: `sample kernel ${ws.site}`, reason: 'weights are drawn once per pass: compare and pack in JavaScript',
    reads: [],
    run: (env) => {
      const u = env.views.u32.subarray(env.addr(draws) / 4, env.addr(draws) / 4 + t.length)
      const base = env.addr(id) / 4
      const w = env.views.i32
      w.fill(0, base, base + o * kh * kw * stride)
      for (let i = 0; i < t.length; i++) {
        if (!(u[i]! < t[i]!)) continue
        const dx = i % kw
        const dy = Math.floor(i / kw) % kh
        const ic = Math.floor(i / (kw * kh)) % c
        const oc = Math.floor(i / (kw * kh * c))
        w[base + ((oc * kh + dy) * kw + dx) * stride + wordOf(ic)]! |= 1 << bitOf(ic)
      }
    },
  })
  return id
}
