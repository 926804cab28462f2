/**
 * Training data as a value, and the per-epoch evaluation of a network on a held-out set: the
 * deterministic mode network and the ensemble of K sampled networks (MATH.md §1, test time).
 *
 * Evaluation runs in chunks of rows (memory stays bounded on 10 000 images) but draws as if the
 * whole set were one batch: a weight site draws once per member (each member is one sampled
 * network applied to every example), and activation element i of example e draws index
 * e·(units per example) + i of its site key, exactly as the Monte Carlo interpreter does on the
 * whole set. So the result does not depend on the chunk size and equals `monteCarlo`'s mode and
 * ensemble on the same key.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Checked, Loss, Network } from '../dsl/node.js'
import type { Key } from '../dsl/random.js'
import { siteKey } from '../dsl/random.js'
import type { ImageSet, FeedOptions } from '../data/images.js'
import { toFeedRows } from '../data/images.js'
import { isWeight } from '../estimators/sites.js'
import { bind } from '../interpreters/bind.js'
import type { RunError } from '../interpreters/errors.js'
import { lossOutput, modeRule, passKey } from '../interpreters/montecarlo/index.js'
import type { Feed, NDArray } from '../interpreters/ndarray.js'
import { batchSize, gatherFeed, sliceFeed } from '../interpreters/ndarray.js'
import { signsInto } from '../interpreters/noise.js'
import type { BinarizeRule } from '../interpreters/reference/forward.js'
import { evaluate } from '../interpreters/reference/forward.js'
import type { Kernels } from '../interpreters/reference/ops.js'
import { predictive } from '../interpreters/reference/ops.js'

// ---------------------------------------------------------------------------------------------
// Model

/** Examples addressable by row: a feed in memory, or images converted one minibatch at a time. */
export interface Dataset {
  readonly size: number
  /**
   * The feed of these rows, in this order. The training loop passes its step key: a dataset with
   * augmentation (src/data/augment.ts) derives its draws from it; others ignore it.
   */
  readonly rows: (indices: ArrayLike<number>, key?: Key) => Feed
  /** The feed of rows [start, end). */
  readonly slice: (start: number, end: number) => Feed
}

/** Loss and accuracy of one predictor (accuracy is NaN for a squared loss). */
export interface Score {
  readonly loss: number
  readonly accuracy: number
}

export interface Evaluation {
  readonly examples: number
  /** The deterministic network: every binarize is sign (w = sign(η), x = sign(a)). */
  readonly mode: Score
  /** The average of the predictive distributions of `members` sampled networks. */
  readonly ensemble: Score & { readonly members: number }
}

export interface EvaluateOptions {
  /** Ensemble size K ≥ 1. */
  readonly members: number
  readonly key: Key
  /** Rows per forward pass (default 1000); the result does not depend on it. */
  readonly chunk?: number
  readonly kernels?: Kernels
}

// ---------------------------------------------------------------------------------------------
// Constructors

/**
 * A dataset over a feed held in memory.
 * @example feedDataset({ x: ndarray([4, 2]), y: ndarray([4]) }).size // 4
 */
export const feedDataset = (feed: Feed): Dataset => ({
  size: batchSize(feed) ?? 0,
  rows: (indices) => gatherFeed(feed, indices),
  slice: (start, end) => sliceFeed(feed, start, end),
})

/**
 * A dataset over 8-bit images, converted to float64 per minibatch (a 60 000-image set stays in
 * bytes).
 * @example imageDataset(splits.train, { scale: 'pm1' }).rows([0, 1]).x.shape // [2, 784]
 */
export const imageDataset = (images: ImageSet, options: FeedOptions): Dataset => ({
  size: images.count,
  rows: (indices) => toFeedRows(images, indices, options),
  slice: (start, end) => toFeedRows(images, Uint32Array.from({ length: end - start }, (_, i) => start + i), options),
})

// ---------------------------------------------------------------------------------------------
// Rules

