/**
 * The standard recipe: what `npm start` trains with, what `sbnkit train` does by default, and the
 * best deterministic path measured for the principled recipe (docs/training.md, "Deterministic
 * networks"; docs/experiments.md, the `st-md-b256` rows). Matched ST (logistic noise on weights
 * and units, backward factor 2p(a)), mirror descent on the latent weights with Adam, batch norm
 * before every binary activation, batch 256, lr 0.2 on a cosine schedule to 0, 16 epochs; after
 * training, the mode network's batch-norm statistics re-estimated under itself (`recalibrateMode`).
 *
 * The values are plain data so that the command line, `npm start` and the experiments read one
 * source; `standardConfig` turns them into a `TrainConfig` for the library.
 */
import * as E from 'fp-ts/lib/Either.js'
import { st } from '../estimators/estimator.js'
import type { Checked, Network } from '../dsl/node.js'
import type { TrainConfig } from './config.js'
import { fanInScales, perParameterLr } from './fanInLr.js'
import { adam } from './optimizers.js'
import type { BaseName, RecipeName } from './recipes.js'
import { recipe } from './recipes.js'

// ---------------------------------------------------------------------------------------------
// Model

export interface StandardRecipe {
  readonly recipe: RecipeName
  readonly optimizer: BaseName
  /** Estimator of activation and weight sites (catalogue name). */
  readonly estimator: string
  readonly lr: number
  /** Schedule as written on the command line (`cosine`: to 0 over the run's epochs). */
  readonly schedule: string
  readonly epochs: number
  readonly batch: number
  /** Batch normalisation before every binary activation of a preset. */
  readonly batchNorm: boolean
  /** Ensemble size of the evaluations. */
  readonly ensemble: number
  /** Re-estimate the mode network's batch-norm statistics after training (`recalibrateMode`). */
  readonly recalibrate: boolean
  /**
   * The real weights' (the head's) rate divided by √fan-in: `perParameterLr(optimizer,
   * fanInScales(net))`, src/train/fanInLr.ts (docs/training.md, "The head's learning rate").
   */
  readonly fanInLr: boolean
}

/**
 * The standard recipe (measured: docs/experiments.md). On full MNIST with `mlp:256,256` it gives
 * the mode network ≈ 97 % on the official test set in about 2 minutes on two cores.
 */
export const STANDARD_RECIPE: StandardRecipe = {
  recipe: 'md', optimizer: 'adam', estimator: 'st', lr: 0.2, schedule: 'cosine', epochs: 16, batch: 256,
  batchNorm: true, ensemble: 16, recalibrate: true, fanInLr: true,
}

// ---------------------------------------------------------------------------------------------
// Constructors

/**
 * A training configuration of the standard recipe, with any field overridden (seed, epochs, …).
 * The network should be built with batch norm (`presetNetwork(p, { batchNorm: true, … })`), and
 * the deployable mode network is `recalibrateMode(result.last, trainingRows)` after training.
 * The recipe's fan-in rate needs the network, so this is the recipe without it: the whole recipe
 * is `standardConfigFor(net)`.
 * @example
 * standardConfig({ seed: 1 }) // right({ lr: 0.2, batchSize: 256, epochs: 16, schedule: { kind: 'cosine' }, … })
 */
export const standardConfig = (overrides: Partial<TrainConfig> = {}): E.Either<string, TrainConfig> =>
  E.map((r: TrainConfig['recipe']): TrainConfig => ({
    estimator: st(), weightEstimator: st(), recipe: r, optimizer: adam(),
    lr: STANDARD_RECIPE.lr, schedule: { kind: 'cosine' }, epochs: STANDARD_RECIPE.epochs, batchSize: STANDARD_RECIPE.batch,
    seed: 0, ensemble: STANDARD_RECIPE.ensemble, ...overrides,
  }))(recipe(STANDARD_RECIPE.recipe, STANDARD_RECIPE.optimizer))

/**
 * The whole standard recipe for `net`: `standardConfig(overrides)` with the head's rate divided by
 * √fan-in (`perParameterLr(optimizer, fanInScales(net))`, `STANDARD_RECIPE.fanInLr`), what `npm
 * start` and `sbnkit train` train with. An `optimizer` in `overrides` is wrapped the same way.
 * @example
 * standardConfigFor(net, { seed: 1 }) // right({ optimizer: perParameterLr(adam), lr: 0.2, … })
 */
export const standardConfigFor = (net: Checked<Network>, overrides: Partial<TrainConfig> = {}): E.Either<string, TrainConfig> =>
  E.map((c: TrainConfig): TrainConfig => (STANDARD_RECIPE.fanInLr ? { ...c, optimizer: perParameterLr(c.optimizer, fanInScales(net)) } : c))(
    standardConfig(overrides),
  )
