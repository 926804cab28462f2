/**
 * The runs of `sbnkit experiments` (docs/experiments.md): which networks, recipes and budgets
 * make up the table, and one run of a row: train (with the noise annealed when the row says so),
 * then evaluate on the official test set the mode network with its training batch-norm statistics,
 * the mode network with them re-estimated under itself (`recalibrateMode`) and the 16-member
 * ensemble; the deployed mode network is whichever of the two scores better on validation. Also the CIFAR-10 projection: one measured training step
 * of the VGG-small preset, scaled to an epoch.
 */
import { loadavg } from 'node:os'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { augmentedDataset } from '../data/augment.js'
import { spread } from '../bench/benchNetwork.js'
import { encodeCifarRecords } from '../data/cifar.js'
import { drawAll } from '../dsl/dslErrors.js'
import { uniform } from '../dsl/noise.js'
import { foldIn, key, siteKey } from '../dsl/random.js'
import type { Checked, Network } from '../dsl/node.js'
import type { RunError } from '../interpreters/runErrors.js'
import { drawRunError } from '../interpreters/runErrors.js'
import type { MatrixProducts } from '../interpreters/reference/ops.js'
import { referenceProducts } from '../interpreters/reference/ops.js'
import { trainAnnealed } from '../train/anneal.js'
import { fanInScales, perParameterLr } from '../train/fanInLr.js'
import { calibrationRows, recalibrateMode } from '../train/calibrate.js'
import type { Dataset, Evaluation } from '../train/evaluate.js'
import { evaluateSet, imageDataset } from '../train/evaluate.js'
import { drawTrainError, train } from '../train/loop.js'
import { parsePreset, presetNetwork, vggPreset } from '../train/presets.js'
import type { RecipeName } from '../train/recipes.js'
import { STANDARD_RECIPE } from '../train/standard.js'
import { drawRoutingError } from '../train/routing.js'
import type { Io } from './io.js'
import { progressBar } from './progress.js'
import type { Settings } from './trainSetup.js'
import { buildConfig, defaults, loadData } from './trainSetup.js'
import { withParams } from '../train/modes.js'
import type { Spent } from './experimentResume.js'
import { checkpointHook, openRunDir, removeRunDir, runDirName } from './experimentResume.js'

// ---------------------------------------------------------------------------------------------
// Model

export interface RowSpec {
  readonly id: string
  readonly label: string
  readonly dataset: 'mnist' | 'fashion-mnist'
  readonly preset: string
  readonly settings: Partial<Settings> & { readonly recipe: RecipeName }
  /** Final noise scale of the annealing (1: none). */
  readonly anneal: number
  /** Epochs of this row, overriding the dataset's (`--epochs-mnist`, `--epochs-fashion`). */
  readonly epochs?: number
  /**
   * Members of the test ensemble (default 16). Conv rows use fewer: sampled conv passes run on
   * generic float64 steps, about 1 ms of CPU per image and member for `vgg-mnist:0.5`.
   */
  readonly testMembers?: number
  /** The real weights' learning rate scaled by 1/√fan-in (src/train/fanInLr.ts). */
  readonly fanInLr?: boolean
}

/** The rows of batch 64 (lr from `--lr`, 0.1 by default): the first benchmarks' budget. */
const mdSt = { recipe: 'md', estimator: 'st', batch: 64 } as const
const bnn = { recipe: 'bnn', estimator: 'det:hardtanh', weightSampling: 'mode', batch: 64 } as const
/** The standard recipe (`npm start`, src/train/standard.ts), with 2-member validation ensembles per epoch as `npm start`. */
const startRecipe = { recipe: STANDARD_RECIPE.recipe, estimator: STANDARD_RECIPE.estimator, batch: STANDARD_RECIPE.batch, lr: STANDARD_RECIPE.lr, ensemble: 2 } as const

/** The BNN recipe at the standard recipe's budget (batch 256, 16 epochs, cosine); Adam lr 0.01 on weights clipped to [−1, 1]. */
const bnnStandard = { ...bnn, batch: STANDARD_RECIPE.batch, lr: 0.01, ensemble: 2 } as const

