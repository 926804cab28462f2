/**
 * Bop, the binary optimizer of Helwegen et al. (2019, "Latent weights do not exist"): it keeps
 * an exponential moving average m of the gradient with respect to the binary weight and flips a
 * weight when the average is both strong enough and pushes against the weight's current sign:
 *
 *     m ← (1 − γ)·m + γ·g,     w ← −w  where |m| > τ and sign(m) = sign(w).
 *
 * The binary weight is stored in the latent parameter itself as η ∈ {−1, +1} and read with
 * w = sign(η) (weight sampling `mode`). The first step rounds any initial η to sign(η) (the mode
 * network reads only that sign, so the rounding does not change it); after that every η stays at
 * magnitude 1. Bop has no learning rate: `lr` is ignored. MATH.md §4: with τ = 0 it is mirror
 * descent with latent weight decay λ and γ = ελ, η_t = −m_t/λ, rounded to w = sign(η).
 */
import { InternalError } from '../../dsl/dslErrors.js'
import type { Optimizer } from '../optimizers.js'
import { fromUpdateRule } from '../optimizers.js'
import { sign } from '../../interpreters/reference/sampling.js'

export interface BopOptions {
  /** The adaptivity rate γ in (0, 1] of the gradient average (Helwegen et al.'s default 1e−4). */
  readonly gamma?: number
  /** The flip threshold τ ≥ 0 (their default 1e−8); larger τ adds hysteresis. */
  readonly threshold?: number
}


/**
 * The Bop optimizer for latent parameters read by binarize nodes.
 * @example
 * const opt = bop({ gamma: 1e-4, threshold: 1e-8 })
 */
export const bop = (opts: BopOptions = {}): Optimizer => {
  const gamma = opts.gamma ?? 1e-4
  const tau = opts.threshold ?? 1e-8
  if (!(gamma > 0 && gamma <= 1)) throw new RangeError(`bop: gamma must be in (0, 1], found ${gamma}`)
  if (!(tau >= 0 && Number.isFinite(tau))) throw new RangeError(`bop: threshold must be finite and ≥ 0, found ${tau}`)
  return fromUpdateRule(`bop(gamma=${gamma},threshold=${tau})`, 1, (eta, g, [m]) => {
    if (m === undefined) throw new InternalError('bop: one slot expected')
    for (let i = 0; i < eta.length; i++) {
      const mi = (1 - gamma) * m[i]! + gamma * g[i]!
      m[i] = mi
      const w = sign(eta[i]!)
      eta[i] = Math.abs(mi) > tau && sign(mi) === w ? -w : w
    }
  })
}
