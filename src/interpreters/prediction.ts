/**
 * Prediction without labels: the predictive distribution of a classifier on a feed that holds
 * only the inputs its prediction head reads (`x`, not `y`), with the interpreter one chooses:
 *
 * - `mode`: the deterministic mode network (every binarize is sign; the reference forward pass);
 * - `ensemble`: the average of K sampled predictive distributions, pass j drawn with
 *   `passKey(key, j)`: the very numbers of `monteCarlo(...).ensemble.predictive` with labels;
 * - `exact`: the exact predictive distribution E[softmax(η)] (or E[σ(η)]) by enumeration. The
 *   exact interpreter computes it beside the expected loss, which needs labels; the predictive
 *   distribution does not depend on them, so placeholder labels are fed and the loss dropped.
 *
 * The compiled interpreter predicts with `compile(net, { outputs: ['output'], … })`.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Checked, Loss, Network, Node } from '../dsl/node.js'
import type { Key } from '../dsl/random.js'
import { bind } from './bind.js'
import type { RunError } from './runErrors.js'
import { exact } from './exact/index.js'
import { forward } from './montecarlo/index.js'
import { passKey } from './reference/sampling.js'
import type { Feed, NDArray } from './ndarray.js'
import { lossHead, outputNodes, PREDICTION_OUTPUT } from './outputs.js'
import { predictive } from './reference/ops.js'

// ---------------------------------------------------------------------------------------------
// Model

export type PredictOptions =
  | { readonly interpreter: 'mode' }
  | {
    readonly interpreter: 'ensemble'; readonly members: number; readonly key: Key
    /** Told after each member (a progress bar for a large ensemble). */
    readonly onProgress?: (done: number, total: number) => void
  }
  | { readonly interpreter: 'exact'; readonly budget?: number }

export interface Prediction {
  /**
   * Per example: class probabilities [N, K] (softmax cross-entropy head), P(y = +1) [N]
   * (logistic head), or the head's values themselves (a squared loss or no loss head).
   */
  readonly predictive: NDArray
  /** Per example: the most probable class index, or ±1 for a logistic head; absent without one. */
  readonly classes?: Float64Array
}

// ---------------------------------------------------------------------------------------------
// Constructors

/**
 * The predictions of `net` on `feed`, which needs only the inputs the prediction head reads (the
 * loss's logits, or `outputs.output` when the network has no loss head).
 * @example
 * const p = predict(net, { x }, { interpreter: 'ensemble', members: 16, key: key(0) })
 * // right({ predictive: { shape: [N, 10], … }, classes: Float64Array [3, 7, …] })
 */
export const predict = (net: Checked<Network>, feed: Feed, opts: PredictOptions): E.Either<RunError, Prediction> => {
  const loss = lossHead(net)
  const headE = loss === undefined ? E.map((ns: readonly Node[]) => ns[0]!)(outputNodes(net, [PREDICTION_OUTPUT])) : E.right(loss.logits)
  if (E.isLeft(headE)) return headE
  const head = headE.right
  const finish = (probs: NDArray): Prediction => {
    const classes = loss === undefined ? undefined : classesOf(loss, probs)
    return classes === undefined ? { predictive: probs } : { predictive: probs, classes }
  }
  const toProbs = (logits: NDArray): NDArray => (loss === undefined ? logits : predictive(loss.op, logits))
  switch (opts.interpreter) {
    case 'mode':
      return E.map((ev: { values: ReadonlyMap<Node, NDArray> }) => finish(toProbs(ev.values.get(head)!)))(forward(net, feed, { mode: 'mode' }, [head]))
    case 'ensemble': {
      if (!(Number.isInteger(opts.members) && opts.members >= 1))
        return E.left({ _tag: 'InvalidOption', option: 'members', expected: 'an integer ≥ 1', found: String(opts.members) })
      let sum: Float64Array | undefined
      let shape: readonly number[] = []
      for (let j = 0; j < opts.members; j++) {
        const ev = forward(net, feed, { mode: 'sample', key: passKey(opts.key, j) }, [head])
        if (E.isLeft(ev)) return ev
        const p = toProbs(ev.right.values.get(head)!)
        sum ??= new Float64Array(p.data.length)
        shape = p.shape
        // The same accumulation as monteCarlo's ensemble (p / K summed in pass order), so equal bits.
        for (let i = 0; i < p.data.length; i++) sum[i]! += p.data[i]! / opts.members
        opts.onProgress?.(j + 1, opts.members)
      }
      return E.right(finish({ shape, data: sum! }))
    }
    case 'exact': {
      if (loss === undefined)
        return E.left({ _tag: 'MissingOutput', name: 'loss', expected: 'a loss head (the exact interpreter computes its predictive distribution)', available: Object.keys(net.outputs) })
      const bound = bind(net, feed, [head])
      if (E.isLeft(bound)) return bound
      const r = exact(net, withPlaceholderLabels(loss, feed, bound.right.batch), opts.budget === undefined ? {} : { budget: opts.budget })
      return E.map((x: { predictive: NDArray }) => finish(x.predictive))(r)
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Utilities

/** The feed with valid labels for the loss's target when it is an input the feed lacks. */
const withPlaceholderLabels = (loss: Loss, feed: Feed, batch: number): Feed => {
  const target = loss.target
  if (target._tag !== 'Input' || Object.hasOwn(feed, target.name)) return feed
  // Class 0 for softmax cross-entropy, +1 for a logistic head, 0 for a squared loss: all valid.
  const value = loss.op === 'logistic-nll' ? 1 : 0
  const shape = target.type.shape.map((d) => (d === 'batch' ? batch : d))
  const size = shape.reduce((a, b) => a * b, 1)
  return { ...feed, [target.name]: { shape, data: new Float64Array(size).fill(value) } }
}

/** The most probable class of each example (first on ties), or the sign of P(+1) − 1/2. */
const classesOf = (loss: Loss, probs: NDArray): Float64Array | undefined => {
  const n = probs.shape[0] ?? 1
  if (loss.op === 'logistic-nll') return Float64Array.from(probs.data, (p) => (p >= 0.5 ? 1 : -1))
  if (loss.op !== 'softmax-ce') return undefined
  const k = probs.data.length / n
  const out = new Float64Array(n)
  for (let e = 0; e < n; e++) {
    let best = 0
    for (let j = 1; j < k; j++) if (probs.data[e * k + j]! > probs.data[e * k + best]!) best = j
    out[e] = best
  }
  return out
}