/** The rows of the table, in order. */
export const rows: readonly RowSpec[] = (['mnist', 'fashion-mnist'] as const).flatMap((dataset) => [
  { id: `${dataset}/mlp/st-md`, label: 'matched ST + mirror descent', dataset, preset: 'mlp:256,256', settings: mdSt, anneal: 1 },
  { id: `${dataset}/mlp/st-md-b256`, label: 'matched ST + mirror descent, batch 256, lr 0.2 (npm start)', dataset, preset: 'mlp:256,256', settings: startRecipe, anneal: 1, epochs: STANDARD_RECIPE.epochs },
  { id: `${dataset}/mlp/st-md-b256-anneal`, label: 'the standard recipe (npm start), noise annealed 1 → 0.25', dataset, preset: 'mlp:256,256', settings: startRecipe, anneal: 0.25, epochs: STANDARD_RECIPE.epochs },
  { id: `${dataset}/mlp1024/st-md-b256`, label: 'the standard recipe (npm start) on wider layers', dataset, preset: 'mlp:1024,1024', settings: startRecipe, anneal: 1, epochs: STANDARD_RECIPE.epochs },
  { id: `${dataset}/mlp1024/st-md-b256-fanin`, label: 'the standard recipe on wider layers, the head\'s learning rate scaled by 1/√fan-in', dataset, preset: 'mlp:1024,1024', settings: startRecipe, anneal: 1, epochs: STANDARD_RECIPE.epochs, fanInLr: true },
  { id: `${dataset}/mlp1024/st-md-b256-fanin-crop2`, label: 'the standard recipe on wider layers, the head\'s rate scaled by 1/√fan-in, training images shifted by up to 2 pixels (crop:2), 24 epochs', dataset, preset: 'mlp:1024,1024', settings: { ...startRecipe, augment: 'crop:2' }, anneal: 1, epochs: 24, fanInLr: true },
  { id: `${dataset}/mlp1024/st-md-b256-fanin-crop1`, label: 'the standard recipe on wider layers, the head\'s rate scaled by 1/√fan-in, training images shifted by up to 1 pixel (crop:1), 32 epochs', dataset, preset: 'mlp:1024,1024', settings: { ...startRecipe, augment: 'crop:1' }, anneal: 1, epochs: 32, fanInLr: true },
  { id: `${dataset}/mlp1024/st-md-b256-fanin-crop1-48`, label: 'the standard recipe on wider layers, the head\'s rate scaled by 1/√fan-in, training images shifted by up to 1 pixel (crop:1), 48 epochs', dataset, preset: 'mlp:1024,1024', settings: { ...startRecipe, augment: 'crop:1' }, anneal: 1, epochs: 48, fanInLr: true },
  { id: `${dataset}/mlp1024/st-md-b256-fanin-crop1-48-anneal`, label: 'the standard recipe on wider layers, the head\'s rate scaled by 1/√fan-in, training images shifted by up to 1 pixel (crop:1), 48 epochs, noise annealed 1 → 0.5', dataset, preset: 'mlp:1024,1024', settings: { ...startRecipe, augment: 'crop:1' }, anneal: 0.5, epochs: 48, fanInLr: true },
  { id: `${dataset}/mlp1024/st-md-b256-fanin-crop1-64`, label: 'the standard recipe on wider layers, the head\'s rate scaled by 1/√fan-in, training images shifted by up to 1 pixel (crop:1), 64 epochs', dataset, preset: 'mlp:1024,1024', settings: { ...startRecipe, augment: 'crop:1' }, anneal: 1, epochs: 64, fanInLr: true },
  ...([5, 10] as const).map((d) => ({ id: `${dataset}/mlp1024/st-md-b256-fanin-crop1-affine${d}-48`, label: `the standard recipe on wider layers, the head's rate scaled by 1/√fan-in, training images shifted by up to 1 pixel, rotated by up to ${d}° and scaled by up to ${d} % (crop:1,rotate:${d},scale:${d}), 48 epochs`, dataset, preset: 'mlp:1024,1024', settings: { ...startRecipe, augment: `crop:1,rotate:${d},scale:${d}` }, anneal: 1, epochs: 48, fanInLr: true })),
  { id: `${dataset}/mlp2048/st-md-b256-fanin`, label: 'the standard recipe on two hidden layers of 2048, the head\'s learning rate scaled by 1/√fan-in', dataset, preset: 'mlp:2048,2048', settings: startRecipe, anneal: 1, epochs: STANDARD_RECIPE.epochs, fanInLr: true },
  { id: `${dataset}/mlp3x1024/st-md-b256-fanin`, label: 'the standard recipe on three hidden layers of 1024, the head\'s learning rate scaled by 1/√fan-in', dataset, preset: 'mlp:1024,1024,1024', settings: startRecipe, anneal: 1, epochs: STANDARD_RECIPE.epochs, fanInLr: true },
  { id: `${dataset}/mlp/st-md-b256-fanin`, label: 'the standard recipe (npm start), the head\'s learning rate scaled by 1/√fan-in', dataset, preset: 'mlp:256,256', settings: startRecipe, anneal: 1, epochs: STANDARD_RECIPE.epochs, fanInLr: true },
  { id: `${dataset}/mlp/bnn-b256`, label: 'BNN (deterministic hardtanh ST + clipping), batch 256, Adam lr 0.01 cosine: the standard budget', dataset, preset: 'mlp:256,256', settings: bnnStandard, anneal: 1, epochs: STANDARD_RECIPE.epochs },
  { id: `${dataset}/mlp/st-md-anneal`, label: 'matched ST + mirror descent, noise annealed 1 → 0.25', dataset, preset: 'mlp:256,256', settings: mdSt, anneal: 0.25 },
  { id: `${dataset}/mlp/bnn`, label: 'BNN: deterministic hardtanh ST + clipping', dataset, preset: 'mlp:256,256', settings: bnn, anneal: 1 },
  ...(dataset === 'fashion-mnist'
    ? [
        { id: `${dataset}/conv/st-md`, label: 'matched ST + mirror descent (batch norm re-estimated)', dataset, preset: 'vgg-mnist:0.5', settings: { ...mdSt, ensemble: 2 }, anneal: 1, testMembers: 4 },
        { id: `${dataset}/conv/st-md-b256-fanin`, label: 'the standard recipe (batch 256, lr 0.2 cosine), the head\'s learning rate scaled by 1/√fan-in, 10 epochs', dataset, preset: 'conv:16,32', settings: startRecipe, anneal: 1, epochs: 10, testMembers: 4, fanInLr: true },
        { id: `${dataset}/vgg/st-md-b256-fanin`, label: 'the standard recipe (batch 256, lr 0.2 cosine), the head\'s learning rate scaled by 1/√fan-in, 10 epochs', dataset, preset: 'vgg-mnist:0.5', settings: startRecipe, anneal: 1, epochs: 10, testMembers: 4, fanInLr: true },
        { id: `${dataset}/vgg1/st-md-b256-fanin-flip`, label: 'the standard recipe (batch 256, lr 0.2 cosine), the head\'s learning rate scaled by 1/√fan-in, twice the width (vgg-mnist:1), images flipped left–right at random, 15 epochs', dataset, preset: 'vgg-mnist:1', settings: { ...startRecipe, augment: 'flip' }, anneal: 1, epochs: 15, testMembers: 4, fanInLr: true },
        { id: `${dataset}/conv/st-md-anneal`, label: 'matched ST + mirror descent, noise annealed 1 → 0.25', dataset, preset: 'vgg-mnist:0.5', settings: mdSt, anneal: 0.25 },
        { id: `${dataset}/conv/bnn`, label: 'BNN: deterministic hardtanh ST + clipping', dataset, preset: 'vgg-mnist:0.5', settings: bnn, anneal: 1 },
      ]
    : []),
])

