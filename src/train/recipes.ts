/**
 * Recipes for Bernoulli weights w = sign(η − Z_w): how the latent η of a `Binarize(Param)` is
 * trained (MATH.md §4). A recipe fixes three things that must agree: the latent gradient
 * convention the gradient interpreter reports (`mirror`: ∂f/∂w passed straight to η; `st-gd`:
 * times 2p_w(η)), how weights are drawn in the differentiated pass, and the optimizer of η.
 *
 *   md      mirror descent with the entropy mirror map: η ← η − ε·ĝ (natural gradient on η).
 *   st-gd   plain gradient descent through the weight noise: η ← η − ε·2p_w(η)·ĝ.
 *   bnn     BinaryConnect/BNN: uniform(1) weight noise and η ← clip(η − εĝ, −1, 1), which is
 *           mirror descent for uniform noise (projected SGD on the mean weight μ = η).
 *   decay   md with latent weight decay λ: η ← η − ε(ĝ + λη), an entropy regulariser pulling
 *           P(w = +1) toward ½. With Adam the decay is coupled (fed through the moments).
 *   bop     Helwegen et al.'s flips on a gradient average; deterministic weights w = sign(η).
 *
 * "With Adam" means Adam on η with the recipe's gradient; Bop has no Adam form.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Noise } from '../dsl/noise.js'
import { none, uniform } from '../dsl/noise.js'
import { bop } from './optim/bop.js'
import type { Optimizer } from './optimizers.js'
import { adam, clipped, sgd } from './optimizers.js'

// ---------------------------------------------------------------------------------------------
// Model

export const recipeNames = ['md', 'st-gd', 'bnn', 'decay', 'bop'] as const
export type RecipeName = (typeof recipeNames)[number]

export interface Recipe {
  readonly name: RecipeName
  /** The latent gradient convention the gradient interpreter must use. */
  readonly latent: 'mirror' | 'st-gd'
  /** Weight sampling the gradient interpreter must use: one draw per pass, or w = sign(η). */
  readonly weightSampling: 'per-pass' | 'mode'
  /**
   * The weight noise the network's binary weights should be built with (uniform(1) for bnn,
   * none for bop), or undefined to keep the model's.
   */
  readonly weightNoise?: Noise
  /** The optimizer of the latent parameters. */
  readonly optimizer: Optimizer
}

/** The base optimizer a recipe wraps, and the one for real parameters. */
export type BaseName = 'sgd' | 'adam'

export interface BaseOptions {
  /** SGD momentum in [0, 1) (ignored by Adam). */
  readonly momentum?: number
  readonly nesterov?: boolean
  readonly beta1?: number
  readonly beta2?: number
  readonly eps?: number
  /** Coupled L2 weight decay ≥ 0. */
  readonly weightDecay?: number
}

export interface RecipeOptions {
  /** SGD momentum of md, st-gd, bnn and decay (default 0). Bop has its own average (bopGamma). */
  readonly momentum?: number
  /** The latent weight decay λ ≥ 0 of `decay` (default 1e−4). */
  readonly decay?: number
  /** Bop's flip threshold τ ≥ 0 (default 1e−8). */
  readonly bopThreshold?: number
  /** Bop's adaptivity rate γ in (0, 1] (default 1e−4). */
  readonly bopGamma?: number
  /**
   * Override the weight sampling of md, st-gd, bnn or decay: `mode` trains with w = sign(η) in
   * the forward pass (the deterministic BNN of Hubara et al. with `bnn`). Bop is always `mode`.
   */
  readonly weightSampling?: 'per-pass' | 'mode'
}

// ---------------------------------------------------------------------------------------------
// Constructors

/**
 * A validated SGD or Adam: the user-facing way to build the optimizer of real parameters.
 * @example
 * baseOptimizer('sgd', { momentum: 0.9 }) // right(sgd(momentum=0.9))
 */
