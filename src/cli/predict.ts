/**
 * `sbnkit predict <model.json> --data <inputs.json> [--ensemble K --seed S | --exact] [--json]`:
 * the predictions of a model on inputs without labels (src/interpreters/prediction.ts). The data file
 * needs only the inputs the prediction head reads (`x`); labels, if present, are ignored.
 *
 * By default the deterministic mode network predicts; `--ensemble K` averages the predictive
 * distributions of K sampled networks (pass j with key foldIn(key(S), j), as `sbnkit sample`);
 * `--exact` gives the exact predictive distribution (small networks only).
 * Exit status: 0 ok; 2 bad input (files, data, flags, an exact enumeration over the budget).
 */
import { parseArgs } from 'node:util'
import * as E from 'fp-ts/lib/Either.js'
import { seedKey } from '../dsl/random.js'
import type { NDArray } from '../interpreters/ndarray.js'
import type { Prediction, PredictOptions } from '../interpreters/prediction.js'
import { predict } from '../interpreters/prediction.js'
import { seedValue, wholeNumber } from './args.js'
import { enumerationRows, guarded, readInputs, reportRunError, usageError } from './exact.js'
import { evaluationBytes } from '../interpreters/budget.js'
import { samplingSiblingNote } from './samplingSibling.js'
import { progressIfLong } from './progress.js'
import type { Command } from './io.js'
import { exitCode } from './io.js'

export const predictUsage = `usage: sbnkit predict <model.json> --data <inputs.json> [--ensemble K --seed S | --exact] [--json]

Prints the predictions of a model for every example of a dataset file that needs no labels: only
the inputs the model's prediction head reads (usually "x"; docs/data-format.md). Each line is the
example, the predicted class and its probability (for a logistic head: the sign and P(+1)).

options:
  --data FILE     dataset file (sbnkit-data/1) with the model's inputs; labels are not needed
  --ensemble K    average K sampled networks (Monte Carlo) instead of the mode network
  --seed S        PRNG seed of the ensemble, an integer in [0, 2^53) (required with --ensemble)
  --exact         the exact predictive distribution, by enumeration (small networks only)
  --json          print { "predictor", "examples", "classes", "predictive" } as JSON on stdout
  -h, --help      print this help

exit status: 0 ok; 2 a model or data file that cannot be read, data that does not fit the
model, a bad flag, or --exact needing more joint states than the budget.
`

const options = {
  data: { type: 'string' },
  ensemble: { type: 'string' },
  seed: { type: 'string' },
  exact: { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const

/** The rows of an NDArray of N examples (one number each, or one row each). */
const rows = (a: NDArray): number[][] => {
  const n = a.shape[0] ?? 1
  const width = a.data.length / n
  return Array.from({ length: n }, (_, e) => Array.from(a.data.subarray(e * width, (e + 1) * width)))
}

const describePredictor = (o: PredictOptions): string =>
  o.interpreter === 'mode' ? 'the mode network' : o.interpreter === 'exact' ? 'the exact predictive distribution' : `an ensemble of ${o.members}`

/** The table: example, class (or sign) and its probability; or the head's values without a class. */
const table = (p: Prediction): string[] => {
  const probs = rows(p.predictive)
  const classes = p.classes
  if (classes === undefined) return ['  example  output', ...probs.map((r, e) => `  ${String(e).padStart(7)}  ${r.map((v) => v.toPrecision(6)).join(' ')}`)]
  const logistic = p.predictive.shape.length === 1
  return [
    logistic ? '  example  sign  P(+1)' : '  example  class  probability',
    ...probs.map((r, e) =>
      logistic
        ? `  ${String(e).padStart(7)}  ${(classes[e]! > 0 ? '+1' : '-1').padStart(4)}  ${r[0]!.toFixed(4)}`
        : `  ${String(e).padStart(7)}  ${String(classes[e]).padStart(5)}  ${r[classes[e]!]!.toFixed(4)}`,
    ),
  ]
}

/** Predictions of a model file on a data file without labels. */
export const predictCommand: Command = async (argv, io) => {
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: typeof options; allowPositionals: true }>>
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true })
  } catch (err) {
    return usageError(io, 'predict', err instanceof Error ? err.message : String(err), predictUsage)
  }
  const o = parsed.values
  if (o.help) {
    io.out(predictUsage)
    return exitCode.ok
  }
  const [model, ...extra] = parsed.positionals
  if (model === undefined || extra.length > 0)
    return usageError(io, 'predict', `expected one model file, found ${parsed.positionals.length} arguments`, predictUsage)
  if (o.data === undefined) return usageError(io, 'predict', 'expected --data <inputs.json>', predictUsage)
  if (o.exact && o.ensemble !== undefined) return usageError(io, 'predict', '--exact and --ensemble are two different predictors; choose one', predictUsage)
  let how: PredictOptions = o.exact ? { interpreter: 'exact' } : { interpreter: 'mode' }
  if (o.ensemble !== undefined) {
    const members = wholeNumber('--ensemble', o.ensemble, 1)
    if (E.isLeft(members)) return usageError(io, 'predict', members.left, predictUsage)
    if (o.seed === undefined) return usageError(io, 'predict', '--ensemble needs --seed S (the same seed gives the same predictions)', predictUsage)
    const seedNumber = seedValue('--seed', o.seed)
    if (E.isLeft(seedNumber)) return usageError(io, 'predict', seedNumber.left, predictUsage)
    const seed = seedKey(seedNumber.right)
    if (E.isLeft(seed)) return usageError(io, 'predict', `--seed: ${seed.left}`, predictUsage)
    how = { interpreter: 'ensemble', members: members.right, key: seed.right }
  } else if (o.seed !== undefined) return usageError(io, 'predict', '--seed applies to --ensemble only (the mode network and --exact draw nothing)', predictUsage)
  const data = o.data
  return guarded(io, 'predict', async () => {
    // --exact evaluates every state of the widest stochastic layer at once: the same check as `exact`.
    const inputs = await readInputs(io, model, data, how.interpreter === 'exact' ? enumerationRows : () => 1)
    if (inputs === undefined) return exitCode.badInput
    const sibling = how.interpreter === 'ensemble' ? samplingSiblingNote(model) : undefined
    if (sibling !== undefined) io.err(`${sibling}\n`)
    const count = Object.values(inputs.feed)[0]?.shape[0] ?? 0
    const members = how.interpreter === 'ensemble' ? how.members : 1
    const bar = progressIfLong(io, 'predict', members, how.interpreter === 'ensemble' ? members * evaluationBytes(inputs.net, count) / 8 : 0)
    const r = predict(inputs.net, inputs.feed, how.interpreter === 'ensemble' ? { ...how, onProgress: (done) => bar.tick(done) } : how)
    if (E.isLeft(r)) return reportRunError(io, r.left, { model, data })
    bar.done()
    const p = r.right
    const examples = p.predictive.shape[0] ?? 1
    if (o.json) {
      io.out(`${JSON.stringify({
        predictor: how.interpreter, ...(how.interpreter === 'ensemble' ? { members: how.members, seed: Number(o.seed) } : {}), examples,
        ...(p.classes === undefined ? {} : { classes: Array.from(p.classes) }),
        predictive: p.predictive.shape.length === 1 ? Array.from(p.predictive.data) : rows(p.predictive),
      })}\n`)
      return exitCode.ok
    }
    io.out([`predictions of ${describePredictor(how)} on ${examples} ${examples === 1 ? 'example' : 'examples'}`, ...table(p), ''].join('\n'))
    return exitCode.ok
  })
}