export interface RunResult {
  readonly row: string
  readonly seed: number
  readonly epochs: number
  readonly steps: number
  readonly trainExamples: number
  readonly testExamples: number
  /** The mode network with the batch-norm statistics of training. */
  readonly testMode: number
  /** The mode network with batch-norm statistics re-estimated under itself (2000 training images). */
  readonly testModeRecalibrated: number
  readonly testEnsemble: number
  /**
   * Validation accuracy of the final mode network with the statistics of training and with them
   * re-estimated (absent in older results): which of the two deploys is chosen on these, never
   * on test (`deployedMode`).
   */
  readonly validationMode?: { readonly trained: number; readonly recalibrated: number }
  /** Members of the test ensemble (absent: 16, the results made before rows could choose). */
  readonly members?: number
  /** Wall seconds of training (validation passes included; on a shared machine, waiting too). */
  readonly seconds: number
  /** CPU seconds of training, every thread of the process (absent in older results). */
  readonly cpuSeconds?: number
  /** The 1-minute load average of the machine during training, lowest and highest of samples at the start and every 50 steps (absent in older results). */
  readonly loadAverage?: { readonly min: number; readonly max: number }
  readonly curve: readonly { readonly epoch: number; readonly trainLoss: number; readonly valMode: number; readonly valEnsemble: number }[]
}

