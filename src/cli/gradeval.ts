/**
 * `sbnkit gradeval`: the gradient-accuracy protocol of MATH.md §7 on a model file and a data
 * file, or on the ready preset (`--preset`), optionally in the {0,1} coding (`--coding`) and along
 * training (`--train E1,E2,…`). Prints a table, or the JSON report on stdout (`--json`); writes
 * the JSON (`--out`) and the SVG chart (`--plot`) on request.
 */
import * as E from 'fp-ts/lib/Either.js'
import { parseArgs } from 'node:util'
import { drawAll } from '../dsl/dslErrors.js'
import { key } from '../dsl/random.js'
import { drawDataError, drawDataErrors } from '../data/dataErrors.js'
import { readDataFile } from '../data/file.js'
import { drawModelErrors } from '../dsl/codec.js'
import { readModelFile, writeFileAtomic } from '../io/files.js'
import { drawRunError } from '../interpreters/runErrors.js'
import type { Checked, Network } from '../dsl/node.js'
import type { Feed } from '../interpreters/ndarray.js'
import type { Estimator } from '../estimators/estimator.js'
import { estimatorNames, parseEstimator } from '../estimators/estimator.js'
import { gradeval } from '../estimators/analysis/lab.js'
import { gradevalPreset } from '../estimators/analysis/preset.js'
import { gradevalAlongChart, gradevalAlongTable, gradevalChart, gradevalJson, gradevalTable } from '../estimators/analysis/report.js'
import { drawCodingError, toPlusMinus, toZeroOne } from '../dsl/codings.js'
import { gradevalAlong } from './gradevalTrain.js'
import type { Command, Io } from './io.js'
import { exitCode } from './io.js'
import { progressBar } from './progress.js'
import { jsonText } from './json.js'
import { budgetOf, realNumber, seedValue, sizedCount, wholeNumber } from './args.js'
import { evaluationBytes, fits, parameterBytes } from '../interpreters/budget.js'
import { enumerationRows } from './exact.js'

const defaultEstimators = 'st,reinforce,arm,concrete:0.1,concrete:1,meanfield,identity,hardtanh'

export const gradevalUsage = `usage: sbnkit gradeval (<model.json> --data <data.json> | --preset) [options]

Measures how well gradient estimators approximate the exact gradient (MATH.md §7).

options:
  --data FILE        dataset file (sbnkit-data/1) for the model
  --preset           use the MATH.md §7 network (2 → 5 → 5 → 5 → 1) and its 200-point dataset
  --coding C         plus-minus (default, the model as given) | zero-one: convert the model to the
                     {0,1} coding first (layers read s = (x + 1)/2; per-layer numbers then refer
                     to the {0,1} parameters, as in the papers that use that coding)
  --estimators LIST  comma-separated: ${estimatorNames}
                     (default ${defaultEstimators})
  --draws N          full-batch draws per estimator (default 20000)
  --seed S           seed of the draws (default 0)
  --latent RULE      mirror | st-gd: convention for latent weight gradients (default mirror)
  --train EPOCHS     comma-separated epochs (0 = untrained): train the network and run the lab after
                     each of them (see docs/estimators.md, "Along training")
  --train-estimator NAME  estimator used for training (default reinforce:baseline)
  --train-lr X       SGD learning rate (default 0.1)
  --train-momentum X SGD momentum (default 0.9)
  --train-batch N    minibatch size (default 10)
  --json             print the JSON report on stdout (instead of the table)
  --out FILE         write the JSON report to FILE (atomically)
  --plot FILE        write cosine-vs-M curves as SVG (along training: the epochs side by side)
`

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
  const net = await readModelFile(model, { budget: budgetOf(io) })
  if (E.isLeft(net)) {
    io.err(`${drawModelErrors(net.left, model)}\n`)
    return undefined
  }
  const feed = await readDataFile(data, { budget: budgetOf(io) })
  if (E.isLeft(feed)) {
    io.err(`${drawDataErrors(feed.left)}\n`)
    return undefined
  }
  return { net: net.right, feed: feed.right }
}

const fail = (io: Io, text: string): number => {
  io.err(`gradeval: ${text}\n`)
  return exitCode.badInput
}

