/**
 * Checks of a training configuration against its network and data (every option a user can get
 * wrong is a value, not a throw), and its fingerprint: the settings that determine a run's
 * trajectory, stored in checkpoints so that a resume under different settings is refused rather
 * than silently producing a run that is neither the old one nor a fresh one.
 */
import * as E from 'fp-ts/lib/Either.js'
import { topoOrder } from '../dsl/fold.js'
import type { Checked, Network } from '../dsl/node.js'
import { seedKey } from '../dsl/random.js'
import type { Estimator } from '../estimators/estimator.js'
import type { RunError } from '../interpreters/runErrors.js'
import type { MatrixProducts } from '../interpreters/reference/ops.js'
import { referenceProducts } from '../interpreters/reference/ops.js'
import { fastProducts, fastThreadedProducts } from './fast/index.js'
import type { ThreadedProducts } from './threads/threadedProducts.js'
import type { Dataset, EvaluationInterpreter } from './evaluate.js'
import type { Optimizer } from './optimizers.js'
import type { Recipe } from './recipes.js'
import type { Schedule } from './schedules.js'
import { showSchedule } from './schedules.js'

// ---------------------------------------------------------------------------------------------
// Model

export interface TrainConfig {
  /** Estimator of activation sites. */
  readonly estimator: Estimator
  /** Estimator of weight sites. */
  readonly weightEstimator: Estimator
  /** Per-site overrides by site id (each id must exist in the network). */
  readonly sites?: Readonly<Record<string, Estimator>>
  /** How latent weights are trained (latent rule, weight sampling, optimizer). */
  readonly recipe: Recipe
  /** The optimizer of real parameters (biases, the real head, batch-norm gains). */
  readonly optimizer: Optimizer
  readonly lr: number
  readonly schedule: Schedule
  readonly epochs: number
  readonly batchSize: number
  readonly seed: number
  /** Ensemble size K of the evaluations. */
  readonly ensemble: number
  /** Stop after this many epochs without a better validation score (needs validation). */
  readonly patience?: number
  /**
   * What "better on validation" means for early stopping and the returned parameters: the mode
   * network's accuracy (default) or the ensemble's (the SBN's own predictive distribution).
   */
  readonly select?: 'mode' | 'ensemble'
  /** A step record every this many optimizer steps (0: none). */
  readonly logEvery?: number
  /**
   * Matrix-product kernels of the passes, with a name for checkpoints. Default: `defaultProducts()`,
   * the fast WebAssembly kernels where the host has them (as `sbnkit train`), else the reference
   * loops; `referenceProductChoice` asks for the reference float64 loops explicitly.
   */
  readonly products?: ProductChoice
  /** Rows per evaluation pass of the reference path (default 1000; the result does not depend on it). */
  readonly evalChunk?: number
  /**
   * Who evaluates validation and test sets: `auto` (default: the compiled interpreter, unless it
   * would multiply real inputs in float64, see `evaluateSet`), `compiled` (bit-identical to the
   * reference path with the reference kernels, falling back to it where it cannot serve) or
   * `reference` (the reference interpreter with the training kernels).
   */
  readonly evaluation?: EvaluationInterpreter
  /**
   * Threads of the fast kernels, the calling one included (default: every core,
   * `availableCores()`). The results do not depend on it, bit for bit, so a run may be resumed
   * with another count; kernels without a threaded form (the reference loops) ignore it.
   */
  readonly threads?: number
  /**
   * Data parallelism (docs/training.md, "Data parallelism"): each minibatch is cut into this many
   * fixed contiguous slices, every sum over the batch is taken per slice and the slices' sums are
   * added in slice order, and the threads compute whole slices. Default 1 (no cut: the gradient
   * of one pass). The run depends on `parts` — a checkpoint records it — but not on `threads`.
   * Parts ≥ 2 need a per-site estimator with weights drawn per pass (see `partsProblem`).
   */
  readonly parts?: number
}

/** Matrix-product kernels with the name checkpoints record (`fast`, `reference`, …). */
export interface ProductChoice {
  readonly name: string
  readonly products: MatrixProducts
  /** The same kernels over `threads` threads (bit-identical), when they have such a form. */
  readonly threaded?: (threads: number) => E.Either<RunError, ThreadedProducts>
}

