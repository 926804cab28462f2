/**
 * Noise annealing: training an SBN while its noise scale shrinks toward zero, so that the network
 * being trained approaches its own mode (deterministic) network. Binarize noise is a static field
 * of the network, so the run is split into phases, one per epoch: epoch e trains the network
 * rebuilt with noise scale s_e (same parameters, same names) and continues the trainer state of
 * epoch e − 1 exactly as a resumed run does (same keys, global step counter, optimizer moments and
 * one learning-rate schedule over the whole run). The scales are geometric,
 * s_e = s_final^(e/(E−1)) for E epochs (1 at the first epoch, s_final at the last).
 *
 * Why it helps the mode network (docs/training.md, "Deterministic networks"): with noise scale s,
 * sign(a − sZ) = sign(a/s − Z), so a smaller s makes every unit's firing probability σ(a/s)
 * sharper; the expected loss the SBN minimises, E_Z[f], tends to the loss of the mode network as
 * s → 0, while early epochs keep the smooth, well-conditioned objective of s = 1.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Checked, Network } from '../dsl/node.js'
import type { TrainData, TrainError, TrainHooks, TrainerState, TrainResult } from './loop.js'
import { train } from './loop.js'
import type { TrainConfig } from './config.js'
import { withParams } from './modes.js'
import { withTotal } from './schedules.js'

// ---------------------------------------------------------------------------------------------
// Model

export interface Anneal {
  /** The noise scale of the last epoch, in (0, 1]; 1 means no annealing. */
  readonly final: number
}

// ---------------------------------------------------------------------------------------------
// Constructors

/**
 * The noise scale of epoch e (from 0) of a run of `epochs` epochs.
 * @example annealScale({ final: 0.25 }, 1, 3) // 0.5
 */
export const annealScale = (a: Anneal, epoch: number, epochs: number): number =>
  epochs <= 1 ? a.final : a.final ** (Math.min(epoch, epochs - 1) / (epochs - 1))

/**
 * Trains with the noise scale annealed per epoch; `build(scale)` is the network with every
 * binarize's noise at that scale (e.g. a preset built with `logistic(scale)`), whose parameters
 * are replaced by the run's. The test set, if any, is evaluated once, after the last epoch.
 * @example
 * await trainAnnealed((s) => presetNetwork(p, { ...o, activation: logistic(s), weightNoise: logistic(s) }), data, config, { final: 0.25 })
 */
export const trainAnnealed = async (
  build: (scale: number) => E.Either<string, Checked<Network>>,
  data: TrainData,
  config: TrainConfig,
  anneal: Anneal,
  hooks: TrainHooks = {},
): Promise<E.Either<TrainError | { readonly _tag: 'Build'; readonly message: string }, TrainResult>> => {
  // One schedule over the whole run, as if it were one call.
  const whole = { ...config, schedule: withTotal(config.schedule, config.epochs) }
  if (config.epochs === 0) {
    const b = build(1)
    return E.isLeft(b) ? E.left({ _tag: 'Build', message: b.left }) : train(b.right, data, whole, hooks)
  }
  let state: TrainerState | undefined
  let params: Checked<Network>['params'] | undefined
  let last: TrainResult | undefined
  for (let e = 0; e < config.epochs; e++) {
    const built = build(annealScale(anneal, e, config.epochs))
    if (E.isLeft(built)) return E.left({ _tag: 'Build', message: built.left })
    const net = params === undefined ? built.right : withParams(built.right, params)
    const { test, ...noTest } = data
    const phaseData = e === config.epochs - 1 && test !== undefined ? data : noTest
    const r = await train(net, phaseData, { ...whole, epochs: e + 1 }, hooks, state)
    if (E.isLeft(r)) return r
    last = r.right
    if (r.right.outcome !== 'completed') break
    state = r.right.state
    params = r.right.last.params
  }
  return E.right(last!)
}