const parseNumber = (text: string | undefined, fallback: number, ok: (x: number) => boolean): number | undefined =>
  text === undefined ? fallback : E.getOrElseW(() => undefined)(realNumber('', text, ok, ''))

export const gradevalCommand: Command = async (argv, io) => {
  let args
  try {
    args = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        data: { type: 'string' }, preset: { type: 'boolean' }, estimators: { type: 'string' }, draws: { type: 'string' },
        seed: { type: 'string' }, latent: { type: 'string' }, json: { type: 'boolean' }, out: { type: 'string' }, plot: { type: 'string' },
        coding: { type: 'string' }, train: { type: 'string' }, 'train-estimator': { type: 'string' }, 'train-lr': { type: 'string' },
        'train-momentum': { type: 'string' }, 'train-batch': { type: 'string' }, help: { type: 'boolean' },
      },
    })
  } catch (e) {
    io.err(`gradeval: ${(e as Error).message}\n\n${gradevalUsage}`)
    return exitCode.badInput
  }
  const o = args.values
  if (o.help === true) { io.out(gradevalUsage); return exitCode.ok }
  // Counts in decimal digits only (`1e12`, `0x10`, ` 7 ` are refused, as by every command).
  const drawsE = wholeNumber('--draws', o.draws ?? '20000', 1)
  if (E.isLeft(drawsE)) return fail(io, drawsE.left)
  const draws = drawsE.right
  const seedE = seedValue('--seed', o.seed ?? '0')
  if (E.isLeft(seedE)) return fail(io, seedE.left)
  const seed = seedE.right
  const latent = o.latent ?? 'mirror'
  if (latent !== 'mirror' && latent !== 'st-gd') return fail(io, `--latent expects mirror or st-gd, found ${latent}`)
  const coding = o.coding ?? 'plus-minus'
  if (coding !== 'plus-minus' && coding !== 'zero-one') return fail(io, `--coding expects plus-minus or zero-one, found ${coding}`)
  const estimators: Estimator[] = []
  for (const name of (o.estimators ?? defaultEstimators).split(',').map((s) => s.trim()).filter((s) => s.length > 0)) {
    const est = parseEstimator(name)
    if (est === undefined) return fail(io, `unknown estimator "${name}"; expected one of ${estimatorNames}`)
    estimators.push(est)
  }
  let epochs: number[] | undefined
  if (o.train !== undefined) {
    const parts = o.train.split(',').map((t) => (/^(0|[1-9]\d{0,8})$/.test(t.trim()) ? Number(t.trim()) : Number.NaN))
    if (parts.length === 0 || !parts.every((e) => Number.isInteger(e) && e >= 0) || parts.some((e, i) => i > 0 && e <= parts[i - 1]!))
      return fail(io, `--train expects ascending non-negative integers separated by commas (epochs), found ${o.train}`)
    epochs = parts
  }
  const trainEst = parseEstimator(o['train-estimator'] ?? 'reinforce:baseline')
  if (trainEst === undefined) return fail(io, `--train-estimator: unknown estimator "${o['train-estimator']}"; expected one of ${estimatorNames}`)
  const lr = parseNumber(o['train-lr'], 0.1, (x) => x > 0)
  if (lr === undefined) return fail(io, `--train-lr expects a number > 0, found ${o['train-lr']}`)
  const momentum = parseNumber(o['train-momentum'], 0.9, (x) => x >= 0 && x < 1)
  if (momentum === undefined) return fail(io, `--train-momentum expects a number in [0, 1), found ${o['train-momentum']}`)
  const batchE = wholeNumber('--train-batch', o['train-batch'] ?? '10', 1)
  if (E.isLeft(batchE)) return fail(io, batchE.left)
  const batch = batchE.right
  if (estimators.length === 0) { io.err(`gradeval: --estimators expects at least one estimator (${estimatorNames}), found ${JSON.stringify(o.estimators)}\n\n${gradevalUsage}`); return exitCode.badInput }
  if (args.positionals.length > 1 || (o.preset === true && args.positionals.length > 0)) { io.err(`gradeval: expected one model file or --preset, found ${args.positionals.length} arguments${o.preset === true ? ' and --preset' : ''}\n\n${gradevalUsage}`); return exitCode.badInput }
  const inputs = await loadInputs(args.positionals[0], o.data, o.preset === true, io)
  if (inputs === undefined) return exitCode.badInput
  // Every draw's gradient is kept (for the variance and the plots): draws × the parameters.
  const room = sizedCount(budgetOf(io), '--draws', draws, parameterBytes(inputs.net))
  if (E.isLeft(room)) return fail(io, room.left)
  // One draw is a forward and a backward pass on every row (3 passes' values, as for training);
  // the exact gradient evaluates every state of the widest stochastic layer at once (as `exact`).
  const rows = Object.values(inputs.feed)[0]?.shape[0] ?? 0
  const pass = Math.max(3 * evaluationBytes(inputs.net, rows), evaluationBytes(inputs.net, rows * enumerationRows(inputs.net)))
  const fitsPass = fits(budgetOf(io), pass, `${args.positionals[0] ?? 'the preset'}: the estimators and the exact gradient on ${rows} examples`)
  if (E.isLeft(fitsPass)) return fail(io, fitsPass.left)
  const coded = coding === 'zero-one' ? toZeroOne(inputs.net) : toPlusMinus(inputs.net)
  if (E.isLeft(coded)) return fail(io, drawCodingError(coded.left))
  const net = coded.right
  const meta = { seed, latent, coding, model: args.positionals[0] ?? 'preset' }
  const lab = { estimators, draws, key: key(seed), latent, clock: () => performance.now() / 1000 } as const
  let json: unknown
  let table: string
  let chart: string
  if (epochs === undefined) {
    const bar = progressBar(io, 'gradeval', estimators.length * draws)
    const report = gradeval(net, inputs.feed, { ...lab, onProgress: (e, done) => bar.tick(e * draws + done, estimators[e]!.label) })
    if (E.isLeft(report)) { io.err(`${drawRunError(report.left)}\n`); return exitCode.badInput }
    bar.done()
    json = gradevalJson(report.right, meta)
    table = `exact expected loss: ${report.right.exactLoss.toFixed(6)}  (${draws} draws per estimator, seed ${seed}, ${coding} coding)\n\n${gradevalTable(report.right)}`
    chart = gradevalChart(report.right)
  } else {
    const perLab = estimators.length * draws
    const bar = progressBar(io, 'gradeval --train', epochs.length * perLab)
    const along = await gradevalAlong(net, inputs.feed, {
      epochs, estimator: trainEst, lr, momentum, batch, seed, lab,
      onLab: (p, e, done) => bar.tick(p * perLab + e * draws + done, `epoch ${epochs![p]}: ${estimators[e]!.label}`),
      onTrain: (epoch) => bar.tick(Math.min(epochs!.filter((x) => x <= epoch).length, epochs!.length) * perLab, `training, epoch ${epoch + 1}`),
    })
    if (E.isLeft(along)) return fail(io, along.left)
    bar.done()
    const training = { estimator: trainEst.label, optimizer: `sgd(momentum=${momentum})`, lr, batch, data: o.preset === true ? 'MATH.md §7, 200 points' : o.data ?? '' }
    json = {
      format: 'sbnkit-gradeval-along/1', ...meta, training,
      epochs: along.right.map((p) => ({ epoch: p.epoch, ...(p.trainLoss === undefined ? {} : { trainLoss: p.trainLoss }), ...(gradevalJson(p.report) as object) })),
    }
    table = `trained with ${trainEst.label}, SGD (momentum ${momentum}), lr ${lr}, batch ${batch}; ${draws} draws per estimator, seed ${seed}, ${coding} coding\n\n${gradevalAlongTable(along.right)}`
    chart = gradevalAlongChart(along.right)
  }
  const text = jsonText(io, json)
  if (o.json === true) io.out(text)
  else io.out(table)
  for (const [file, content] of [[o.out, text], [o.plot, chart]] as const) {
    if (file === undefined) continue
    const w = await writeFileAtomic(file, content)
    if (E.isLeft(w)) { io.err(`gradeval: ${drawModelErrors([w.left])}\n`); return exitCode.badInput }
    ;(o.json === true ? io.err : io.out)(`wrote ${file}\n`)
  }
  return exitCode.ok
}