export interface TrainData {
  readonly train: Dataset
  readonly validation?: Dataset
  readonly test?: Dataset
}

/** A configuration that cannot run: an option out of range, or no training data. */
export type ConfigError =
  | { readonly _tag: 'InvalidConfig'; readonly option: string; readonly expected: string; readonly found: string }
  | { readonly _tag: 'Run'; readonly error: RunError }

// ---------------------------------------------------------------------------------------------
// Constructors

/**
 * The reference float64 loops, asked for explicitly (`{ ...config, products: referenceProductChoice }`).
 * @example train(net, data, { ...config, products: referenceProductChoice })
 */
export const referenceProductChoice: ProductChoice = { name: 'reference', products: referenceProducts }

let fastChoice: ProductChoice | undefined

/**
 * The fast WebAssembly SIMD kernels (`fastProducts()`) with their threaded form, or the reason
 * this host cannot run them.
 * @example E.isRight(fastKernelChoice()) // true on Node ≥ 20
 */
export const fastKernelChoice = (): E.Either<RunError, ProductChoice> =>
  E.map((kernels: MatrixProducts): ProductChoice => ({ name: 'fast', products: kernels, threaded: (threads) => fastThreadedProducts(threads) }))(fastProducts())

/**
 * The kernels `train()` uses when the configuration names none: the fast WebAssembly SIMD
 * kernels (`fastProducts()`, as `sbnkit train --products fast`) where the host validates them,
 * else the reference loops. Built once per process (the modules are compiled on first use).
 * @example productsOf(config).name // 'fast' on Node ≥ 20
 */
export const defaultProducts = (): ProductChoice => {
  if (fastChoice === undefined) {
    const fast = fastKernelChoice()
    fastChoice = E.isRight(fast) ? fast.right : referenceProductChoice
  }
  return fastChoice
}

/**
 * The kernels a configuration trains with: its own, else `defaultProducts()`.
 * @example productsOf({ ...config, products: referenceProductChoice }).name // 'reference'
 */
export const productsOf = (c: Pick<TrainConfig, 'products'>): ProductChoice => c.products ?? defaultProducts()

// ---------------------------------------------------------------------------------------------
// Rules

/** More threads than this would only add wake-ups (and the pool's control buffer grows with them). */
export const MAX_THREADS = 256

const isInt = (x: number, min: number): boolean => Number.isSafeInteger(x) && x >= min

const invalid = (option: string, expected: string, found: unknown): ConfigError =>
  ({ _tag: 'InvalidConfig', option, expected, found: String(found) })

/** The stochastic site ids of a network. */
export const siteIds = (net: Network): string[] =>
  topoOrder(Object.values(net.outputs)).flatMap((n) => (n._tag === 'Binarize' ? [n.site as string] : []))

/**
 * The first problem of a configuration, or undefined.
 * @example checkConfig(net, data, { ...config, batchSize: 0 }) // { _tag: 'InvalidConfig', option: 'batch size', … }
 */
export const checkConfig = (net: Checked<Network>, data: TrainData, c: TrainConfig): ConfigError | undefined => {
  if (!isInt(c.epochs, 0)) return invalid('epochs', 'a whole number ≥ 0', c.epochs)
  if (!isInt(c.batchSize, 1)) return invalid('batch size', 'a whole number ≥ 1', c.batchSize)
  if (!(Number.isFinite(c.lr) && c.lr > 0)) return invalid('learning rate', 'a finite number > 0', c.lr)
  if (!isInt(c.ensemble, 1)) return invalid('ensemble', 'a whole number of members ≥ 1', c.ensemble)
  if (c.logEvery !== undefined && !isInt(c.logEvery, 0)) return invalid('log every', 'a whole number of steps ≥ 0', c.logEvery)
  if (c.evalChunk !== undefined && !isInt(c.evalChunk, 1)) return invalid('evaluation chunk', 'a whole number of rows ≥ 1', c.evalChunk)
  if (c.threads !== undefined && !(isInt(c.threads, 1) && c.threads <= MAX_THREADS)) return invalid('threads', `a whole number of threads in [1, ${MAX_THREADS}]`, c.threads)
  if (c.parts !== undefined && !(isInt(c.parts, 1) && c.parts <= MAX_THREADS)) return invalid('parts', `a whole number of parts in [1, ${MAX_THREADS}]`, c.parts)
  const parted = partsProblem(c)
  if (parted !== undefined) return parted
  const seed = seedKey(c.seed)
  if (seed._tag === 'Left') return invalid('seed', 'an integer in [0, 2^53)', c.seed)
  if (c.patience !== undefined) {
    if (!isInt(c.patience, 1)) return invalid('patience', 'a whole number of epochs ≥ 1', c.patience)
    if (data.validation === undefined) return invalid('patience', 'a validation set to watch (early stopping needs one)', 'none')
  }
  const sites = new Set(siteIds(net))
  for (const id of Object.keys(c.sites ?? {}))
    if (!sites.has(id)) return invalid('site', `a stochastic site of the network (${[...sites].join(', ') || 'it has none'})`, `"${id}"`)
  if (data.train.size === 0) return { _tag: 'Run', error: { _tag: 'EmptyData' } }
  return undefined
}

