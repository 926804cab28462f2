/**
 * Noise descriptors for `binarize` (MATH.md §2): a unit is x = sign(a − Z) with Z from one of
 * these families at a scale s, so P(x = +1) = F(a / s). `none` is the deterministic sign.
 * The numerical functions of each family (cdf, pdf, inverse cdf, sampler) live in
 * `distributions.ts`; this file is only the data the IR stores.
 */

export const noiseFamilies = ['logistic', 'uniform', 'triangular', 'normal'] as const
export type NoiseFamily = (typeof noiseFamilies)[number]

export type Noise =
  | { readonly family: NoiseFamily; readonly scale: number }
  /** The deterministic sign: no noise (sign(0) = +1 by the sampling rule u < T(a)). */
  | { readonly family: 'none' }

export type ProperNoise = Extract<Noise, { readonly scale: number }>

/** Logistic noise, F(a) = σ(a/s). Scale 1 is the SBN default; scale ½ gives the tanh proxy. */
export const logistic = (scale = 1): Noise => ({ family: 'logistic', scale })
/** Uniform noise on [−s, s]: the hardtanh proxy and the BNN clipped identity. */
export const uniform = (scale = 1): Noise => ({ family: 'uniform', scale })
/** Triangular noise on [−s, s]: the ApproxSign proxy of Bi-Real Net. */
export const triangular = (scale = 1): Noise => ({ family: 'triangular', scale })
/** Normal noise N(0, s²): the probit SBN. */
export const normal = (scale = 1): Noise => ({ family: 'normal', scale })
/** No noise: the deterministic sign. */
export const none: Noise = { family: 'none' }

export const isStochastic = (n: Noise): n is ProperNoise => n.family !== 'none'

/** A noise as it is written in model files and printed: `logistic(1)`, `none`. */
export const showNoise = (n: Noise): string => (n.family === 'none' ? 'none' : `${n.family}(${n.scale})`)
