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
import type { NoiseSites } from '../dsl/rewrite.js'
import { withNoiseScale } from '../dsl/rewrite.js'
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
  /** Which sites anneal: all (default), only the weights' or only the units' (activations'). */
  readonly sites?: NoiseSites
}

export type { NoiseSites } from '../dsl/rewrite.js'
export { withNoiseScale } from '../dsl/rewrite.js'

// ---------------------------------------------------------------------------------------------
// Constructors

/**
 * The noise scale of epoch e (from 0) of a run of `epochs` epochs.
 * @example annealScale({ final: 0.25 }, 1, 3) // 0.5
 */
export const annealScale = (a: Anneal, epoch: number, epochs: number): number =>
  epochs <= 1 ? a.final : a.final ** (Math.min(epoch, epochs - 1) / (epochs - 1))

// ---------------------------------------------------------------------------------------------
// Combinators


/**
 * Trains `net` with its noise scales annealed per epoch: epoch e trains `withNoiseScale(net, s_e)`
 * (with the run's parameters so far). The test set, if any, is evaluated once, after the last
 * epoch. The returned networks carry the last epoch's noise (s_final times the base's). With
 * `resume` (a checkpoint of such a run) it continues at that state's epoch; `net` must then be the
 * run's base network with the checkpoint's parameters (`withParams(base, restored.net.params)`),
 * since a checkpointed network holds the noise of its own epoch, not the base's.
 * @example
 * await trainAnnealed(net, data, config, { final: 0.25 }) // epochs at noise ×1, ×0.5, ×0.25 for 3 epochs
 */
export const trainAnnealed = async (
  net: Checked<Network>,
  data: TrainData,
  config: TrainConfig,
  anneal: Anneal,
  hooks: TrainHooks = {},
  resume?: TrainerState,
): Promise<E.Either<TrainError, TrainResult>> => {
  // One schedule over the whole run, as if it were one call.
  const whole = { ...config, schedule: withTotal(config.schedule, config.epochs) }
  if (config.epochs === 0) return train(net, data, whole, hooks, resume)
  let state: TrainerState | undefined = resume
  let params = net.params
  let last: TrainResult | undefined
  // A finished run resumed without more epochs runs one empty phase (as `train` does: it returns at once).
  for (let e = Math.min(resume?.epoch ?? 0, config.epochs - 1); e < config.epochs; e++) {
    const phase = withParams(withNoiseScale(net, annealScale(anneal, e, config.epochs), anneal.sites), params)
    const { test, ...noTest } = data
    const phaseData = e === config.epochs - 1 && test !== undefined ? data : noTest
    const r = await train(phase, phaseData, { ...whole, epochs: e + 1 }, hooks, state)
    if (E.isLeft(r)) return r
    last = r.right
    if (r.right.outcome !== 'completed') break
    state = r.right.state
    params = r.right.last.params
  }
  return E.right(last!)
}
