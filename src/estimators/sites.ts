/**
 * Per-site forward and reverse rules of the gradient interpreter, one per estimator kind.
 * Every random choice reads uint32 draws from a `BitSource`; the default source is the keyed
 * PRNG with the Monte Carlo interpreter's index convention, so an ST forward pass produces the
 * same bits as a Monte Carlo sample with the same key.
 */
import type { Binarize } from '../dsl/node.js'
import type { Noise } from '../dsl/noise.js'
import { hasBatch } from '../dsl/shape.js'
import type { Key } from '../dsl/random.js'
import { fillBits, siteKey, toUnit } from '../dsl/random.js'
import type { NDArray } from '../interpreters/ndarray.js'
import type { MatrixProducts } from '../interpreters/reference/ops.js'
import { noiseFns, stFactor, stFactorTimes } from '../dsl/distributions.js'
import { sign, signsFromBits } from '../interpreters/reference/sampling.js'
import type { Estimator, LatentRule } from './estimator.js'

/**
 * Where the draws of one site in one pass come from: `count` uint32 values, from the stream's
 * word `offset` on (default 0; a pass over some rows of a minibatch starts at its first row's).
 */
export type BitSource = (pass: Key, site: string, count: number, offset?: number) => Uint32Array

export const keyedSource: BitSource = (pass, site, count, offset = 0) => fillBits(siteKey(pass, site), offset, new Uint32Array(count))

const map = (a: NDArray, f: (x: number, i: number) => number): NDArray => {
  const out = new Float64Array(a.data.length)
  for (let i = 0; i < out.length; i++) out[i] = f(a.data[i]!, i)
  return { shape: a.shape, data: out }
}

export const isWeight = (node: Binarize): boolean => !hasBatch(node.type.shape)

/** x = +1 iff u < T(F(a)): the sampling rule shared with Monte Carlo. */
export const sampleWith = (noise: Noise, a: NDArray, u: Uint32Array): NDArray => {
  const out = new Float64Array(a.data.length)
  signsFromBits(u, a.data, 0, noise, out, 0, out.length)
  return { shape: a.shape, data: out }
}

export const signOf = (a: NDArray): NDArray => map(a, sign)

/** What one site does in the forward pass; `u` (uniforms in (0,1)) is kept for ARM. */
export const forwardSite = (
  est: Estimator, node: Binarize, a: NDArray, bits: Uint32Array, weightMode: boolean,
): { readonly x: NDArray; readonly u?: Float64Array } => {
  const noise = node.noise
  if (weightMode || noise.family === 'none') return { x: signOf(a) }
  switch (est.kind) {
    case 'st':
      return { x: est.forward === 'mode' ? signOf(a) : sampleWith(noise, a, bits) }
    case 'reinforce':
    case 'reinforce-loo':
    case 'psa':
    case 'muprop':
    case 'exact':
      return { x: sampleWith(noise, a, bits) }
    case 'gumbel-st':
      // The hard sample is ST's (same bits, same states); the uniforms give Z for the backward.
      return { x: sampleWith(noise, a, bits), u: Float64Array.from(bits, toUnit) }
    case 'arm':
    case 'disarm': {
      // b1 = [u > σ(−a)] (MATH.md §3); the forward pass continues with b1.
      const F = noiseFns(noise).cdf
      const u = Float64Array.from(bits, toUnit)
      return { x: map(a, (v, i) => (u[i]! > F(-v) ? 1 : -1)), u }
    }
    case 'concrete': {
      const { sample } = noiseFns(noise)
      return { x: map(a, (v, i) => Math.tanh((v - sample(toUnit(bits[i]!))) / (2 * est.temperature))) }
    }
    case 'meanfield': {
      const F = noiseFns(noise).cdf
      return { x: map(a, (v) => 2 * F(v) - 1) }
    }
  }
}

/**
 * The pathwise reverse rule of one site (undefined: no pathwise gradient, as for the
 * score-function estimators, whose terms are seeded separately). For weight sites the factor
 * follows the latent rule: `mirror` passes ∂f/∂w through unchanged, `st-gd` multiplies by the
 * estimator's factor (2p_w(η) when matched).
 */
export const backwardSite = (
  est: Estimator, node: Binarize, a: NDArray, x: NDArray, g: NDArray, latent: LatentRule, u?: Float64Array,
  products?: Pick<MatrixProducts, 'alloc' | 'stFactorTimes'>,
): NDArray | undefined => {
  const weight = isWeight(node)
  switch (est.kind) {
    case 'reinforce':
    case 'reinforce-loo':
    case 'arm':
    case 'disarm':
    case 'psa':
    case 'muprop':
    case 'exact':
      return undefined
    case 'gumbel-st': {
      // d/da tanh((a − Z)/(2τ)) = (1 − y²)/(2τ) at the relaxed value y of the drawn Z = F⁻¹(u).
      if (u === undefined) return undefined
      const t = est.temperature
      const { sample } = noiseFns(node.noise)
      const d = map(a, (v, i) => {
        const y = Math.tanh((v - sample(u[i]!)) / (2 * t))
        return ((1 - y * y) / (2 * t)) * g.data[i]!
      })
      return weight && latent === 'mirror' ? toMirror(node, a, d) : d
    }
    case 'st': {
      // Under `st-gd` a weight site takes the estimator's own factor too (matched: 2p_w(η)), so a
      // mismatched label never hides a matched backward.
      if (weight && latent === 'mirror') return g
      const noise = est.backward === 'matched' ? node.noise : est.backward
      return { shape: a.shape, data: products?.stFactorTimes?.(noise, a.data, g.data) ?? stFactorTimes(noise, a.data, g.data, products?.alloc) }
    }
    case 'concrete': {
      // d/da tanh((a − Z)/(2τ)) = (1 − x²)/(2τ); for weights under `mirror`, divided by dμ/dη = 2p(η).
      const t = est.temperature
      const d = map(x, (v, i) => ((1 - v * v) / (2 * t)) * g.data[i]!)
      return weight && latent === 'mirror' ? toMirror(node, a, d) : d
    }
    case 'meanfield':
      if (weight && latent === 'mirror') return g
      return { shape: a.shape, data: stFactorTimes(node.noise, a.data, g.data) }
  }
}

/** Converts a gradient with respect to η into the mirror direction ∂/∂μ = (∂/∂η) / (2p(η)). */
export const toMirror = (node: Binarize, a: NDArray, gEta: NDArray): NDArray => {
  const factor = stFactor(node.noise)
  return map(a, (v, i) => {
    const f = factor(v)
    return f > 0 ? gEta.data[i]! / f : 0
  })
}
