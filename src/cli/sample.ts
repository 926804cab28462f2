/**
 * `sbnkit sample <model.json> --data <data.json> --samples N --seed S [--ensemble K] [--json]`:
 * the Monte Carlo interpreter on a dataset (docs/interpreters.md): the mean loss of N sampled
 * forward passes with its standard error, the loss and accuracy of the deterministic mode
 * network, and of the ensemble (the average of K sampled predictive distributions).
 *
 * The run is a pure function of (model, data, N, S, K): pass j uses the key foldIn(key(S), j).
 * Exit status: 0 ok; 2 bad input (files, data that does not fit the model, flags).
 */
import { parseArgs } from 'node:util'
import * as E from 'fp-ts/lib/Either.js'
import { seedKey } from '../dsl/random.js'
import { monteCarlo } from '../interpreters/montecarlo/index.js'
import { guarded, readInputs, reportRunError, usageError } from './exact.js'
import type { Command } from './io.js'
import { exitCode } from './io.js'
import { budgetOf, seedValue, sizedCount, wholeNumber } from './args.js'
import { evaluationBytes } from '../interpreters/budget.js'
import { progressIfLong } from './progress.js'

export const sampleUsage = `usage: sbnkit sample <model.json> --data <data.json> --samples N --seed S [--ensemble K] [--json]

Runs N sampled forward passes of a stochastic binary network on a dataset (the Monte Carlo
interpreter, docs/interpreters.md) and prints the mean loss with its standard error, the loss and
accuracy of the deterministic mode network (every unit x = sign(a)), and the loss and accuracy
of the ensemble (the average of the first K sampled predictive distributions).

options:
  --data FILE     dataset file (sbnkit-data/1, docs/data-format.md) with an array per model input
  --samples N     number of sampled forward passes (N ≥ 1; the standard error needs N ≥ 2)
  --seed S        PRNG seed, an integer in [0, 2^53); the same seed gives the same result
  --ensemble K    members of the ensemble (default min(N, 16))
  --json          print the results as JSON
  -h, --help      print this help

exit status: 0 ok; 2 a model or data file that cannot be read, data that does not fit the
model, or a bad flag.
`

const options = {
  data: { type: 'string' },
  samples: { type: 'string' },
  seed: { type: 'string' },
  ensemble: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const

/** JSON has no NaN: a value that does not exist (accuracy of a squared loss, stderr of 1 sample) is null. */
const num = (v: number): number | null => (Number.isFinite(v) ? v : null)
const fmt = (v: number, digits = 6): string => (Number.isFinite(v) ? v.toPrecision(digits) : 'n/a')
const pct = (v: number): string => (Number.isFinite(v) ? `${(100 * v).toFixed(2)}%` : 'n/a (squared loss)')

/** The Monte Carlo interpreter on a model file and a data file. */
export const sampleCommand: Command = async (argv, io) => {
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: typeof options; allowPositionals: true }>>
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true })
  } catch (err) {
    return usageError(io, 'sample', err instanceof Error ? err.message : String(err), sampleUsage)
  }
  const o = parsed.values
  if (o.help) {
    io.out(sampleUsage)
    return exitCode.ok
  }
  const [model, ...extra] = parsed.positionals
  if (model === undefined || extra.length > 0)
    return usageError(io, 'sample', `expected one model file, found ${parsed.positionals.length} arguments`, sampleUsage)
  if (o.data === undefined) return usageError(io, 'sample', 'expected --data <data.json>', sampleUsage)
  if (o.samples === undefined) return usageError(io, 'sample', 'expected --samples N', sampleUsage)
  // Each sampled pass keeps one loss per example: --samples is bounded by the budget in the run.
  const samples = wholeNumber('--samples', o.samples, 1)
  if (E.isLeft(samples)) return usageError(io, 'sample', samples.left, sampleUsage)
  if (o.seed === undefined) return usageError(io, 'sample', 'expected --seed S (the same seed gives the same result)', sampleUsage)
  const seedNumber = seedValue('--seed', o.seed)
  if (E.isLeft(seedNumber)) return usageError(io, 'sample', seedNumber.left, sampleUsage)
  const seed = seedKey(seedNumber.right)
  if (E.isLeft(seed)) return usageError(io, 'sample', `--seed: ${seed.left}`, sampleUsage)
  const ensemble = o.ensemble === undefined ? E.right(Math.min(samples.right, 16)) : wholeNumber('--ensemble', o.ensemble, 1, samples.right)
  if (E.isLeft(ensemble)) return usageError(io, 'sample', `${ensemble.left} (at most --samples)`, sampleUsage)
  const data = o.data
  return guarded(io, 'sample', async () => {
    const inputs = await readInputs(io, model, data)
    if (inputs === undefined) return exitCode.badInput
    const examples = Object.values(inputs.feed)[0]?.shape[0] ?? 0
    const room = sizedCount(budgetOf(io), '--samples', samples.right, 8 * Math.max(1, examples))
    if (E.isLeft(room)) return usageError(io, 'sample', room.left, sampleUsage)
    // A pass computes every value of the network once; a long run shows its progress on stderr.
    const bar = progressIfLong(io, 'sample', samples.right, samples.right * evaluationBytes(inputs.net, examples) / 8)
    const r = monteCarlo(inputs.net, inputs.feed, { samples: samples.right, key: seed.right, ensemble: ensemble.right, onProgress: (done) => bar.tick(done) })
    if (E.isLeft(r)) return reportRunError(io, r.left, { model, data })
    bar.done()
    const m = r.right
    if (o.json) {
      io.out(`${JSON.stringify({
        samples: samples.right, seed: seedNumber.right, mean: m.mean, stderr: num(m.stderr),
        mode: { loss: m.mode.loss, accuracy: num(m.mode.accuracy) },
        ensemble: { members: m.ensemble.members, loss: m.ensemble.loss, accuracy: num(m.ensemble.accuracy) },
        sampleAccuracy: num(m.sampleAccuracy),
      }, null, 1)}\n`)
      return exitCode.ok
    }
    io.out([
      `Monte Carlo: ${samples.right} sampled ${samples.right === 1 ? 'pass' : 'passes'} (seed ${seedNumber.right}) on ${examples} examples`,
      `  mean loss        ${fmt(m.mean)} ± ${fmt(m.stderr, 2)} (standard error)`,
      `  mode network     loss ${fmt(m.mode.loss)}, accuracy ${pct(m.mode.accuracy)}`,
      `  ensemble of ${String(m.ensemble.members).padEnd(3)}  loss ${fmt(m.ensemble.loss)}, accuracy ${pct(m.ensemble.accuracy)}`,
      `  single samples   mean accuracy ${pct(m.sampleAccuracy)} (over the ensemble members)`,
      '',
    ].join('\n'))
    return exitCode.ok
  })
}