/** Monte Carlo sampling of rows offset.. of a larger batch: weights once, activations by global index. */
const chunkRule = (pass: Key, offset: number, rows: number): BinarizeRule => (node, input) => {
  const start = isWeight(node) ? 0 : offset * (input.data.length / rows)
  return { shape: input.shape, data: signsInto(siteKey(pass, node.site), start, input.data, node.noise, new Float64Array(input.data.length)) }
}

/** Adds the score of predictive probabilities to running sums; returns the number correct. */
const scoreInto = (l: Loss, probs: NDArray, labels: NDArray, sums: { nll: number; correct: number }): void => {
  const n = labels.shape[0]!
  if (l.op === 'softmax-ce') {
    const k = probs.data.length / n
    for (let e = 0; e < n; e++) {
      let best = 0
      for (let j = 1; j < k; j++) if (probs.data[e * k + j]! > probs.data[e * k + best]!) best = j
      if (best === labels.data[e]) sums.correct++
      sums.nll -= Math.log(Math.max(probs.data[e * k + labels.data[e]!]!, Number.MIN_VALUE))
    }
  } else if (l.op === 'logistic-nll') {
    for (let e = 0; e < n; e++) {
      const p = probs.data[e]!
      if ((p >= 0.5 ? 1 : -1) === labels.data[e]) sums.correct++
      sums.nll -= Math.log(Math.max(labels.data[e] === 1 ? p : 1 - p, Number.MIN_VALUE))
    }
  } else {
    for (let i = 0; i < probs.data.length; i++) sums.nll += (probs.data[i]! - labels.data[i]!) ** 2
    sums.correct = Number.NaN
  }
}

/**
 * The mode network and a K-member ensemble on every row of `data`. Sample j uses the pass key
 * `passKey(opts.key, j)`, as `monteCarlo` does.
 * @example evaluateSet(net, feedDataset(feed), { members: 16, key: key(0) }) // right({ mode, ensemble, examples })
 */
export const evaluateSet = (net: Checked<Network>, data: Dataset, opts: EvaluateOptions): E.Either<RunError, Evaluation> => {
  if (!(Number.isInteger(opts.members) && opts.members >= 1))
    return E.left({ _tag: 'InvalidOption', option: 'ensemble', expected: 'an integer ≥ 1', found: String(opts.members) })
  const lossE = lossOutput(net)
  if (E.isLeft(lossE)) return lossE
  const l = lossE.right
  if (data.size === 0) return E.left({ _tag: 'EmptyData' })
  const chunk = opts.chunk ?? 1000
  const mode = { nll: 0, correct: 0 }
  const ens = { nll: 0, correct: 0 }
  let modeLoss = 0
  for (let start = 0; start < data.size; start += chunk) {
    const end = Math.min(data.size, start + chunk)
    const feed = data.slice(start, end)
    const bound = bind(net, feed, [l])
    if (E.isLeft(bound)) return bound
    const rows = end - start
    const labelName = l.target._tag === 'Input' ? l.target.name : ''
    const labels = feed[labelName] ?? { shape: [rows], data: new Float64Array(rows) }
    const run = (rule: BinarizeRule) =>
      evaluate({ net, feed, batch: rows, binarize: rule, ...(opts.kernels === undefined ? {} : { kernels: opts.kernels }) }, [l])
    const modeEv = run(modeRule)
    for (const v of modeEv.lossPerExample.get(l)!) modeLoss += v
    scoreInto(l, predictive(l.op, modeEv.values.get(l.logits)!), labels, mode)
    let sum: Float64Array | undefined
    for (let j = 0; j < opts.members; j++) {
      const p = predictive(l.op, run(chunkRule(passKey(opts.key, j), start, rows)).values.get(l.logits)!)
      sum ??= new Float64Array(p.data.length)
      for (let i = 0; i < sum.length; i++) sum[i]! += p.data[i]! / opts.members
    }
    scoreInto(l, { shape: l.op === 'logistic-nll' ? [rows] : modeEv.values.get(l.logits)!.shape, data: sum! }, labels, ens)
  }
  const n = data.size
  return E.right({
    examples: n,
    mode: { loss: modeLoss / n, accuracy: mode.correct / n },
    ensemble: { loss: ens.nll / n, accuracy: ens.correct / n, members: opts.members },
  })
}