export const baseOptimizer = (base: BaseName, opts: BaseOptions = {}): E.Either<string, Optimizer> => {
  const bad =
    invalid('momentum', opts.momentum, (x) => x >= 0 && x < 1, 'in [0, 1)') ??
    invalid('beta1', opts.beta1, (x) => x >= 0 && x < 1, 'in [0, 1)') ??
    invalid('beta2', opts.beta2, (x) => x >= 0 && x < 1, 'in [0, 1)') ??
    invalid('eps', opts.eps, (x) => x > 0, '> 0') ??
    invalid('weightDecay', opts.weightDecay, (x) => x >= 0, '≥ 0') ??
    (opts.nesterov === true && !((opts.momentum ?? 0) > 0) && base === 'sgd' ? 'sgd: nesterov needs a momentum > 0' : undefined)
  if (bad !== undefined) return E.left(bad)
  const wd = opts.weightDecay === undefined ? {} : { weightDecay: opts.weightDecay }
  if (base === 'sgd')
    return E.right(sgd({ ...wd, ...(opts.momentum === undefined ? {} : { momentum: opts.momentum }), ...(opts.nesterov === undefined ? {} : { nesterov: opts.nesterov }) }))
  return E.right(adam({
    ...wd,
    ...(opts.beta1 === undefined ? {} : { beta1: opts.beta1 }),
    ...(opts.beta2 === undefined ? {} : { beta2: opts.beta2 }),
    ...(opts.eps === undefined ? {} : { eps: opts.eps }),
  }))
}

/**
 * The recipe `name` on top of the base optimizer `base`, or why it cannot be built (bop with
 * Adam, an option out of range). Options a recipe does not use are ignored.
 * @example
 * recipe('md', 'adam') // right({ name: 'md', latent: 'mirror', weightSampling: 'per-pass', optimizer: adam(0.9,0.999) })
 */
export const recipe = (name: RecipeName, base: BaseName, opts: RecipeOptions = {}): E.Either<string, Recipe> => {
  const bad =
    invalid('decay', opts.decay, (x) => x >= 0, '≥ 0') ??
    invalid('bopThreshold', opts.bopThreshold, (x) => x >= 0, '≥ 0') ??
    invalid('bopGamma', opts.bopGamma, (x) => x > 0 && x <= 1, 'in (0, 1]')
  if (bad !== undefined) return E.left(`recipe ${name}: ${bad}`)
  const sampling = opts.weightSampling ?? 'per-pass'
  const momentum = base === 'sgd' && opts.momentum !== undefined ? { momentum: opts.momentum } : {}
  const withBase = (extra: BaseOptions): E.Either<string, Optimizer> =>
    E.mapLeft((e: string) => `recipe ${name}: ${e}`)(baseOptimizer(base, { ...momentum, ...extra }))
  switch (name) {
    case 'md':
      return E.map((optimizer: Optimizer): Recipe => ({ name, latent: 'mirror', weightSampling: sampling, optimizer }))(withBase({}))
    case 'st-gd':
      return E.map((optimizer: Optimizer): Recipe => ({ name, latent: 'st-gd', weightSampling: sampling, optimizer }))(withBase({}))
    case 'bnn':
      return E.map((optimizer: Optimizer): Recipe => ({
        name, latent: 'mirror', weightSampling: sampling, weightNoise: uniform(1), optimizer: clipped(optimizer, -1, 1),
      }))(withBase({}))
    case 'decay':
      // Coupled decay: the optimizer sees ĝ + λη, the mirror gradient of the regularised
      // objective, so its fixed points are that objective's stationary points (docs/training.md).
      return E.map((optimizer: Optimizer): Recipe => ({ name, latent: 'mirror', weightSampling: sampling, optimizer }))(
        withBase({ weightDecay: opts.decay ?? DEFAULT_DECAY }),
      )
    case 'bop':
      if (base === 'adam')
        return E.left('recipe bop: Bop is its own optimizer (a thresholded gradient average with no learning rate) and has no Adam form; use --optimizer sgd with bop, or another recipe with adam')
      return E.right({
        name, latent: 'mirror', weightSampling: 'mode', weightNoise: none,
        optimizer: bop({ gamma: opts.bopGamma ?? 1e-4, threshold: opts.bopThreshold ?? 1e-8 }),
      })
  }
}

/**
 * Parses a recipe name as written on the command line.
 * @example
 * parseRecipeName('st-gd') // right('st-gd')
 */
export const parseRecipeName = (text: string): E.Either<string, RecipeName> =>
  (recipeNames as readonly string[]).includes(text)
    ? E.right(text as RecipeName)
    : E.left(`recipe: expected one of ${recipeNames.join(', ')}, found ${JSON.stringify(text)}`)

// ---------------------------------------------------------------------------------------------
// Utilities

/** The default latent weight decay λ: per-weight mirror gradients of a wide layer are ~1e−4. */
export const DEFAULT_DECAY = 1e-4

const invalid = (field: string, x: number | undefined, ok: (x: number) => boolean, expected: string): string | undefined =>
  x === undefined || (Number.isFinite(x) && ok(x)) ? undefined : `${field} must be ${expected}, found ${x}`
