/**
 * DisARM (Dong, Mnih & Tucker 2020), per layer like ARM: the same antithetic pair
 * b1 = [u > F(−a)], b2 = [u < F(a)] and the same two losses f1, f2 (the rest of the network drawn
 * afresh from each), but ARM's factor (u − ½) is replaced by its conditional expectation given
 * the pair, which is zero where b1 and b2 agree:
 *
 *   ĝ_(a_i) = ½ (f1 − f2) · x1_i · [x1_i ≠ x2_i] · σ(|a_i|/s)/s      (logistic noise of scale s).
 *
 * For one unit the pair differs with probability 2σ(−|a|/s), which gives E[ĝ] = σ(a/s)σ(−a/s)/s ·
 * (f(+1) − f(−1)) = p(a)(f(+1) − f(−1)), the exact derivative. Unbiased, with a variance never
 * above ARM's (a Rao–Blackwellisation of it).
 */
import type { Binarize } from '../dsl/node.js'
import type { NDArray } from '../interpreters/ndarray.js'
import { noiseFns } from '../interpreters/noise.js'
import { isWeight } from './sites.js'

/** DisARM's seed at the site's pre-activation, from ARM's uniforms `u`, state x = b1 and losses. */
export const disarmSeed = (
  s: Binarize, a: NDArray, x: NDArray, u: Float64Array, f: { readonly f1: Float64Array; readonly f2: Float64Array }, batch: number,
): Float64Array => {
  const F = noiseFns(s.noise).cdf
  const scale = s.noise.family === 'logistic' ? s.noise.scale : 1
  const weight = isWeight(s)
  const perUnit = x.data.length / (weight ? 1 : batch)
  const mean = (v: Float64Array): number => v.reduce((t, y) => t + y, 0) / v.length
  const whole = weight ? mean(f.f1) - mean(f.f2) : 0
  return Float64Array.from(a.data, (v, i) => {
    const x1 = x.data[i]!
    const x2 = u[i]! < F(v) ? 1 : -1
    if (x1 === x2) return 0
    const diff = weight ? whole : (f.f1[Math.floor(i / perUnit)]! - f.f2[Math.floor(i / perUnit)]!) / batch
    return (0.5 * diff * x1 * F(Math.abs(v))) / scale
  })
}