export interface CifarProjection {
  readonly preset: string
  readonly batch: number
  /** Wall time of a step (the median after the first); on a shared machine this includes waiting for a core. */
  readonly stepSeconds: number
  /** CPU time of a step (user + system of this process; the median after the first): what it costs on one free core. */
  readonly stepCpuSeconds: number
  /** Steps measured, the first included (absent: 1, the projections made before). */
  readonly steps?: number
  /** CPU time of the first step: kernel compilation and first allocations included (absent with 1 step). */
  readonly firstStepCpuSeconds?: number
  readonly trainImages: number
  readonly epochSeconds: number
  readonly data: string
}

// ---------------------------------------------------------------------------------------------
// Rules

/**
 * Trains and evaluates one row with one seed: Adam at the row's lr (else `lr`) on a cosine schedule, the row's batch, a 16-member test ensemble unless the row says otherwise.
 * @example await runRow(rows[0]!, 0, 3, 0.1, io, '.cache/sbnkit') // right({ testModeRecalibrated: 0.95…, … })
 */
export const runRow = async (
  spec: RowSpec, seed: number, planEpochs: number, lr: number, io: Io, cacheDir: string | false, threads?: number, workDir?: string,
): Promise<E.Either<string, RunResult>> => {
  const epochs = spec.epochs ?? planEpochs
  const s: Settings = {
    ...defaults(spec.settings.recipe), dataset: spec.dataset, preset: spec.preset, batchNorm: true, lr, schedule: 'cosine',
    epochs, seed, logEvery: 0, ensemble: 16, ...spec.settings,
  }
  const p = parsePreset(spec.preset)
  if (E.isLeft(p)) return p
  const loaded = await loadData(s, p.right.kind === 'mlp' ? 'flat' : 'nchw', cacheDir)
  if (E.isLeft(loaded)) return loaded
  const cfg = buildConfig(s)
  if (E.isLeft(cfg)) return cfg
  const isBnn = spec.settings.recipe === 'bnn'
  // The BNN recipe's uniform noises are not annealed (its rows do not ask for it).
  const net = presetNetwork(p.right, {
    inputShape: loaded.right.inputShape, classes: loaded.right.classes, batchNorm: true, key: siteKey(key(seed), 'train:init'),
    ...(isBnn ? { activation: uniform(1), weightNoise: uniform(1) } : {}),
  })
  if (E.isLeft(net)) return E.left(drawAll([net.left]))
  // With a work directory: a checkpoint after every epoch, and a stopped run continues from it.
  const runDir = workDir === undefined ? undefined : await openRunDir(join(workDir, runDirName(spec.id, seed)))
  if (runDir !== undefined && E.isLeft(runDir)) return runDir
  const restored = runDir?.right.restored
  const steps = Math.ceil(loaded.right.data.train.size / s.batch)
  const bar = progressBar(io, `${spec.id} seed ${seed}`, epochs * steps)
  const t0 = performance.now()
  const cpu0 = process.cpuUsage()
  const load: number[] = [loadavg()[0] ?? Number.NaN]
  const now = (): Spent => {
    const c = process.cpuUsage(cpu0)
    return { seconds: (performance.now() - t0) / 1000, cpuSeconds: (c.user + c.system) / 1e6 }
  }
  const config = {
    ...cfg.right.config, ...(threads === undefined ? {} : { threads }),
    ...(spec.fanInLr === true ? { optimizer: perParameterLr(cfg.right.config.optimizer, fanInScales(net.right)) } : {}),
  }
  // A resumed run rebuilds the network of epoch 1 with the checkpoint's parameters (as `sbnkit train --anneal` does).
  const start = restored === undefined ? net.right : withParams(net.right, restored.net.params)
  const r = await trainAnnealed(start, loaded.right.data, config, { final: spec.anneal }, {
    onStep: (st) => {
      if (st.globalStep % 50 === 0) load.push(loadavg()[0] ?? Number.NaN)
      bar.tick(st.globalStep, `loss ${st.loss.toFixed(3)}`)
    },
    ...(runDir === undefined ? {} : { checkpoint: checkpointHook(runDir.right, now) }),
  }, restored?.state)
  if (E.isLeft(r)) return E.left(drawTrainError(r.left, drawRunError, drawRoutingError))
  bar.done()
  const before = runDir?.right.spent ?? { seconds: 0, cpuSeconds: 0 }
  const seconds = before.seconds + now().seconds
  const cpuSeconds = before.cpuSeconds + now().cpuSeconds
  const test = loaded.right.data.test
  if (test === undefined) return E.left('the dataset has no test split')
  const kernels = cfg.right.config.products?.products ?? referenceProducts
  // A cosine schedule ends at rate 0, so the last parameters are the trained model.
  const evalKey = foldIn(key(seed), 0x7e57)
  const members = spec.testMembers ?? 16
  const plain = evaluateSet(r.right.last, test, { members, key: evalKey, products: kernels })
  if (E.isLeft(plain)) return E.left(drawRunError(plain.left))
  const cal = recalibrateMode(r.right.last, calibrationRows(loaded.right.data.train), { products: kernels })
  if (E.isLeft(cal)) return E.left(drawRunError(cal.left))
  const calTest = evaluateSet(cal.right, test, { members: 1, key: evalKey, products: kernels })
  if (E.isLeft(calTest)) return E.left(drawRunError(calTest.left))
  const validation = loaded.right.data.validation
  const val = validation === undefined ? undefined : validationModes(r.right.last, cal.right, validation, kernels)
  if (val !== undefined && E.isLeft(val)) return E.left(drawRunError(val.left))
  if (runDir !== undefined) await removeRunDir(runDir.right.dir)
  return E.right({
    row: spec.id, seed, epochs, steps, trainExamples: loaded.right.data.train.size, testExamples: plain.right.examples,
    testMode: plain.right.mode.accuracy, testModeRecalibrated: calTest.right.mode.accuracy, testEnsemble: plain.right.ensemble.accuracy, members, seconds, cpuSeconds,
    ...(val === undefined ? {} : { validationMode: val.right }),
    loadAverage: { min: Math.min(...load), max: Math.max(...load) },
    curve: r.right.state.history.map((h) => ({
      epoch: h.epoch, trainLoss: h.trainLoss, valMode: h.validation?.mode.accuracy ?? Number.NaN, valEnsemble: h.validation?.ensemble.accuracy ?? Number.NaN,
    })),
  })
}

