/**
 * The Monte Carlo interpreter: n independent forward passes of the SBN, each drawing every
 * stochastic site with the pass key (see `rules.ts`). It reports the mean loss with its standard
 * error, the deterministic mode network, and the ensemble predictive distribution (the average
 * of K sampled predictive distributions). Works on networks of any size: each pass is a typed-
 * array forward pass over the whole batch.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Checked, Loss, Network, Node } from '../../dsl/node.js'
import type { Key } from '../../dsl/random.js'
import { bind } from '../bind.js'
import type { RunError } from '../runErrors.js'
import { lossOutput } from '../outputs.js'
import type { Feed, NDArray } from '../ndarray.js'
import type { BinarizeRule, Evaluation } from '../reference/forward.js'
import { evaluate } from '../reference/forward.js'
import { predictive } from '../reference/ops.js'
import { modeRule, passKey, sampleRule } from '../reference/sampling.js'

/** One forward pass: sampled with `key`, or the deterministic mode network. */
export const forward = (
  net: Checked<Network>,
  feed: Feed,
  opts: { readonly mode: 'sample'; readonly key: Key } | { readonly mode: 'mode' },
  roots: readonly Node[] = Object.values(net.outputs),
): E.Either<RunError, Evaluation> =>
  E.map(({ batch }: { batch: number }) =>
    evaluate({ net, feed, batch, binarize: opts.mode === 'mode' ? modeRule : sampleRule(opts.key) }, roots),
  )(bind(net, feed, roots))

export interface Accuracy {
  /** Mean loss of this predictor on the data. */
  readonly loss: number
  /** Fraction of examples whose most probable class (or sign) equals the label. */
  readonly accuracy: number
}

export interface MonteCarloResult {
  /** Mean loss over the batch of each of the n passes. */
  readonly sampleLosses: Float64Array
  /** Estimate of the expected loss and its standard error (sample std / √n). */
  readonly mean: number
  readonly stderr: number
  /** The deterministic mode network (every binarize replaced by sign). */
  readonly mode: Accuracy
  /** The ensemble: the average of the K first sampled predictive distributions. */
  readonly ensemble: Accuracy & { readonly predictive: NDArray; readonly members: number }
  /** Mean accuracy of single sampled networks. */
  readonly sampleAccuracy: number
  /** With `keep`: each pass's head output (logits) and per-example losses, in pass order. */
  readonly samples?: readonly { readonly output: NDArray; readonly perExample: Float64Array }[]
}

/** Accuracy of predictive probabilities against the labels of a loss head. */
const scorePredictive = (l: Loss, probs: NDArray, labels: NDArray): Accuracy => {
  const n = labels.shape[0]!
  let correct = 0
  let nll = 0
  if (l.op === 'softmax-ce') {
    const k = probs.data.length / n
    for (let e = 0; e < n; e++) {
      let best = 0
      for (let j = 1; j < k; j++) if (probs.data[e * k + j]! > probs.data[e * k + best]!) best = j
      if (best === labels.data[e]) correct++
      nll -= Math.log(Math.max(probs.data[e * k + labels.data[e]!]!, Number.MIN_VALUE))
    }
  } else if (l.op === 'logistic-nll') {
    for (let e = 0; e < n; e++) {
      const p = probs.data[e]!
      if ((p >= 0.5 ? 1 : -1) === labels.data[e]) correct++
      nll -= Math.log(Math.max(labels.data[e] === 1 ? p : 1 - p, Number.MIN_VALUE))
    }
  } else {
    for (let i = 0; i < probs.data.length; i++) nll += (probs.data[i]! - labels.data[i]!) ** 2 / n
    return { loss: nll, accuracy: Number.NaN }
  }
  return { loss: nll / n, accuracy: correct / n }
}

export interface MonteCarloOptions {
  readonly samples: number
  readonly key: Key
  /** Number of sampled predictive distributions averaged into the ensemble (default min(n, 16)). */
  readonly ensemble?: number
  /** Keep every pass's output and per-example losses (memory: n × batch × outputs). */
  readonly keep?: boolean
  /** Told after each sampled pass (a progress bar for a long run). */
  readonly onProgress?: (done: number, total: number) => void
}

/** Runs n sampled passes, the mode network and the ensemble on one batch of data. */
export const monteCarlo = (net: Checked<Network>, feed: Feed, opts: MonteCarloOptions): E.Either<RunError, MonteCarloResult> => {
  if (!(Number.isInteger(opts.samples) && opts.samples >= 1))
    return E.left({ _tag: 'InvalidOption', option: 'samples', expected: 'an integer ≥ 1', found: String(opts.samples) })
  const members = Math.min(opts.ensemble ?? 16, opts.samples)
  return E.chain((l: Loss) =>
    E.map(({ batch }: { batch: number }) => {
      const roots = [l]
      const run = (rule: BinarizeRule): Evaluation => evaluate({ net, feed, batch, binarize: rule }, roots)
      const sampleLosses = new Float64Array(opts.samples)
      let ensembleSum: Float64Array | undefined
      let sampleAccuracy = 0
      const samples: { output: NDArray; perExample: Float64Array }[] = []
      for (let j = 0; j < opts.samples; j++) {
        const ev = run(sampleRule(passKey(opts.key, j)))
        sampleLosses[j] = ev.values.get(l)!.data[0]!
        if (opts.keep === true) samples.push({ output: ev.values.get(l.logits)!, perExample: ev.lossPerExample.get(l)! })
        if (j < members) {
          const p = predictive(l.op, ev.values.get(l.logits)!)
          ensembleSum ??= new Float64Array(p.data.length)
          for (let i = 0; i < p.data.length; i++) ensembleSum[i]! += p.data[i]! / members
          sampleAccuracy += scorePredictive(l, p, ev.values.get(l.target)!).accuracy / members
        }
        opts.onProgress?.(j + 1, opts.samples)
      }
      const mean = sampleLosses.reduce((a, b) => a + b, 0) / opts.samples
      const variance = opts.samples > 1 ? sampleLosses.reduce((a, b) => a + (b - mean) ** 2, 0) / (opts.samples - 1) : Number.NaN
      const modeEv = run(modeRule)
      // The targets are the loss head's own input, as every pass evaluates it.
      const labels = modeEv.values.get(l.target)!
      const mode = { loss: modeEv.values.get(l)!.data[0]!, accuracy: scorePredictive(l, predictive(l.op, modeEv.values.get(l.logits)!), labels).accuracy }
      const logitsShape = modeEv.values.get(l.logits)!.shape
      const ensProbs: NDArray = { shape: l.op === 'logistic-nll' ? [batch] : logitsShape, data: ensembleSum! }
      return {
        sampleLosses,
        mean,
        stderr: Math.sqrt(variance / opts.samples),
        mode,
        ensemble: { ...scorePredictive(l, ensProbs, labels), predictive: ensProbs, members },
        sampleAccuracy,
        ...(opts.keep === true ? { samples } : {}),
      }
    })(bind(net, feed, [l])),
  )(lossOutput(net))
}
