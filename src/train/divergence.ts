/**
 * When a run is called diverged although its loss is finite. Three rules, each a pure function of
 * numbers the loop already keeps (the running mean of the minibatch losses and the epoch
 * records), so a resumed run stops exactly where the uninterrupted one would:
 *
 * - **exploding minibatch**: a minibatch loss over `explodingFactor` × the running mean of the
 *   run's earlier ones (a mean under 1 counts as 1). `--lr 1e6`: 1.5 → 9·10⁵ in one step.
 * - **exploding epoch**: an epoch's training loss over `explodingFactor` × the first epoch's and
 *   above the previous epoch's (a slower explosion).
 * - **worse than guessing**: the training loss of `hopelessEpochs` epochs in a row over
 *   `hopelessFactor` × the loss of a uniform guess (log 2 per example for a logistic head, log K
 *   for a K-class softmax head). `--lr 100` on a tiny MLP keeps the loss at 50–250 (75 to 360 ×
 *   log 2), finite and not growing, while accuracy stays at chance. A run that learns is far
 *   below: the `npm start` recipe's loss is 2–4 in its first epochs against log 10 = 2.30, i.e.
 *   under 2 × a guess. A squared loss has no guess to compare with; the rule does not apply.
 *
 * Each returns the sentence of `TrainError.what`, or undefined while the run is healthy.
 */
import type { Checked, Network } from '../dsl/node.js'
import type { EpochRecord } from './log.js'

// ---------------------------------------------------------------------------------------------
// Model

/** How many times the reference loss a loss may reach before training is called diverged. */
export const explodingFactor = 100

/** How many times a uniform guess's loss an epoch's training loss may reach … */
export const hopelessFactor = 10

/** … for at most this many epochs in a row. */
export const hopelessEpochs = 2

// ---------------------------------------------------------------------------------------------
// Rules

/**
 * The loss per example of a uniform guess for the network's loss head: log 2 for a logistic
 * head (P(+1) = ½), log K for a softmax over K classes; undefined for a squared loss or none.
 * @example chanceLoss(mlp) // Math.log(10) for a 10-class softmax head
 */
export const chanceLoss = (net: Checked<Network>): number | undefined => {
  const loss = Object.hasOwn(net.outputs, 'loss') ? net.outputs['loss'] : undefined
  if (loss?._tag !== 'Loss') return undefined
  if (loss.op === 'logistic-nll') return Math.log(2)
  const classes = loss.logits.type.shape[1]
  return loss.op === 'softmax-ce' && typeof classes === 'number' && classes >= 2 ? Math.log(classes) : undefined
}

/**
 * Divergence within a step: a minibatch loss over `explodingFactor` times the running mean of
 * the run's earlier minibatch losses (`TrainerState.baseline`; a mean under 1 counts as 1, so a
 * near-perfect fit is not called exploding when one minibatch is worse than the rest). This
 * catches a learning rate that wrecks the network in its first steps (`--lr 1e6`: the loss goes
 * from 1.5 to 9e5 in one step), before the first epoch ends. Undefined for the run's first step.
 * @example explodingMinibatch(1, 1.478, 8.75e5) // 'the minibatch loss 8.750e+5 is over 100 × …'
 */
export const explodingMinibatch = (globalStep: number, runningMean: number, loss: number): string | undefined =>
  globalStep > 0 && loss > explodingFactor * Math.max(1, runningMean)
    ? `the minibatch loss ${loss.toPrecision(4)} is over ${explodingFactor} × the mean of the run's earlier ones (${runningMean.toPrecision(4)}, counted as at least 1)`
    : undefined

/**
 * Divergence with a finite loss: an epoch whose training loss is above `explodingFactor` times
 * the first epoch's and above the previous epoch's (still growing).
 * @example explodingLoss([{ trainLoss: 2.3, … }, { trainLoss: 400, … }], 1e31) // "the training loss 1.000e+31 is over 100 × …"
 */
export const explodingLoss = (history: readonly EpochRecord[], trainLoss: number): string | undefined => {
  const first = history[0]?.trainLoss
  const previous = history[history.length - 1]?.trainLoss
  if (first === undefined || previous === undefined || !(first > 0)) return undefined
  return trainLoss > explodingFactor * first && trainLoss > previous
    ? `the training loss ${trainLoss.toPrecision(4)} is over ${explodingFactor} × the first epoch's (${first.toPrecision(4)}) and still growing`
    : undefined
}

/**
 * Divergence at chance: this epoch's training loss and the previous `hopelessEpochs − 1` ones
 * all over `hopelessFactor` × `chance` (the loss of a uniform guess, `chanceLoss`). Undefined
 * without a chance loss (a squared loss) or before `hopelessEpochs` epochs.
 * @example hopelessLoss([{ trainLoss: 57, … }], 112, Math.log(2)) // 'the training loss was over 10 × …'
 */
export const hopelessLoss = (history: readonly EpochRecord[], trainLoss: number, chance: number | undefined): string | undefined => {
  if (chance === undefined || !(chance > 0)) return undefined
  const losses = [...history.slice(history.length - (hopelessEpochs - 1)).map((r) => r.trainLoss), trainLoss]
  if (losses.length < hopelessEpochs || !losses.every((l) => l > hopelessFactor * chance)) return undefined
  return `the training loss was over ${hopelessFactor} × the loss of a uniform guess (${chance.toPrecision(3)} per example) for ${hopelessEpochs} epochs in a row (${losses.map((l) => l.toPrecision(4)).join(', ')}): the network does worse than guessing`
}
