/**
 * Gradient estimators as values. Each says what a binarize site outputs in the forward pass and
 * how the gradient crosses it in the reverse pass (MATH.md §3). A user passes one to the
 * gradient interpreter (`gradient.ts`), for all sites or per site; nothing is registered.
 */
import type { Noise } from '../dsl/noise.js'
import { logistic, none, showNoise, triangular, uniform } from '../dsl/noise.js'

export type Estimator =
  /**
   * Straight-through: forward samples x = sign(a − Z) with the site's own noise (`sample`) or
   * takes the mode sign(a) (`mode`, deterministic ST); backward ∂L/∂a := 2p(a)·∂L/∂x with p the
   * density of `backward` (`matched`: the site's own noise, the principled ST of MATH.md §3).
   */
  | { readonly kind: 'st'; readonly forward: 'sample' | 'mode'; readonly backward: 'matched' | Noise; readonly label: string }
  /**
   * Score function: (ℓ − b)·∇ log P(x | a) at every site plus the head's direct gradient.
   * Unbiased. With `baseline`, callers that draw repeatedly (the lab, the trainer) pass b = the
   * running mean of the previous losses through `GradientOptions.baseline`.
   */
  | { readonly kind: 'reinforce'; readonly baseline: boolean; readonly label: string }
  /** Augment-REINFORCE-merge per layer (Yin & Zhou), logistic noise only. Unbiased. */
  | { readonly kind: 'arm'; readonly label: string }
  /** Concrete / Gumbel-softmax relaxation at temperature τ: x = tanh((a − Z)/(2τ)). Biased. */
  | { readonly kind: 'concrete'; readonly temperature: number; readonly label: string }
  /** Mean-field propagation: x = 2F(a) − 1 deterministically, ordinary backprop. Biased, no variance. */
  | { readonly kind: 'meanfield'; readonly label: string }
  /** The gradient of the exact expected loss (the exact interpreter): the oracle. */
  | { readonly kind: 'exact'; readonly label: string }
  /**
   * Path sample-analytic (PSA.md): one ancestral sample, single flips of each unit summed
   * analytically, linearised across layers. A whole-network estimator for chains of binary
   * layers (`psa.ts`); biased beyond one hidden layer, low variance.
   */
  | { readonly kind: 'psa'; readonly label: string }
  /**
   * MuProp (Gu et al. 2016): REINFORCE at every site with the first-order Taylor expansion of the
   * loss around the mean-field pass as control variate, plus that expansion's analytic gradient.
   * A whole-network estimator (`muprop.ts`). Unbiased.
   */
  | { readonly kind: 'muprop'; readonly label: string }
  /** DisARM (Dong, Mnih & Tucker 2020) per layer: ARM's antithetic pair, Rao–Blackwellised over u. Logistic noise only. Unbiased. */
  | { readonly kind: 'disarm'; readonly label: string }
  /**
   * Straight-through Gumbel-softmax (Jang et al. 2017) at temperature τ: forward the hard sample
   * x = sign(a − Z), backward the derivative of its relaxation tanh((a − Z)/(2τ)). Biased.
   */
  | { readonly kind: 'gumbel-st'; readonly temperature: number; readonly label: string }
  /**
   * REINFORCE with `samples` draws per example, each baselined by the mean loss of the other
   * draws of the same example (leave-one-out, Kool et al. 2019); averaged. Unbiased.
   */
  | { readonly kind: 'reinforce-loo'; readonly samples: number; readonly label: string }

/** Principled ST: sample with the site's noise, back-propagate its own factor 2p(a). */
export const st = (): Estimator => ({ kind: 'st', forward: 'sample', backward: 'matched', label: 'st' })

/** The empirical proxies and the noise whose 2p(a) they equal (MATH.md §2). */
export const proxies = {
  identity: none,
  hardtanh: uniform(1),
  tanh: logistic(0.5),
  approxsign: triangular(1),
} as const satisfies Record<string, Noise>
export type Proxy = keyof typeof proxies

/** Deterministic ST: forward sign(a) (the mode, not the SBN objective), backward a proxy derivative. */
export const deterministicSt = (proxy: Proxy): Estimator => ({
  kind: 'st', forward: 'mode', backward: proxies[proxy], label: `det:${proxy}`,
})

/**
 * Mismatched ST: sample with the site's noise, back-propagate another noise's factor (a proxy
 * name or any noise). Labelled `mismatched:<backward>` so it is never mistaken for `st`.
 */
export const mismatchedSt = (backward: Proxy | Noise): Estimator => {
  const noise = typeof backward === 'string' ? proxies[backward] : backward
  return { kind: 'st', forward: 'sample', backward: noise, label: `mismatched:${typeof backward === 'string' ? backward : showNoise(noise)}` }
}