/** The validation accuracy of the mode networks of `trained` and of `calibrated` (one member each: only the mode is scored). */
const validationModes = (
  trained: Checked<Network>, calibrated: Checked<Network>, validation: Dataset, products: MatrixProducts,
): E.Either<RunError, { readonly trained: number; readonly recalibrated: number }> => {
  const score = (net: Checked<Network>) => E.map((e: Evaluation) => e.mode.accuracy)(evaluateSet(net, validation, { members: 1, key: key(0), products }))
  const t = score(trained)
  if (E.isLeft(t)) return t
  return E.map((c: number) => ({ trained: t.right, recalibrated: c }))(score(calibrated))
}

/**
 * The deployed mode network's test accuracy: with the batch-norm statistics (of training, or
 * re-estimated) that score better on validation; the re-estimated ones on a tie, and for older
 * results without validation scores.
 * @example deployedMode({ testMode: 0.97, testModeRecalibrated: 0.98, validationMode: { trained: 0.99, recalibrated: 0.98 } }) // 0.97
 */
export const deployedMode = (r: Pick<RunResult, 'testMode' | 'testModeRecalibrated' | 'validationMode'>): number =>
  r.validationMode !== undefined && r.validationMode.trained > r.validationMode.recalibrated ? r.testMode : r.testModeRecalibrated

/**
 * Measures `steps` training steps of `vgg-small:width` at `batch` (crop + flip augmentation,
 * matched ST + mirror descent) on CIFAR-10 from `dataDir`, or on random images in its exact format
 * when no directory is given, then evaluates test images; projects an epoch of 45 000 images from
 * the median CPU time of the steps after the first (the first compiles the kernels and touches
 * every buffer for the first time; its wall time on a shared machine includes waiting for a core).
 * One thread unless `threads` says otherwise, so the CPU time is what one core spends.
 */
