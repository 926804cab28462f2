/**
 * `sbnkit gradeval`: the gradient-accuracy protocol of MATH.md §7 on a model file and a data
 * file, or on the ready preset (`--preset`). Writes the JSON report and the SVG chart on request.
 */
import * as E from 'fp-ts/lib/Either.js'
import { parseArgs } from 'node:util'
import { drawAll } from '../dsl/errors.js'
import { key } from '../dsl/random.js'
import { drawDataError, drawDataErrors } from '../data/errors.js'
import { readDataFile } from '../data/file.js'
import { drawModelErrors } from '../dsl/codec.js'
import { readModelFile, writeFileAtomic } from '../io/files.js'
import { drawRunError } from '../interpreters/errors.js'
import type { Checked, Network } from '../dsl/node.js'
import type { Feed } from '../interpreters/ndarray.js'
import type { Estimator } from '../estimators/estimator.js'
import { estimatorNames, parseEstimator } from '../estimators/estimator.js'
import { gradeval } from '../estimators/analysis/gradeval.js'
import { gradevalPreset } from '../estimators/analysis/preset.js'
import { gradevalChart, gradevalJson, gradevalTable } from '../estimators/analysis/report.js'
import type { Command, Io } from './io.js'
import { exitCode } from './io.js'
import { progressBar } from './progress.js'
import { jsonText } from './json.js'

export const gradevalUsage = `usage: sbnkit gradeval (<model.json> --data <data.json> | --preset) [options]

Measures how well gradient estimators approximate the exact gradient (MATH.md §7).

options:
  --data FILE        dataset file (sbnkit-data/1) for the model
  --preset           use the MATH.md §7 network (2 → 5 → 5 → 5 → 1) and its 200-point dataset
  --estimators LIST  comma-separated: ${estimatorNames}
                     (default st,reinforce,arm,concrete:0.1,concrete:1,meanfield,identity,hardtanh)
  --draws N          full-batch draws per estimator (default 20000)
  --seed S           seed of the draws (default 0)
  --latent RULE      mirror | st-gd: convention for latent weight gradients (default mirror)
  --json FILE        write the report as JSON
  --plot FILE        write cosine-vs-M curves as SVG
`

const defaultEstimators = 'st,reinforce,arm,concrete:0.1,concrete:1,meanfield,identity,hardtanh'

const loadInputs = async (model: string | undefined, data: string | undefined, preset: boolean, io: Io): Promise<{ net: Checked<Network>; feed: Feed } | undefined> => {
  if (preset) {
    const p = gradevalPreset()
    if (E.isLeft(p)) {
      io.err(`${p.left._tag === 'Dsl' ? drawAll([p.left.error]) : drawDataError(p.left.error)}\n`)
      return undefined
    }
    return p.right
  }
  if (model === undefined || data === undefined) {
    io.err('gradeval: expected a model file and --data FILE, or --preset\n')
    return undefined
  }
  const net = await readModelFile(model)
  if (E.isLeft(net)) {
    io.err(`${drawModelErrors(net.left, model)}\n`)
    return undefined
  }
  const feed = await readDataFile(data)
  if (E.isLeft(feed)) {
    io.err(`${drawDataErrors(feed.left)}\n`)
    return undefined
  }
  return { net: net.right, feed: feed.right }
}

export const gradevalCommand: Command = async (argv, io) => {
  let args
  try {
    args = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        data: { type: 'string' }, preset: { type: 'boolean' }, estimators: { type: 'string' }, draws: { type: 'string' },
        seed: { type: 'string' }, latent: { type: 'string' }, json: { type: 'string' }, plot: { type: 'string' }, help: { type: 'boolean' },
      },
    })
  } catch (e) {
    io.err(`gradeval: ${(e as Error).message}\n\n${gradevalUsage}`)
    return exitCode.badInput
  }
  const o = args.values
  if (o.help === true) { io.out(gradevalUsage); return exitCode.ok }
  const draws = Number(o.draws ?? 20000)
  const seed = Number(o.seed ?? 0)
  if (!(Number.isInteger(draws) && draws >= 1)) { io.err(`gradeval: --draws expects an integer ≥ 1, found ${o.draws}\n`); return exitCode.badInput }
  if (!(Number.isInteger(seed) && seed >= 0)) { io.err(`gradeval: --seed expects a non-negative integer, found ${o.seed}\n`); return exitCode.badInput }
  const latent = o.latent ?? 'mirror'
  if (latent !== 'mirror' && latent !== 'st-gd') { io.err(`gradeval: --latent expects mirror or st-gd, found ${latent}\n`); return exitCode.badInput }
  const estimators: Estimator[] = []
  for (const name of (o.estimators ?? defaultEstimators).split(',').map((s) => s.trim()).filter((s) => s.length > 0)) {
    const est = parseEstimator(name)
    if (est === undefined) { io.err(`gradeval: unknown estimator "${name}"; expected one of ${estimatorNames}\n`); return exitCode.badInput }
    estimators.push(est)
  }
  if (estimators.length === 0) { io.err(`gradeval: --estimators expects at least one estimator (${estimatorNames}), found ${JSON.stringify(o.estimators)}\n\n${gradevalUsage}`); return exitCode.badInput }
  if (args.positionals.length > 1 || (o.preset === true && args.positionals.length > 0)) { io.err(`gradeval: expected one model file or --preset, found ${args.positionals.length} arguments${o.preset === true ? ' and --preset' : ''}\n\n${gradevalUsage}`); return exitCode.badInput }
  const inputs = await loadInputs(args.positionals[0], o.data, o.preset === true, io)
  if (inputs === undefined) return exitCode.badInput
  const bar = progressBar(io, 'gradeval', estimators.length * draws)
  const report = gradeval(inputs.net, inputs.feed, {
    estimators, draws, key: key(seed), latent,
    onProgress: (e, done) => bar.tick(e * draws + done, estimators[e]!.label),
    clock: () => performance.now() / 1000,
  })
  if (E.isLeft(report)) { io.err(`${drawRunError(report.left)}\n`); return exitCode.badInput }
  bar.done()
  io.out(`exact expected loss: ${report.right.exactLoss.toFixed(6)}  (${draws} draws per estimator, seed ${seed})\n\n`)
  io.out(gradevalTable(report.right))
  for (const [file, text] of [
    [o.json, jsonText(io, gradevalJson(report.right, { seed, latent, model: args.positionals[0] ?? 'preset' }))],
    [o.plot, gradevalChart(report.right)],
  ] as const) {
    if (file === undefined) continue
    const w = await writeFileAtomic(file, text)
    if (E.isLeft(w)) { io.err(`gradeval: ${drawModelErrors([w.left])}\n`); return exitCode.failed }
    io.out(`wrote ${file}\n`)
  }
  return exitCode.ok
}
