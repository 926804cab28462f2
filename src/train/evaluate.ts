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
 *
 * The logits come from the compiled interpreter (evaluate-compiled.ts), bit-identical to the
 * reference path with the reference kernels, unless it cannot serve or (`interpreter: 'auto'`,
 * the default) would be slower than the reference path with the training kernels; `onNote` is
 * told when it cannot serve.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Checked, Loss, Network } from '../dsl/node.js'
import type { Key } from '../dsl/random.js'
import { siteKey } from '../dsl/random.js'
import type { ImageSet, FeedOptions } from '../data/images.js'
import { toFeedRows } from '../data/images.js'
import { isWeight } from '../estimators/sites.js'
import { bind } from '../interpreters/bind.js'
import type { RunError } from '../interpreters/runErrors.js'
import { drawRunError } from '../interpreters/runErrors.js'
import { modeRule, passKey } from '../interpreters/reference/sampling.js'
import { lossOutput } from '../interpreters/outputs.js'
import type { Feed, NDArray } from '../interpreters/ndarray.js'
import { batchSize, gatherFeed, sliceFeed } from '../interpreters/ndarray.js'
import { signsInto } from '../interpreters/reference/sampling.js'
import type { BinarizeRule } from '../interpreters/reference/forward.js'
import { evaluate } from '../interpreters/reference/forward.js'
import type { MatrixProducts } from '../interpreters/reference/ops.js'
import { lossPerExample, predictive } from '../interpreters/reference/ops.js'
import type { LogitsProgram } from './evaluate-compiled.js'
import { COMPILED_CHUNK, ENSEMBLE_BYTES, compiledLogits, ensembleChunk } from './evaluate-compiled.js'

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

export type EvaluationInterpreter = 'auto' | 'compiled' | 'reference'

export interface EvaluateOptions {
  /** Ensemble size K ≥ 1. */
  readonly members: number
  readonly key: Key
  /** Rows per forward pass of the reference path (default 1000); the result does not depend on it. */
  readonly chunk?: number
  /** Matrix-product kernels of the reference path (default: the reference loops). */
  readonly products?: MatrixProducts
  /**
   * Who computes the logits: the compiled interpreter (bit-identical to the reference path with
   * the reference kernels), the reference interpreter, or `auto` (default): compiled unless its
   * plan would multiply real data in float64 (an MLP's first layer on scaled pixels), where the
   * reference path with `kernels` is faster.
   */
  readonly interpreter?: EvaluationInterpreter
  /**
   * Memory of one compiled ensemble run (default 256 MB): a larger set runs in chunks of rows,
   * with the same bits (evaluate-compiled.ts).
   */
  readonly compiledBytes?: number
  /** Told, in one sentence, when a predictor falls back from the compiled to the reference path. */
  readonly onNote?: (message: string) => void
  /** Told after each pass over a chunk of rows: rows done of size × (1 + members) (a progress bar). */
  readonly onProgress?: (done: number, total: number) => void
  /**
   * The last members' predictive probabilities, computed elsewhere (`memberProbabilities`, with
   * the same key, set and `members`): `given[i]` (every row, row-major) serves member
   * `members − given.length + i`, so only the first members run here and the ensemble has the
   * same bits (its sum still adds the members in order).
   */
  readonly given?: readonly Float64Array[]
}