/**
 * REINFORCE: no baseline, a running-mean baseline (`baseline: true`), or the leave-one-out
 * baseline over `samples` (≥ 2, default 2) draws per example (`baseline: 'loo'`).
 * @example reinforce({ baseline: 'loo', samples: 4 }).label // 'reinforce:loo:4'
 */
export const reinforce = (opts: { readonly baseline?: boolean | 'loo'; readonly samples?: number } = {}): Estimator => {
  if (opts.baseline === 'loo') {
    const samples = opts.samples ?? 2
    return { kind: 'reinforce-loo', samples, label: `reinforce:loo:${samples}` }
  }
  return opts.baseline === true ? { kind: 'reinforce', baseline: true, label: 'reinforce+baseline' } : { kind: 'reinforce', baseline: false, label: 'reinforce' }
}
export const psa = (): Estimator => ({ kind: 'psa', label: 'psa' })
export const muprop = (): Estimator => ({ kind: 'muprop', label: 'muprop' })
export const disarm = (): Estimator => ({ kind: 'disarm', label: 'disarm' })
export const gumbelSt = (temperature: number): Estimator => ({ kind: 'gumbel-st', temperature, label: `gumbel-st:${temperature}` })
/** The estimators that treat the whole network at once (not a rule per site). */
export const isWholeNetwork = (e: Estimator): boolean => e.kind === 'psa' || e.kind === 'muprop' || e.kind === 'reinforce-loo' || e.kind === 'exact'
export const arm = (): Estimator => ({ kind: 'arm', label: 'arm' })
export const concrete = (temperature: number): Estimator => ({ kind: 'concrete', temperature, label: `concrete:${temperature}` })
export const meanfield = (): Estimator => ({ kind: 'meanfield', label: 'meanfield' })
export const exactGradient = (): Estimator => ({ kind: 'exact', label: 'exact' })

/**
 * How a weight gradient reaches the latent η of a Bernoulli weight (MATH.md §4):
 * `mirror` passes ∂f/∂w straight through (the latent-weight / mirror-descent direction, an
 * estimate of ∂L/∂μ); `st-gd` multiplies by 2p_w(η) (an estimate of ∂L/∂η, plain gradient descent).
 */
export type LatentRule = 'mirror' | 'st-gd'

/**
 * Parses the names used on the command line. A bare proxy name (`identity`, `hardtanh`, `tanh`,
 * `approxsign`) means sampling with the site's noise and back-propagating that proxy, i.e.
 * `mismatched:<proxy>` (what MATH.md §6 T7 compares against matched ST); `det:<proxy>` is the
 * deterministic ST of the empirical literature.
 */
export const parseEstimator = (name: string): Estimator | undefined => {
  const [head, arg, more] = name.split(':') as [string, string | undefined, string | undefined]
  if (head === 'reinforce' && arg === 'loo') {
    const k = more === undefined ? 2 : Number(more)
    return Number.isInteger(k) && k >= 2 && k <= 1000 ? reinforce({ baseline: 'loo', samples: k }) : undefined
  }
  if (more !== undefined) return undefined
  if (head === 'psa' && arg === undefined) return psa()
  if (head === 'muprop' && arg === undefined) return muprop()
  if (head === 'disarm' && arg === undefined) return disarm()
  if (head === 'st' && arg === undefined) return st()
  if (head in proxies && arg === undefined) return mismatchedSt(head as Proxy)
  if (head === 'det' && arg !== undefined && arg in proxies) return deterministicSt(arg as Proxy)
  if (head === 'mismatched' && arg !== undefined && arg in proxies) return mismatchedSt(arg as Proxy)
  if (head === 'reinforce' && arg === undefined) return reinforce()
  if (head === 'reinforce' && arg === 'baseline') return reinforce({ baseline: true })
  if (head === 'arm' && arg === undefined) return arm()
  if (head === 'meanfield' && arg === undefined) return meanfield()
  if (head === 'exact' && arg === undefined) return exactGradient()
  if ((head === 'concrete' || head === 'gumbel-st') && arg !== undefined) {
    const t = Number(arg)
    return Number.isFinite(t) && t > 0 ? (head === 'concrete' ? concrete(t) : gumbelSt(t)) : undefined
  }
  return undefined
}

export const estimatorNames = 'st, identity, hardtanh, tanh, approxsign (= mismatched:<proxy>), det:<proxy>, reinforce, reinforce:baseline, reinforce:loo[:K], arm, disarm, muprop, psa, concrete:<τ>, gumbel-st:<τ>, meanfield, exact'
