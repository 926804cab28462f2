/**
 * Batch-norm statistics for the mode network. Training averages the batch statistics of
 * *sampled* passes into the running statistics, so they describe the pre-activations of sampled
 * networks. The mode network (weights sign(η), units sign(a)) has pre-activations of another
 * scale, and normalising them with the sampled statistics can cost it a lot of accuracy (one
 * MNIST run: 71.7 % → 86.3 % once re-estimated; see docs/training.md). `recalibrateMode` re-estimates
 * the statistics under the mode network itself: one pass over `rows` training examples with the
 * BatchNorm nodes normalising by their own batch statistics, layer after layer, whose means and
 * (biased) variances become the new running statistics.
 *
 * The result is a network for **mode inference**; its sampled passes and ensemble are not
 * calibrated (they want the original statistics), so keep both networks.
 */
import * as E from 'fp-ts/lib/Either.js'
import { permutation } from '../data/prng.js'
import type { Checked, Network } from '../dsl/node.js'
import { key, siteKey } from '../dsl/random.js'
import { bind } from '../interpreters/bind.js'
import type { RunError } from '../interpreters/runErrors.js'
import type { Feed } from '../interpreters/ndarray.js'
import { modeRule } from '../interpreters/reference/sampling.js'
import type { MatrixProducts } from '../interpreters/reference/ops.js'
import { evaluate } from '../interpreters/reference/forward.js'
import type { Dataset } from './evaluate.js'
import { batchNorms, withBatchNormMode, withParams } from './modes.js'

/** Training rows the mode network's batch norm is re-estimated on by default. */
export const CALIBRATION_ROWS = 2000

/**
 * The rows to re-estimate batch norm on: the first `n` of a fixed permutation (key 0) of the
 * training rows, sorted; the same rows for every run and seed on a given training set. Not the
 * first rows: Fashion-MNIST's training pool is sorted by class, so its first 2000 are one class,
 * whose statistics are wrong for every other (the mode network fell to 50 % with them).
 * @example calibrationRows(data.train) // a feed of 2000 rows from all over the training set
 */
export const calibrationRows = (train: Dataset, n = CALIBRATION_ROWS): Feed =>
  train.rows(Uint32Array.from(permutation(train.size, siteKey(key(0), 'train:calibrate')).subarray(0, Math.min(n, train.size))).sort())

/**
 * The mode network's batch-norm running statistics re-estimated on `feed` (all its rows; a
 * couple of thousand examples suffice). Networks without batch norm are returned unchanged.
 * @example
 * const modeNet = recalibrateMode(trained, trainFeed)   // Either<RunError, Checked<Network>>
 */
export const recalibrateMode = <N extends Network>(
  net: Checked<N>, feed: Feed, opts: { readonly products?: MatrixProducts } = {},
): E.Either<RunError, Checked<N>> => {
  const norms = batchNorms(net)
  if (norms.length === 0) return E.right(net)
  const trainNet = withBatchNormMode(net, 'train')
  const roots = batchNorms(trainNet)
  const bound = bind(trainNet, feed, roots)
  if (E.isLeft(bound)) return bound
  const ev = evaluate({ net: trainNet, feed, batch: bound.right.batch, binarize: modeRule, ...(opts.products === undefined ? {} : { products: opts.products }) }, roots)
  const params: Record<string, Float64Array> = { ...net.params }
  for (const [node, stats] of ev.bnStats) {
    if (node._tag !== 'BatchNorm' || node.runningMean._tag !== 'Param' || node.runningVar._tag !== 'Param') continue
    params[node.runningMean.name] = Float64Array.from(stats.mean.data)
    params[node.runningVar.name] = Float64Array.from(stats.variance.data)
  }
  return E.right(withParams(net, params))
}