/** What `memberProbabilities` asks of the passes: members from `from` on only, each handed over, and no mode network. */
interface Sampled {
  readonly from: number
  readonly take: (member: number, start: number, rows: number, p: Float64Array) => void
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

/** Where the logits of one predictor come from: a compiled program (with its rows per run) or the reference path. */
type Source = { readonly program: LogitsProgram; readonly chunk: number } | undefined

/** The compiled source of one predictor, or undefined (after a note) when the reference path must serve. */
const compiledSource = (net: Checked<Network>, l: Loss, data: Dataset, which: 'mode' | 'ensemble', opts: EvaluateOptions): Source => {
  if (opts.interpreter === 'reference') return undefined
  if (l.target._tag !== 'Input') {
    opts.onNote?.(`evaluation: the ${which} runs on the reference interpreter (the loss target is a ${l.target._tag} node, not an input)`)
    return undefined
  }
  const program = compiledLogits(net, l, which === 'mode' ? 'mode' : 'sample')
  if (E.isLeft(program)) {
    opts.onNote?.(`evaluation: the ${which} runs on the reference interpreter (${program.left})`)
    return undefined
  }
  // A choice, not a failure: no note (docs/training.md, Evaluation, says when it is made).
  if (opts.interpreter !== 'compiled' && program.right.floatProducts) return undefined
  if (which === 'mode') return { program: program.right, chunk: COMPILED_CHUNK }
  return { program: program.right, chunk: ensembleChunk(program.right, data.size, opts.compiledBytes ?? ENSEMBLE_BYTES) }
}

/**
 * The mode network and a K-member ensemble on every row of `data`. Sample j uses the pass key
 * `passKey(opts.key, j)`, as `monteCarlo` does.
 * @example evaluateSet(net, feedDataset(feed), { members: 16, key: key(0) }) // right({ mode, ensemble, examples })
 */
export const evaluateSet = (net: Checked<Network>, data: Dataset, opts: EvaluateOptions): E.Either<RunError, Evaluation> =>
  passes(net, data, opts, undefined)

/**
 * The predictive probabilities of sampled members `from`..`members − 1` on every row (row-major),
 * exactly as `evaluateSet` computes them with the same options: another thread's share of an
 * ensemble, handed back through `given`.
 * @example const late = memberProbabilities(net, set, { members: 16, key }, 8) // then evaluateSet(net, set, { members: 16, key, given: late.right })
 */
export const memberProbabilities = (net: Checked<Network>, data: Dataset, opts: EvaluateOptions, from: number): E.Either<RunError, Float64Array[]> => {
  const out: Float64Array[] = []
  const r = passes(net, data, opts, {
    from,
    take: (j, start, rows, p) => {
      const width = p.length / rows
      const all = (out[j - from] ??= new Float64Array(data.size * width))
      all.set(p, start * width)
    },
  })
  return E.map(() => out)(r)
}

const passes = (net: Checked<Network>, data: Dataset, opts: EvaluateOptions, sampled: Sampled | undefined): E.Either<RunError, Evaluation> => {
  if (!(Number.isInteger(opts.members) && opts.members >= 1))
    return E.left({ _tag: 'InvalidOption', option: 'ensemble', expected: 'an integer ≥ 1', found: String(opts.members) })
  if ((opts.given?.length ?? 0) > opts.members || (opts.given ?? []).some((g) => g.length % Math.max(1, data.size) !== 0))
    return E.left({ _tag: 'InvalidOption', option: 'given', expected: `at most ${opts.members} arrays of whole rows`, found: String(opts.given?.length) })
  const lossE = lossOutput(net)
  if (E.isLeft(lossE)) return lossE
  const l = lossE.right
  if (data.size === 0) return E.left({ _tag: 'EmptyData' })
  const chunk = opts.chunk ?? 1000
  const noted = new Set<string>()
  const note = (m: string): void => {
    if (!noted.has(m)) opts.onNote?.(m)
    noted.add(m)
  }
  const labelName = l.target._tag === 'Input' ? l.target.name : ''
  const labelsOf = (feed: Feed, rows: number): NDArray => feed[labelName] ?? { shape: [rows], data: new Float64Array(rows) }
  const reference = (feed: Feed, rows: number, rule: BinarizeRule) =>
    evaluate({ net, feed, batch: rows, binarize: rule, ...(opts.products === undefined ? {} : { products: opts.products }) }, [l])
  /**
   * A compiled run's logits, or undefined when the compiled interpreter refuses these rows
   * (`Unsupported`: a binary input holding a value other than ±1, which its bits cannot hold);
   * the caller then runs them on the reference path, which computes the same network.
   */
  const compiledOr = (out: E.Either<RunError, NDArray>, which: string): E.Either<RunError, NDArray> | undefined => {
    if (E.isRight(out) || out.left._tag !== 'Unsupported') return out
    note(`evaluation: some rows of the ${which} run on the reference interpreter (${drawRunError(out.left)})`)
    return undefined
  }
  /** Visits every chunk of `size` rows (bound to the network first); stops at the first error. */
  const chunks = (size: number, visit: (feed: Feed, start: number, rows: number) => E.Either<RunError, void>): E.Either<RunError, void> => {
    for (let start = 0; start < data.size; start += size) {
      const end = Math.min(data.size, start + size)
      const feed = data.slice(start, end)
      const bound = bind(net, feed, [l])
      if (E.isLeft(bound)) return bound
      const r = visit(feed, start, end - start)
      if (E.isLeft(r)) return r
    }
    return E.right(undefined)
  }

  const total = data.size * (1 + opts.members)
  let done = 0
  const progress = (rows: number): void => opts.onProgress?.((done += rows), total)
  const mode = { nll: 0, correct: 0 }
  let modeLoss = 0
  const modeSource = sampled === undefined ? compiledSource(net, l, data, 'mode', opts) : undefined
  const modeDone = sampled !== undefined ? E.right(undefined) : chunks(modeSource?.chunk ?? chunk, (feed, _, rows) => {
    const labels = labelsOf(feed, rows)
    let logits: NDArray
    let losses: Float64Array
    if (modeSource === undefined) {
      const ev = reference(feed, rows, modeRule)
      logits = ev.values.get(l.logits)!
      losses = ev.lossPerExample.get(l)!
    } else {
      const out = compiledOr(modeSource.program.logits(feed), 'mode')
      if (out === undefined) {
        const ev = reference(feed, rows, modeRule)
        logits = ev.values.get(l.logits)!
        losses = ev.lossPerExample.get(l)!
      } else {
        if (E.isLeft(out)) return out
        logits = out.right
        losses = lossPerExample(l.op, logits, labels)
      }
    }
    for (const v of losses) modeLoss += v
    scoreInto(l, predictive(l.op, logits), labels, mode)
    progress(rows)
    return E.right(undefined)
  })
  if (E.isLeft(modeDone)) return modeDone

  const ens = { nll: 0, correct: 0 }
  const ensSource = compiledSource(net, l, data, 'ensemble', opts)
  const given = opts.given ?? []
  // Members from `own` on come from `given`; with `sampled`, only members from `sampled.from` run.
  const own = opts.members - given.length
  const ensDone = chunks(ensSource?.chunk ?? chunk, (feed, start, rows) => {
    let sum: Float64Array | undefined
    let shape: readonly number[] = []
    for (let j = sampled?.from ?? 0; j < (sampled === undefined ? own : opts.members); j++) {
      const pass = passKey(opts.key, j)
      let logits: NDArray
      const out = ensSource === undefined ? undefined : compiledOr(ensSource.program.logits(feed, pass, start), 'ensemble')
      if (out === undefined) logits = reference(feed, rows, chunkRule(pass, start, rows)).values.get(l.logits)!
      else {
        if (E.isLeft(out)) return out
        logits = out.right
      }
      const p = predictive(l.op, logits)
      sampled?.take(j, start, rows, p.data)
      shape = l.op === 'logistic-nll' ? [rows] : logits.shape
      sum ??= new Float64Array(p.data.length)
      for (let i = 0; i < sum.length; i++) sum[i]! += p.data[i]! / opts.members
      progress(rows)
    }
    if (sampled !== undefined) return E.right(undefined)
    for (const g of given) {
      const width = g.length / data.size
      const p = g.subarray(start * width, (start + rows) * width)
      if (shape.length === 0) shape = l.op === 'logistic-nll' ? [rows] : [rows, width]
      sum ??= new Float64Array(p.length)
      for (let i = 0; i < sum.length; i++) sum[i]! += p[i]! / opts.members
      progress(rows)
    }
    scoreInto(l, { shape, data: sum! }, labelsOf(feed, rows), ens)
    return E.right(undefined)
  })
  if (E.isLeft(ensDone)) return ensDone
  const n = data.size
  return E.right({
    examples: n,
    mode: { loss: modeLoss / n, accuracy: mode.correct / n },
    ensemble: { loss: ens.nll / n, accuracy: ens.correct / n, members: opts.members },
  })
}