/** Estimator kinds whose rules are per site and per row, which a minibatch cut into parts supports. */
const partable = new Set(['st', 'reinforce', 'concrete', 'meanfield', 'gumbel-st'])

/**
 * Why a configuration cannot train with parts ≥ 2, or undefined: the whole-network estimators
 * and ARM/DisARM (extra passes per site), and kernels a worker cannot rebuild (only `fast` and
 * `reference` can).
 * @example partsProblem({ ...config, parts: 2, estimator: psa() })?.option // 'parts'
 */
export const partsProblem = (c: TrainConfig): ConfigError | undefined => {
  if ((c.parts ?? 1) === 1) return undefined
  const fix = (what: string): ConfigError => invalid('parts', `1 with ${what} (data parallelism covers per-site estimators with weights drawn per pass)`, c.parts)
  for (const e of [c.estimator, c.weightEstimator, ...Object.values(c.sites ?? {})])
    if (!partable.has(e.kind)) return fix(`the ${e.label} estimator`)
  const kernels = productsOf(c).name
  if (kernels !== 'fast' && kernels !== 'reference') return fix(`the ${kernels} kernels`)
  return undefined
}

/**
 * The settings that determine a run's trajectory, as strings and numbers.
 * @example fingerprint(config).recipe // 'md'
 */
export const fingerprint = (c: TrainConfig): Readonly<Record<string, string | number>> => ({
  estimator: c.estimator.label,
  weightEstimator: c.weightEstimator.label,
  sites: JSON.stringify(Object.entries(c.sites ?? {}).map(([s, e]) => [s, e.label]).sort()),
  recipe: c.recipe.name,
  latent: c.recipe.latent,
  weightSampling: c.recipe.weightSampling,
  latentOptimizer: c.recipe.optimizer.name,
  optimizer: c.optimizer.name,
  lr: c.lr,
  schedule: showSchedule(c.schedule),
  epochs: c.epochs,
  batchSize: c.batchSize,
  seed: c.seed,
  ensemble: c.ensemble,
  patience: c.patience ?? 'none',
  select: c.select ?? 'mode',
  kernels: productsOf(c).name,
  // Only a non-default evaluation is recorded, so checkpoints made before the option existed still resume.
  ...(c.evaluation === undefined || c.evaluation === 'auto' ? {} : { evaluation: c.evaluation }),
  // Likewise only parts ≥ 2 (parts 1 is the one-pass gradient of earlier runs).
  ...((c.parts ?? 1) === 1 ? {} : { parts: c.parts! }),
})

/** Settings a resumed run may change: more epochs extend a finished run. */
const changeable = new Set(['epochs'])

/**
 * The settings of `given` that differ from the checkpoint's `saved`, as [name, saved, given].
 * @example resumeMismatches({ lr: 0.1 }, { lr: 0.2 }) // [['lr', '0.1', '0.2']]
 */
export const resumeMismatches = (
  saved: Readonly<Record<string, string | number>>, given: Readonly<Record<string, string | number>>,
): Array<readonly [string, string, string]> =>
  Object.keys({ ...saved, ...given })
    .filter((k) => !changeable.has(k) && saved[k] !== given[k])
    .map((k) => [k, String(saved[k] ?? 'unset'), String(given[k] ?? 'unset')] as const)