export const cifarProjection = async (width: number, batch: number, dataDir: string | undefined, io: Io, steps = 3, threads = 1): Promise<E.Either<string, CifarProjection>> => {
  const preset = vggPreset('vgg-small', width)
  const opts = { scale: 'pm1', layout: 'nchw' } as const
  let trainSet
  let testSet
  let data: string
  if (dataDir !== undefined) {
    const loaded = await loadData({ ...defaults('md'), dataset: 'cifar10', dataDir, augment: 'crop:4,flip' }, 'nchw', false)
    if (E.isLeft(loaded)) return loaded
    trainSet = loaded.right.data.train
    testSet = loaded.right.data.test!
    data = loaded.right.description
  } else {
    // Random bytes in the binary format, through the same reader path as real files.
    const n = batch * Math.max(2, steps)
    const labels = Array.from({ length: n }, (_, i) => i % 10)
    const bytes = encodeCifarRecords(labels, Uint8Array.from({ length: n * 3072 }, (_, i) => (i * 2654435761) >>> 24))
    const images = { name: 'cifar10-synthetic', count: n, channels: 3, rows: 32, cols: 32, classes: 10, pixels: new Uint8Array(n * 3072), labels: Uint8Array.from(labels) }
    for (let r = 0; r < n; r++) images.pixels.set(bytes.subarray(r * 3073 + 1, (r + 1) * 3073), r * 3072)
    trainSet = augmentedDataset(images, opts, { pad: 4, flip: true })
    testSet = imageDataset(images, opts)
    data = `${n} random images in the CIFAR-10 binary format (no data directory given)`
  }
  const net = presetNetwork(preset, { inputShape: [3, 32, 32], classes: 10, batchNorm: true, key: key(0) })
  if (E.isLeft(net)) return E.left(drawAll([net.left]))
  const cfg = buildConfig({ ...defaults('md'), dataset: 'cifar10', lr: 0.01, epochs: 1, batch, ensemble: 2, logEvery: 0 })
  if (E.isLeft(cfg)) return cfg
  // `steps` steps: one epoch of a training set of exactly `steps` batches, timed at each step's end.
  const n = Math.min(trainSet.size, batch * steps)
  const some = { size: n, rows: trainSet.rows, slice: trainSet.slice }
  io.err(`cifar10: ${Math.ceil(n / batch)} training steps of ${preset.name} at batch ${batch}…\n`)
  const cpuNow = (): number => { const c = process.cpuUsage(); return (c.user + c.system) / 1e6 }
  const marks = [{ wall: performance.now() / 1000, cpu: cpuNow() }]
  const r = await train(net.right, { train: some }, { ...cfg.right.config, threads }, {
    onStep: (st) => {
      marks.push({ wall: performance.now() / 1000, cpu: cpuNow() })
      io.err(`cifar10: step ${st.step}/${st.steps}: ${(marks.at(-1)!.cpu - marks.at(-2)!.cpu).toFixed(1)} s of CPU\n`)
    },
  })
  if (E.isLeft(r)) return E.left(drawTrainError(r.left, drawRunError, drawRoutingError))
  const per = marks.slice(1).map((m, i) => ({ wall: m.wall - marks[i]!.wall, cpu: m.cpu - marks[i]!.cpu }))
  const steady = per.length > 1 ? per.slice(1) : per
  const stepSeconds = spread(steady.map((x) => x.wall)).median
  const stepCpuSeconds = spread(steady.map((x) => x.cpu)).median
  const ev = evaluateSet(r.right.last, { ...testSet, size: Math.min(testSet.size, batch) }, { members: 2, key: key(1), products: cfg.right.config.products?.products ?? referenceProducts })
  if (E.isLeft(ev)) return E.left(drawRunError(ev.left))
  return E.right({
    preset: preset.name, batch, stepSeconds, stepCpuSeconds, steps: per.length, ...(per.length > 1 ? { firstStepCpuSeconds: per[0]!.cpu } : {}),
    trainImages: 45000, epochSeconds: (stepCpuSeconds * 45000) / batch, data,
  })
}
