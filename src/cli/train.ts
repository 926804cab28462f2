/**
 * `sbnkit train`: trains a model file or a preset on MNIST, Fashion-MNIST or a dataset file,
 * with any estimator (per site if wanted) and weight recipe, writing checkpoints, a JSON-lines
 * log and the final model into `--out DIR`. `--resume DIR/checkpoint` continues a run bit-
 * identically; the run's settings are read back from `DIR/run.json`.
 *
 * Exit status: 0 done; 1 a bug of sbnkit; 2 bad input (flags, files, data that does not fit the
 * model) or a run that failed because of its settings or its machine (diverged, a checkpoint
 * that cannot be written); 130 interrupted (SIGINT or SIGTERM)
 * after writing a checkpoint to resume from.
 */
import { appendFile, mkdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import * as E from 'fp-ts/lib/Either.js'
import { drawModelErrors } from '../dsl/codec.js'
import type { Checked, Network } from '../dsl/node.js'
import { showNoise } from '../dsl/noise.js'
import { topoOrder } from '../dsl/fold.js'
import { drawRunError } from '../interpreters/runErrors.js'
import type { CheckpointIo, Restored } from '../train/checkpoint.js'
import { checkpointStore, fileIo, POINTER, readCheckpoint } from '../train/checkpoint.js'
import type { EpochRecord, LogRecord } from '../train/log.js'
import { logLine, progressInfo, showEpoch, showEvaluation, truncateLog } from '../train/log.js'
import type { TrainerState, TrainHooks } from '../train/loop.js'
import { drawTrainError, train } from '../train/loop.js'
import { trainAnnealed } from '../train/anneal.js'
import { annealLine, baseNetwork } from './trainAnneal.js'
import { parseRecipeName } from '../train/recipes.js'
import { drawRoutingError } from '../train/routing.js'
import { MAX_THREADS } from '../train/config.js'
import { standardCacheDir } from '../data/cache.js'
import { readModelFile, readText, writeFileAtomic } from '../io/files.js'
import { fits, parameterBytes, trainingBytes } from '../interpreters/budget.js'
import { budgetOf, realNumber, threadCount, wholeNumber } from './args.js'
import type { Command, Io } from './io.js'
import { exitCode } from './io.js'
import type { Progress } from './progress.js'
import { progressBar } from './progress.js'
import { jsonText } from './json.js'
import { usageError } from './exact.js'
import type { Settings } from './trainSetup.js'
import { absolutePaths, buildConfig, buildPreset, defaults, loadData, modelLayout, presetLayoutOf, RUN_FORMAT, withNetworkSettings } from './trainSetup.js'
import { unreachable } from '../dsl/dslErrors.js'
import { referenceProducts } from '../interpreters/reference/ops.js'
import { CALIBRATION_ROWS } from '../train/calibrate.js'
import { recalibrated, recalibratedLine, writeModels } from './trainDeploy.js'
import { trainUsage } from './trainUsage.js'

/** The world a run touches besides stdout/stderr, injectable for tests. */
export interface TrainDeps {
  /** Calls `onInterrupt` on SIGINT/SIGTERM; returns the unsubscribe function. */
  readonly signals: (onInterrupt: () => void) => () => void
  readonly checkpointIo: CheckpointIo
  readonly cacheDir: () => string | false
}

export const processDeps: TrainDeps = {
  signals: (cb) => {
    // The first signal stops the run at the next step boundary (after a checkpoint); a second one
    // exits at once, which is safe too: every file is written atomically.
    let count = 0
    const h = (): void => {
      if (++count > 1) process.exit(130)
      cb()
    }
    process.on('SIGINT', h)
    process.on('SIGTERM', h)
    return () => {
      process.off('SIGINT', h)
      process.off('SIGTERM', h)
    }
  },
  checkpointIo: fileIo,
  cacheDir: () => standardCacheDir(),
}

const options = {
  model: { type: 'string' }, preset: { type: 'string' }, dataset: { type: 'string' }, 'data-dir': { type: 'string' }, augment: { type: 'string' }, validation: { type: 'string' },
  test: { type: 'string' }, limit: { type: 'string' }, 'batch-norm': { type: 'boolean' }, 'no-batch-norm': { type: 'boolean' },
  recalibrate: { type: 'string' }, 'no-recalibrate': { type: 'boolean' }, 'fan-in-lr': { type: 'boolean' }, 'no-fan-in-lr': { type: 'boolean' }, estimator: { type: 'string' },
  'weight-estimator': { type: 'string' }, site: { type: 'string', multiple: true }, recipe: { type: 'string' },
  optimizer: { type: 'string' }, momentum: { type: 'string' }, lr: { type: 'string' }, schedule: { type: 'string' },
  epochs: { type: 'string' }, batch: { type: 'string' }, seed: { type: 'string' }, ensemble: { type: 'string' },
  patience: { type: 'string' }, select: { type: 'string' }, 'log-every': { type: 'string' }, products: { type: 'string' }, threads: { type: 'string' }, parts: { type: 'string' },
  'weight-sampling': { type: 'string' }, decay: { type: 'string' }, 'bop-threshold': { type: 'string' },
  'bop-gamma': { type: 'string' }, anneal: { type: 'string' }, out: { type: 'string' }, resume: { type: 'string' }, json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const
type Values = ReturnType<typeof parseArgs<{ args: string[]; options: typeof options }>>['values']

// ---------------------------------------------------------------------------------------------
// Flags → settings

// Strict, as every command's numbers (args.ts): decimal only, `0x10`, `" 7 "` and `1e9` for a count are refused.
const whole = (flag: string, s: string, min: number): E.Either<string, number> => wholeNumber(`--${flag}`, s, min)
const real = (flag: string, s: string, ok: (x: number) => boolean, expected: string): E.Either<string, number> => realNumber(`--${flag}`, s, ok, expected)
const oneOf = <T extends string>(flag: string, s: string, allowed: readonly T[]): E.Either<string, T> =>
  (allowed as readonly string[]).includes(s) ? E.right(s as T) : E.left(`--${flag} expects one of ${allowed.join(', ')}, found "${s}"`)

/** The settings given explicitly on the command line (each checked). */
const flagSettings = (o: Values): E.Either<string, Partial<Settings>> => {
  const out: Record<string, unknown> = {}
  const checks: Array<[string | undefined, keyof Settings, (s: string) => E.Either<string, unknown>]> = [
    [o.model, 'model', E.right], [o.preset, 'preset', E.right], [o.dataset, 'dataset', E.right], [o['data-dir'], 'dataDir', E.right], [o.augment, 'augment', E.right],
    [o.validation, 'validation', E.right], [o.test, 'test', E.right], [o.limit, 'limit', (s) => whole('limit', s, 1)],
    [o.estimator, 'estimator', E.right], [o['weight-estimator'], 'weightEstimator', E.right],
    [o.recipe, 'recipe', (s) => E.mapLeft((e: string) => `--${e}`)(parseRecipeName(s))],
    [o.optimizer, 'optimizer', (s) => oneOf('optimizer', s, ['sgd', 'adam'])],
    [o.momentum, 'momentum', (s) => real('momentum', s, (x) => x >= 0 && x < 1, 'a number in [0, 1)')],
    [o.lr, 'lr', (s) => real('lr', s, (x) => x > 0, 'a number > 0')], [o.schedule, 'schedule', E.right],
    [o.epochs, 'epochs', (s) => whole('epochs', s, 1)], [o.batch, 'batch', (s) => whole('batch', s, 1)],
    [o.seed, 'seed', (s) => whole('seed', s, 0)], [o.ensemble, 'ensemble', (s) => whole('ensemble', s, 1)],
    [o.patience, 'patience', (s) => whole('patience', s, 1)], [o['log-every'], 'logEvery', (s) => whole('log-every', s, 0)],
    [o.select, 'select', (s) => oneOf('select', s, ['mode', 'ensemble'])],
    [o.products, 'products', (s) => oneOf('products', s, ['fast', 'reference'])],
    [o['weight-sampling'], 'weightSampling', (s) => oneOf('weight-sampling', s, ['per-pass', 'mode'])],
    [o.decay, 'decay', (s) => real('decay', s, (x) => x >= 0, 'a number ≥ 0')],
    [o['bop-threshold'], 'bopThreshold', (s) => real('bop-threshold', s, (x) => x >= 0, 'a number ≥ 0')],
    [o['bop-gamma'], 'bopGamma', (s) => real('bop-gamma', s, (x) => x > 0 && x <= 1, 'a number in (0, 1]')],
    [o.anneal, 'anneal', (s) => real('anneal', s, (x) => x > 0 && x < 1, 'a final noise scale in (0, 1)')],
    [o.recalibrate, 'recalibrate', (s) => whole('recalibrate', s, 1)],
    [o.parts, 'parts', (s) => wholeNumber('--parts', s, 1, MAX_THREADS)],
  ]
  for (const [raw, field, parse] of checks) {
    if (raw === undefined) continue
    const v = parse(raw)
    if (E.isLeft(v)) return v
    out[field] = v.right
  }
  if (o.site !== undefined) out['sites'] = o.site
  if (o['batch-norm'] === true && o['no-batch-norm'] === true) return E.left('--batch-norm and --no-batch-norm contradict each other')
  if (o['batch-norm'] === true) out['batchNorm'] = true
  if (o['no-batch-norm'] === true) out['batchNorm'] = false
  if (o.recalibrate !== undefined && o['no-recalibrate'] === true) return E.left('--recalibrate and --no-recalibrate contradict each other')
  if (o['no-recalibrate'] === true) out['recalibrate'] = 0
  if (o['fan-in-lr'] === true && o['no-fan-in-lr'] === true) return E.left('--fan-in-lr and --no-fan-in-lr contradict each other')
  if (o['fan-in-lr'] === true) out['fanInLr'] = true
  if (o['no-fan-in-lr'] === true) out['fanInLr'] = false
  return E.right(out as Partial<Settings>)
}

/** Settings of a new run: defaults under the flags; a model or a preset, a dataset. */
const newSettings = (f: Partial<Settings>): E.Either<string, Settings> => {
  if ((f.model === undefined) === (f.preset === undefined)) return E.left('expected exactly one of --model FILE and --preset mlp:W1,W2,…|conv')
  if (f.dataset === undefined) return E.left('expected --dataset mnist|mnist-subset|fashion-mnist|cifar10|FILE.json')
  return E.right(absolutePaths({ ...defaults(f.recipe ?? 'md'), recalibrate: CALIBRATION_ROWS, ...f, dataset: f.dataset }))
}

/** Settings of a resumed run: the saved ones; a flag may only repeat them, except --epochs. */
const resumedSettings = (saved: Settings, f: Partial<Settings>): E.Either<string, Settings> => {
  const given = absolutePaths({ ...saved, ...f })
  const differ = (Object.keys(f) as (keyof Settings)[]).filter((k) => k !== 'epochs' && JSON.stringify(given[k]) !== JSON.stringify(saved[k]))
  if (differ.length > 0)
    return E.left(`the run's settings are fixed when it starts; ${differ.map((k) => `${k} is ${JSON.stringify(saved[k] ?? null)} in run.json, found ${JSON.stringify(given[k])}`).join('; ')} (only --epochs may change)`)
  return E.right(f.epochs === undefined ? saved : { ...saved, epochs: f.epochs })
}

// ---------------------------------------------------------------------------------------------
// The command

const weightNoises = (net: Network): string[] =>
  [...new Set(topoOrder(Object.values(net.outputs)).flatMap((n) => (n._tag === 'Binarize' && !n.type.shape.includes('batch') ? [showNoise(n.noise)] : [])))]

/** `after epoch 2` at an epoch boundary, else `at epoch 3, step 17`. */
const where = (s: Pick<TrainerState, 'epoch' | 'step'>): string => (s.step === 0 ? `after epoch ${s.epoch}` : `at epoch ${s.epoch + 1}, step ${s.step}`)

/** A progress bar per epoch whose label says which epoch. */
const epochBars = (io: Io, epochs: number) => {
  let bar: Progress | undefined
  let current = -1
  let lastValidation: EpochRecord['validation']
  return {
    step: (epoch: number, step: number, steps: number, loss: number): void => {
      if (epoch !== current) {
        current = epoch
        bar = progressBar(io, `epoch ${epoch + 1}/${epochs}`, steps)
      }
      bar?.tick(step, progressInfo(loss, lastValidation))
    },
    epoch: (r: EpochRecord): void => {
      lastValidation = r.validation
      if (r.epoch - 1 === current) bar?.done(progressInfo(r.trainLoss, r.validation))
    },
  }
}

/** `sbnkit train` with the given world. */
/** A learning rate to suggest after a divergence: a tenth, or the default 0.01 for one above 1. */
const smallerLr = (lr: number): number => (lr > 1 ? 0.01 : Number((lr / 10).toPrecision(3)))

export const trainCommandWith = (deps: TrainDeps): Command => async (argv, io) => {
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: typeof options }>>
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true })
  } catch (err) {
    return usageError(io, 'train', err instanceof Error ? err.message : String(err), trainUsage)
  }
  const o = parsed.values
  if (o.help) {
    io.out(trainUsage)
    return exitCode.ok
  }
  const bad = (message: string): number => {
    io.err(`sbnkit train: ${message}\n`)
    return exitCode.badInput
  }
  const flags = flagSettings(o)
  if (E.isLeft(flags)) return usageError(io, 'train', flags.left, trainUsage)
  // Not a setting of the run (run.json): the results do not depend on it.
  const threadsE = threadCount(o.threads, MAX_THREADS)
  if (E.isLeft(threadsE)) return usageError(io, 'train', threadsE.left, trainUsage)
  try {
    // Settings, network and data: from the checkpoint and run.json, or from the flags.
    let restored: Restored | undefined
    let settings: Settings
    let dir: string
    let net: Checked<Network> | undefined
    if (o.resume !== undefined) {
      const r = await readCheckpoint(o.resume)
      if (E.isLeft(r)) return bad(r.left)
      restored = r.right
      dir = restored.dir
      const text = await readText(join(dir, 'run.json'), `the settings of the run (${RUN_FORMAT})`)
      if (E.isLeft(text)) return bad(drawModelErrors([text.left]))
      const saved = JSON.parse(text.right) as Settings & { format?: string }
      if (saved.format !== RUN_FORMAT) return bad(`${join(dir, 'run.json')}: expected "format": "${RUN_FORMAT}"`)
      const { format: _, ...savedSettings } = saved
      const s = resumedSettings(savedSettings, flags.right)
      if (E.isLeft(s)) return bad(s.left)
      settings = s.right
      net = restored.net
    } else {
      const s = newSettings(flags.right)
      if (E.isLeft(s)) return usageError(io, 'train', s.left, trainUsage)
      if (o.out === undefined) return usageError(io, 'train', 'expected --out DIR (checkpoints, log and the final model go there)', trainUsage)
      settings = s.right
      dir = o.out
      if (await stat(join(dir, POINTER)).then(() => true, () => false))
        return bad(`${dir} already holds a run (${join(dir, POINTER)}); continue it with --resume ${join(dir, POINTER)} or choose another --out`)
      if (settings.model !== undefined) {
        const m = await readModelFile(settings.model, { budget: budgetOf(io) })
        if (E.isLeft(m)) return bad(drawModelErrors(m.left, settings.model))
        net = m.right
      }
    }
    const layout = net === undefined ? presetLayoutOf(settings) : modelLayout(net)
    if (layout === undefined || (typeof layout !== 'string' && E.isLeft(layout)))
      return bad(layout === undefined ? `--preset: expected mlp:W1,W2,… or conv[:C1,C2], found "${settings.preset}"` : `${settings.model}: ${(layout as E.Left<string>).left}`)
    const loaded = await loadData(settings, typeof layout === 'string' ? layout : layout.right, deps.cacheDir())
    if (E.isLeft(loaded)) return bad(loaded.left)
    let description = `${settings.model ?? ''} on ${loaded.right.description}`
    if (settings.preset !== undefined) {
      const p = buildPreset(settings, loaded.right, budgetOf(io))
      if (E.isLeft(p)) return bad(p.left)
      net ??= p.right.net
      description = `${p.right.description} on ${loaded.right.description}`
    }
    if (net === undefined) return unreachable('a network comes from the checkpoint, the model file or the preset')
    const room = fits(budgetOf(io), trainingBytes(net, settings.batch), `training ${(parameterBytes(net) / 8).toLocaleString('en-US')} parameters with --batch ${settings.batch}`)
    if (E.isLeft(room)) return bad(room.left)
    const built = buildConfig(settings)
    if (E.isLeft(built)) return usageError(io, 'train', built.left, trainUsage)
    const config = { ...withNetworkSettings(built.right.config, net, settings), threads: threadsE.right }
    const { notes } = built.right
    const want = config.recipe.weightNoise
    const have = weightNoises(net)
    if (want !== undefined && have.some((n) => n !== showNoise(want)))
      notes.push(`note: recipe ${settings.recipe} expects ${showNoise(want)} weight noise; the model's weight sites use ${have.join(', ')}`)
    if (settings.lr > 10) notes.push(`note: --lr ${settings.lr} is far above the usual range (0.0001 to 1); real parameters will likely explode (training stops when the loss does)`)
    for (const n of notes) io.err(`${n}\n`)

    // The run directory: settings (new runs), the log (cut back to the checkpoint on resume).
    await mkdir(dir, { recursive: true })
    const logPath = join(dir, 'log.jsonl')
    if (restored === undefined) {
      const w = await writeFileAtomic(join(dir, 'run.json'), `${JSON.stringify({ format: RUN_FORMAT, ...settings }, null, 1)}\n`)
      if (E.isLeft(w)) return bad(drawModelErrors([w.left]))
    }
    const oldLog = restored === undefined ? '' : await readText(logPath, 'the log').then((t) => (E.isRight(t) ? t.right : ''))
    const logW = await writeFileAtomic(logPath, restored === undefined ? '' : truncateLog(oldLog, restored.state.globalStep))
    if (E.isLeft(logW)) return bad(drawModelErrors([logW.left]))
    const steps = Math.ceil(loaded.right.data.train.size / config.batchSize)
    if (!o.json) {
      io.out(`${restored === undefined ? 'training' : `resuming at epoch ${restored.state.epoch + 1}, step ${restored.state.step + 1}:`} ${description}\n`)
      io.out(`  recipe ${settings.recipe} (${config.recipe.optimizer.name}), real parameters ${config.optimizer.name}, estimator ${config.estimator.label} (weights ${config.weightEstimator.label}), lr ${settings.lr} (${settings.schedule}), ${settings.epochs} epoch${settings.epochs === 1 ? '' : 's'} of ${steps} steps (batch ${settings.batch}), seed ${settings.seed}, products ${config.products?.name}${config.products?.threaded === undefined ? '' : ` on ${config.threads} thread${config.threads === 1 ? '' : 's'}`}\n`)
      if (settings.anneal !== undefined) io.out(`${annealLine({ final: settings.anneal }, settings.epochs)}\n`)
    }

    // Training, with the hooks: progress, log lines, checkpoints, interruption.
    let interrupted = false
    const unsubscribe = deps.signals(() => void (interrupted = true))
    const bars = epochBars(io, settings.epochs)
    const store = checkpointStore(dir, restored === undefined ? { generation: 0 } : restored, deps.checkpointIo)
    let lastSaved: TrainerState | undefined = restored?.state
    let logFailed = false
    const onLog = async (r: LogRecord): Promise<void> => {
      await appendFile(logPath, logLine(r)).catch((err: unknown) => {
        if (!logFailed) io.err(`sbnkit train: cannot append to ${logPath} (${String(err)}); training continues\n`)
        logFailed = true
      })
      if (r.type !== 'epoch') return
      bars.epoch(r)
      if (!o.json) io.out(`${showEpoch(r, settings.epochs)}\n`)
    }
    // Annealing rebuilds each epoch's network from the run's base noise; a checkpoint holds the noise of its epoch.
    const annealBase = settings.anneal === undefined ? undefined : await baseNetwork(settings, loaded.right, net, restored)
    if (annealBase !== undefined && E.isLeft(annealBase)) return bad(annealBase.left)
    const hooks: TrainHooks = {
      onStep: (s) => bars.step(s.epoch, s.step, s.steps, s.loss),
      onLog,
      checkpoint: async (c) => {
        const w = await store.save(c)
        if (E.isRight(w)) lastSaved = c.state
        return w
      },
      shouldStop: () => interrupted,
      onNote: (m) => io.err(`sbnkit train: ${m}\n`),
    }
    const result = await (annealBase === undefined
      ? train(net, loaded.right.data, config, hooks, restored?.state)
      : trainAnnealed(annealBase.right, loaded.right.data, config, { final: settings.anneal! }, hooks, restored?.state)
    ).finally(unsubscribe)
    const pointer = join(dir, POINTER)
    if (E.isLeft(result)) {
      const e = result.left
      const failed = e._tag === 'Diverged' || e._tag === 'CheckpointFailed'
      if (e._tag === 'ThreadFailed') {
        io.err(`sbnkit train: ${drawTrainError(e, drawRunError, drawRoutingError)}\n`)
        if (lastSaved !== undefined) io.err(`sbnkit train: the last good checkpoint is ${pointer} (${where(lastSaved)}); continue with sbnkit train --resume ${pointer} [--threads 1]\n`)
        return exitCode.badInput
      }
      io.err(`sbnkit train: ${drawTrainError(e, drawRunError, drawRoutingError)}\n`)
      // Resuming replays the run's settings, so after a divergence it would diverge again.
      if (e._tag === 'Diverged')
        io.err(`sbnkit train: resuming would replay the same settings; start a new run with a smaller learning rate (say --lr ${smallerLr(settings.lr)})${lastSaved === undefined ? '' : ` (the last good checkpoint is ${pointer}, ${where(lastSaved)})`}\n`)
      else if (failed && lastSaved !== undefined)
        io.err(`sbnkit train: the last good checkpoint is ${pointer} (${where(lastSaved)}); continue with sbnkit train --resume ${pointer}\n`)
      // Every way a run fails is caused by its settings or its machine (a learning rate, a full
      // disk): exit 2, as for any user-caused failure; exit 1 is for sbnkit's own bugs only.
      return exitCode.badInput
    }
    const r = result.right
    if (r.outcome === 'interrupted') {
      io.err(`sbnkit train: interrupted ${where(r.state)}; checkpoint written: resume with sbnkit train --resume ${pointer}\n`)
      return 130
    }
    const cal = recalibrated(r.net, loaded.right.data, settings.recalibrate ?? CALIBRATION_ROWS, config.products?.products ?? referenceProducts)
    if (E.isLeft(cal)) return bad(drawRunError(cal.left))
    const w = await writeModels(dir, r.net, cal.right)
    if (E.isLeft(w)) {
      io.err(`sbnkit train: ${drawModelErrors(w.left)}; the checkpoint ${pointer} is left as it was\n`)
      return exitCode.badInput
    }
    const modelPath = w.right.model
    const which = r.parameters === 'best' ? `best parameters on validation, epoch ${r.state.best?.epoch}` : 'last parameters'
    if (o.json) {
      io.out(jsonText(io, {
        outcome: r.outcome, epochs: r.state.epoch, steps: r.state.globalStep, parameters: r.parameters, bestEpoch: r.state.best?.epoch ?? null,
        history: r.state.history, test: r.test ?? null, model: modelPath, checkpoint: pointer, log: logPath,
        recalibrated: cal.right === undefined ? null : { rows: cal.right.rows, test: cal.right.test ?? null, sampling: w.right.sampling },
      }))
      return exitCode.ok
    }
    if (r.outcome === 'early-stopped') io.out(`early stop: no better validation accuracy for ${settings.patience} epochs\n`)
    if (r.test !== undefined) io.out(`test (${which}): ${showEvaluation(r.test)}${cal.right === undefined ? '' : ', with the statistics of training'}\n`)
    if (cal.right !== undefined) io.out(`${recalibratedLine(cal.right)}\n`)
    const files = w.right.sampling === undefined ? modelPath : `${modelPath} (deployable; for ensembles ${w.right.sampling})`
    io.out(`wrote ${files} (${which}); checkpoint ${pointer}; log ${logPath}\n`)
    return exitCode.ok
  } catch (err) {
    throw err // reported by the CLI's one boundary (boundary.ts): one line, the stack only with --debug
  }
}

/** `sbnkit train` on the real process (signals, file system, cache directory). */
export const trainCommand: Command = trainCommandWith(processDeps)
