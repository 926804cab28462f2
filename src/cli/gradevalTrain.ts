/**
 * The gradient-accuracy lab along training (`sbnkit gradeval --train E1,E2,…`): trains a network
 * with one estimator (by default REINFORCE with its running-mean baseline, an unbiased choice that
 * favours none of the estimators compared), SGD with momentum and small batches, and runs the lab
 * on the network as it is after each chosen epoch (0 = before training). One training run serves
 * every epoch: the lab runs inside the trainer's end-of-epoch hook, on a copy of the parameters,
 * so the training trajectory does not depend on which epochs are measured.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Checked, Network } from '../dsl/node.js'
import type { Estimator } from '../estimators/estimator.js'
import { st } from '../estimators/estimator.js'
import type { GradevalOptions, GradevalReport } from '../estimators/analysis/lab.js'
import { gradeval } from '../estimators/analysis/lab.js'
import { drawRunError } from '../interpreters/runErrors.js'
import type { Feed } from '../interpreters/ndarray.js'
import { feedDataset } from '../train/evaluate.js'
import { drawTrainError, train } from '../train/loop.js'
import { baseOptimizer, recipe } from '../train/recipes.js'
import { drawRoutingError } from '../train/routing.js'

export interface AlongOptions {
  /** Epochs after which to run the lab, ascending, distinct, ≥ 0 (0: the initial network). */
  readonly epochs: readonly number[]
  /** The training estimator of the activation sites. */
  readonly estimator: Estimator
  readonly lr: number
  readonly momentum: number
  readonly batch: number
  readonly seed: number
  /** The lab's options (its key is the same at every epoch). */
  readonly lab: Omit<GradevalOptions, 'onProgress'>
  /** Called after each lab draw: (epoch index, estimator index, draws done). */
  readonly onLab?: (epoch: number, estimator: number, done: number) => void
  /** Called after each optimizer step: (epochs done, steps done in the run, total steps). */
  readonly onTrain?: (epoch: number, step: number, total: number) => void
}

export interface AlongPoint {
  readonly epoch: number
  /** The mean training minibatch loss of that epoch (none for epoch 0). */
  readonly trainLoss?: number
  readonly report: GradevalReport
}

/** Trains and measures; a Left is a rendered error (a bad option, a failed run). */
export const gradevalAlong = async (net: Checked<Network>, feed: Feed, o: AlongOptions): Promise<E.Either<string, AlongPoint[]>> => {
  const points: AlongPoint[] = []
  let failure: string | undefined
  const measure = (at: Checked<Network>, epoch: number, trainLoss?: number): void => {
    const index = points.length
    const r = gradeval(at, feed, { ...o.lab, onProgress: (e, done) => o.onLab?.(index, e, done) })
    if (E.isLeft(r)) failure = drawRunError(r.left)
    else points.push({ epoch, ...(trainLoss === undefined ? {} : { trainLoss }), report: r.right })
  }
  const wanted = new Set(o.epochs)
  if (wanted.has(0)) measure(net, 0)
  if (failure !== undefined) return E.left(failure)
  const last = Math.max(0, ...o.epochs)
  if (last === 0) return E.right(points)
  const rec = recipe('md', 'sgd', { momentum: o.momentum })
  const real = baseOptimizer('sgd', { momentum: o.momentum })
  if (E.isLeft(rec)) return rec
  if (E.isLeft(real)) return real
  const steps = Math.ceil(feed['x']!.shape[0]! / o.batch)
  const result = await train(net, { train: feedDataset(feed) }, {
    estimator: o.estimator, weightEstimator: st(), recipe: rec.right, optimizer: real.right, lr: o.lr,
    schedule: { kind: 'constant' }, epochs: last, batchSize: o.batch, seed: o.seed, ensemble: 1,
  }, {
    onStep: (s) => o.onTrain?.(s.epoch, s.globalStep, steps * last),
    checkpoint: async (c) => {
      const epoch = c.state.epoch
      if (c.state.step === 0 && wanted.has(epoch)) measure(c.net, epoch, c.state.history[c.state.history.length - 1]?.trainLoss)
      return failure === undefined ? E.right(undefined) : E.left(failure)
    },
  })
  if (failure !== undefined) return E.left(failure)
  if (E.isLeft(result)) return E.left(drawTrainError(result.left, drawRunError, drawRoutingError))
  return E.right(points)
}
