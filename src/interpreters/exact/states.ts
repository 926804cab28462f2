/**
 * Joint states of n binary units and the probability factors of a layer.
 * State s ∈ [0, 2ⁿ) gives unit j the value +1 when bit j of s is set, −1 otherwise.
 */
import type { Binarize } from '../../dsl/node.js'
import type { Noise } from '../../dsl/noise.js'
import type { NDArray } from '../ndarray.js'
import type { BinarizeRule } from '../reference/forward.js'
import { modeRule } from '../reference/sampling.js'
import { noiseFns } from '../../dsl/distributions.js'

/** All 2ⁿ states as a [2ⁿ, n] row-major ±1 matrix. */
export const allStates = (n: number): Float64Array => {
  const rows = 2 ** n
  const out = new Float64Array(rows * n)
  for (let s = 0; s < rows; s++) for (let j = 0; j < n; j++) out[s * n + j] = (s >> j) & 1 ? 1 : -1
  return out
}

/** Per-unit F(a), F(−a) and p(a) for a vector of pre-activations. */
export interface UnitFactors {
  readonly plus: Float64Array
  readonly minus: Float64Array
  readonly density: Float64Array
}

export const unitFactors = (pre: Float64Array, noise: Noise): UnitFactors => {
  const f = noiseFns(noise)
  const plus = new Float64Array(pre.length)
  const minus = new Float64Array(pre.length)
  const density = new Float64Array(pre.length)
  for (let i = 0; i < pre.length; i++) {
    plus[i] = f.cdf(pre[i]!)
    minus[i] = f.cdf(-pre[i]!)
    density[i] = f.pdf(pre[i]!)
  }
  return { plus, minus, density }
}

/**
 * For a row of n units starting at `off`: the probability of state s, Π_j F(σ_j a_j), and (if
 * `dOut` is given) adds `scale · ∂P/∂a_j = scale · σ_j p(a_j) Π_{i≠j} F(σ_i a_i)` into dOut.
 * Products over the others use prefix/suffix products, so zero factors (uniform noise) are exact.
 */
export const stateProb = (
  u: UnitFactors, off: number, n: number, s: number, dOut?: Float64Array, dOff = 0, scale = 1, prefix = new Float64Array(n + 1),
): number => {
  prefix[0] = 1
  for (let j = 0; j < n; j++) prefix[j + 1] = prefix[j]! * ((s >> j) & 1 ? u.plus[off + j]! : u.minus[off + j]!)
  const p = prefix[n]!
  if (dOut !== undefined && scale !== 0) {
    let suffix = 1
    for (let j = n - 1; j >= 0; j--) {
      const sigma = (s >> j) & 1 ? 1 : -1
      dOut[dOff + j]! += scale * sigma * u.density[off + j]! * prefix[j]! * suffix
      suffix *= (s >> j) & 1 ? u.plus[off + j]! : u.minus[off + j]!
    }
  }
  return p
}

/** Binarize rule for enumeration: the given state of each enumerated site; sign for `none`. */
export const fixedRule = (fixed: ReadonlyMap<Binarize, NDArray>): BinarizeRule => (node, input) =>
  fixed.get(node) ?? modeRule(node, input)

/** Bit `b` of a (possibly > 2³¹) non-negative integer. */
export const bit = (x: number, b: number): number => Math.floor(x / 2 ** b) % 2
