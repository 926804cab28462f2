/**
 * The settings of `sbnkit train` and what they build: the data, the network and the training
 * configuration. Settings are plain JSON (stored as `DIR/run.json`, so `--resume` needs no
 * flags); every value a user can get wrong is checked here and reported as one line.
 */
import { stat } from 'node:fs/promises'
import { relative, resolve } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { drawDataError, drawDataErrors } from '../data/dataErrors.js'
import { readDataFile } from '../data/file.js'
import type { DatasetName, LoadedSplits } from '../data/loaders.js'
import { datasetNames, loadSplits } from '../data/loaders.js'
import { augmentedDataset, noAugmentation, parseAugmentation, showAugmentation } from '../data/augment.js'
import { permutation } from '../data/prng.js'
import { drawAll } from '../dsl/dslErrors.js'
import type { Checked, Input, Network } from '../dsl/node.js'
import { uniform } from '../dsl/noise.js'
import { key, siteKey } from '../dsl/random.js'
import type { Estimator } from '../estimators/estimator.js'
import { estimatorNames, parseEstimator } from '../estimators/estimator.js'
import { topoOrder } from '../dsl/fold.js'
import type { Feed } from '../interpreters/ndarray.js'
import { referenceProducts } from '../interpreters/reference/ops.js'
import type { ProductChoice, TrainConfig } from '../train/config.js'
import { fastKernelChoice } from '../train/config.js'
import type { Dataset } from '../train/evaluate.js'
import { feedDataset, imageDataset } from '../train/evaluate.js'
import type { TrainData } from '../train/loop.js'
import { describePreset, parsePreset, presetLayout, presetNetwork, presetOutputs } from '../train/presets.js'
import type { Budget } from '../interpreters/budget.js'
import { defaultBudget, fits, parameterBytes, trainingBytes } from '../interpreters/budget.js'
import type { BaseName, RecipeName } from '../train/recipes.js'
import { baseOptimizer, recipe } from '../train/recipes.js'
import { parseSchedule } from '../train/schedules.js'
import { STANDARD_RECIPE } from '../train/standard.js'
import { fanInScales, perParameterLr } from '../train/fanInLr.js'
import { didYouMean } from './suggest.js'

// ---------------------------------------------------------------------------------------------
// Model

export const RUN_FORMAT = 'sbnkit-train-run/1'

/** Everything a run is made of, as JSON; paths are absolute. */
export interface Settings {
  readonly model?: string
  readonly preset?: string
  readonly dataset: string
  /** The directory of a dataset read from files the user downloaded (`cifar10`). */
  readonly dataDir?: string
  /** Augmentation of training images (`crop:4,flip`; see src/data/augment.ts). */
  readonly augment?: string
  readonly validation?: string
  readonly test?: string
  readonly limit?: number
  readonly batchNorm: boolean
  readonly estimator: string
  readonly weightEstimator: string
  /** `site=estimator` overrides. */
  readonly sites: readonly string[]
  readonly recipe: RecipeName
  readonly optimizer: BaseName
  readonly momentum?: number
  readonly lr: number
  readonly schedule: string
  readonly epochs: number
  readonly batch: number
  readonly seed: number
  readonly ensemble: number
  readonly patience?: number
  readonly select?: 'mode' | 'ensemble'
  readonly logEvery: number
  readonly products: 'fast' | 'reference'
  readonly weightSampling?: 'per-pass' | 'mode'
  readonly decay?: number
  readonly bopThreshold?: number
  readonly bopGamma?: number
  /** Final noise scale of per-epoch annealing, in (0, 1) (src/train/anneal.ts); absent: none. */
  readonly anneal?: number
  /**
   * Training rows the mode network's batch norm is re-estimated on after training (0: not
   * re-estimated; src/cli/trainDeploy.ts). Absent (runs from before it existed): `CALIBRATION_ROWS`.
   */
  readonly recalibrate?: number
  /**
   * Fixed parts of each minibatch for data parallelism (`TrainConfig.parts`; the bits depend on
   * it, not on the threads). Absent: 1.
   */
  readonly parts?: number
  /**
   * The real weights' learning rate scaled by 1/√fan-in (`perParameterLr` with `fanInScales`,
   * src/train/fanInLr.ts; docs/training.md, "The head's learning rate"). Absent: off.
   */
  readonly fanInLr?: boolean
}

/**
 * The defaults of every optional setting: the standard recipe (`STANDARD_RECIPE`, what `npm start`
 * trains with: batch norm, batch 256, Adam lr 0.2 cosine, 16 epochs). The BNN recipe trains with
 * deterministic hardtanh ST; Bop (which has no Adam form) with SGD at lr 0.01, constant.
 */
export const defaults = (recipeName: RecipeName): Omit<Settings, 'dataset'> => {
  const S = STANDARD_RECIPE
  const isBop = recipeName === 'bop'
  return {
    batchNorm: S.batchNorm, estimator: recipeName === 'bnn' ? 'det:hardtanh' : S.estimator, weightEstimator: S.estimator, sites: [],
    recipe: recipeName, optimizer: isBop ? 'sgd' : S.optimizer, lr: isBop ? 0.01 : S.lr, schedule: isBop ? 'constant' : S.schedule,
    epochs: S.epochs, batch: S.batch, seed: 0, ensemble: S.ensemble, logEvery: 100, products: 'fast',
    // Measured for the standard (md) recipe only (docs/experiments.md, the -fanin rows).
    ...(recipeName === 'md' && S.fanInLr ? { fanInLr: true } : {}),
  }
}

// ---------------------------------------------------------------------------------------------
// Rules: data

type Layout = 'flat' | 'nchw'

/** Whether `--dataset` names a known dataset (`mnist`, `cifar10`, …) rather than a file. */
export const isNamedDataset = (d: string): d is DatasetName => (datasetNames as readonly string[]).includes(d)

/** The training rows used under `--limit N`: the first N of a fixed permutation, sorted. */
export const limitRows = (size: number, limit: number): Uint32Array =>
  Uint32Array.from(permutation(size, siteKey(key(0), 'train:limit')).subarray(0, Math.min(size, limit))).sort()

const subsetOf = (d: Dataset, rows: Uint32Array): Dataset => ({
  size: rows.length,
  rows: (indices, k) => d.rows(Array.from(indices, (i) => rows[i]!), k),
  slice: (start, end) => d.rows(rows.subarray(start, end)),
})

const readFeed = async (path: string): Promise<E.Either<string, Feed>> =>
  E.mapLeft(drawDataErrors)(await readDataFile(path))

interface LoadedData {
  readonly data: TrainData
  /** Per-example shape of `x` and the number of classes of `y`. */
  readonly inputShape: readonly number[]
  readonly classes: number
  readonly description: string
}

/** Loads the dataset named by the settings, with images as `layout` asks. */
export const loadData = async (s: Settings, layout: Layout, cacheDir: string | false): Promise<E.Either<string, LoadedData>> => {
  const limited = (d: Dataset): Dataset => (s.limit === undefined || s.limit >= d.size ? d : subsetOf(d, limitRows(d.size, s.limit)))
  if (isNamedDataset(s.dataset)) {
    const r = await loadSplits(s.dataset, { cacheDir, ...(s.dataDir === undefined ? {} : { dataDir: s.dataDir }) })
    if (E.isLeft(r)) return E.left(drawDataError(r.left))
    const sp: LoadedSplits = r.right
    const opts = { scale: 'pm1', layout } as const
    const aug = parseAugmentation(s.augment ?? 'none')
    if (E.isLeft(aug)) return E.left(`--augment: ${aug.left}`)
    const train = aug.right === noAugmentation ? imageDataset(sp.train, opts) : augmentedDataset(sp.train, opts, aug.right)
    const data = { train: limited(train), validation: imageDataset(sp.validation, opts), test: imageDataset(sp.test, opts) }
    const channels = sp.train.channels ?? 1
    const inputShape = layout === 'flat' ? [channels * sp.train.rows * sp.train.cols] : [channels, sp.train.rows, sp.train.cols]
    const augmented = aug.right === noAugmentation ? '' : `, augmented ${showAugmentation(aug.right)}`
    return E.right({ data, inputShape, classes: sp.train.classes, description: `${sp.source}: ${data.train.size} training images${augmented} (${sp.rule})` })
  }
  // A bare word that is neither a dataset nor a file is a misspelt dataset name (`mnst`); a path
  // that does not exist keeps the file error below. The settings hold absolute paths.
  const shown = relative(process.cwd(), s.dataset)
  if (/^[\w-]+$/.test(shown) && !(await stat(s.dataset).then(() => true, () => false))) {
    return E.left(`--dataset expects ${datasetNames.join(', ')} or a dataset file, found "${shown}" (no such file)${didYouMean(shown, datasetNames)}`)
  }
  const feeds: Array<[keyof TrainData, string | undefined]> = [['train', s.dataset], ['validation', s.validation], ['test', s.test]]
  const data: Partial<Record<keyof TrainData, Dataset>> = {}
  let classes = 2
  let inputShape: readonly number[] = []
  for (const [part, path] of feeds) {
    if (path === undefined) continue
    const f = await readFeed(path)
    if (E.isLeft(f)) return f
    data[part] = part === 'train' ? limited(feedDataset(f.right)) : feedDataset(f.right)
    const y = f.right['y']
    if (y !== undefined) for (const v of y.data) if (Number.isInteger(v) && v + 1 > classes) classes = v + 1
    if (part === 'train') inputShape = f.right['x']?.shape.slice(1) ?? []
  }
  return E.right({
    data: { train: data.train!, ...(data.validation ? { validation: data.validation } : {}), ...(data.test ? { test: data.test } : {}) },
    inputShape, classes, description: `${s.dataset}: ${data.train!.size} training examples`,
  })
}

/** flat for a model whose input `x` is [batch, d], nchw for [batch, c, h, w]. */
export const modelLayout = (net: Network): E.Either<string, Layout> => {
  const x = topoOrder(Object.values(net.outputs)).find((n): n is Input => n._tag === 'Input' && n.name === 'x')
  if (x === undefined) return E.left('the model has no input named "x"; sbnkit train feeds images as x and labels as y')
  const rank = x.type.shape.length
  return rank === 2 ? E.right('flat') : rank === 4 ? E.right('nchw') : E.left(`the model's input x has shape [${x.type.shape.join(', ')}]; images need [batch, pixels] or [batch, 1, rows, cols]`)
}

// ---------------------------------------------------------------------------------------------
// Rules: network and configuration

const estimatorOf = (name: string, flag: string): E.Either<string, Estimator> => {
  const e = parseEstimator(name)
  return e === undefined ? E.left(`${flag}: unknown estimator "${name}"; expected one of ${estimatorNames}`) : E.right(e)
}

/** A preset network for the loaded data (recipe weight noise; uniform activations under bnn). */
export const buildPreset = (
  s: Settings, d: Pick<LoadedData, 'inputShape' | 'classes'>, budget: Budget = defaultBudget,
): E.Either<string, { net: Checked<Network>; description: string }> => {
  const p = parsePreset(s.preset ?? '')
  if (E.isLeft(p)) return E.left(`--preset: ${p.left}`)
  if (p.right.kind !== 'mlp' && d.inputShape.length !== 3)
    return E.left(`--preset ${s.preset ?? ''} needs images x of shape [N, channels, rows, cols], found per-example shape [${d.inputShape.join(', ')}]`)
  const r = recipe(s.recipe, s.optimizer)
  const weightNoise = E.isRight(r) ? r.right.weightNoise : undefined
  const options = {
    inputShape: d.inputShape, classes: d.classes, batchNorm: s.batchNorm, key: siteKey(key(s.seed), 'train:init'),
    ...(weightNoise === undefined ? {} : { weightNoise }), ...(s.recipe === 'bnn' ? { activation: uniform(1) } : {}),
  }
  // The parameters are drawn only once their size (and a minibatch's) fits the memory budget.
  const outputs = presetOutputs(p.right, options)
  const room = fits(budget, trainingBytes({ outputs }, s.batch), `--preset ${s.preset ?? ''} (${(parameterBytes({ outputs }) / 8).toLocaleString('en-US')} parameters) with --batch ${s.batch}`)
  if (E.isLeft(room)) return room
  const net = presetNetwork(p.right, options)
  return E.bimap((e: Parameters<typeof drawAll>[0][number]) => `--preset: ${drawAll([e])}`, (n: Checked<Network>) => ({ net: n, description: describePreset(p.right, d) }))(net)
}

/** The preset's input layout, or undefined for a model file. */
export const presetLayoutOf = (s: Settings): Layout | undefined => {
  const p = parsePreset(s.preset ?? '')
  return E.isRight(p) ? presetLayout(p.right) : undefined
}

/** The training configuration of the settings, with a note when fast kernels are unavailable. */
export const buildConfig = (s: Settings): E.Either<string, { config: TrainConfig; notes: string[] }> => {
  const notes: string[] = []
  const est = estimatorOf(s.estimator, '--estimator')
  if (E.isLeft(est)) return est
  const west = estimatorOf(s.weightEstimator, '--weight-estimator')
  if (E.isLeft(west)) return west
  const sites: Record<string, Estimator> = {}
  for (const entry of s.sites) {
    const m = /^([^=]+)=(.+)$/.exec(entry)
    if (m === null) return E.left(`--site: expected SITE=ESTIMATOR (e.g. layer2.act=reinforce), found "${entry}"`)
    const e = estimatorOf(m[2]!, `--site ${m[1]}`)
    if (E.isLeft(e)) return e
    sites[m[1]!] = e.right
  }
  const r = recipe(s.recipe, s.optimizer, {
    ...(s.momentum === undefined ? {} : { momentum: s.momentum }), ...(s.decay === undefined ? {} : { decay: s.decay }),
    ...(s.bopThreshold === undefined ? {} : { bopThreshold: s.bopThreshold }), ...(s.bopGamma === undefined ? {} : { bopGamma: s.bopGamma }),
    ...(s.weightSampling === undefined ? {} : { weightSampling: s.weightSampling }),
  })
  if (E.isLeft(r)) return E.left(`--recipe: ${r.left}`)
  const real = baseOptimizer(s.optimizer, s.momentum === undefined ? {} : { momentum: s.momentum })
  if (E.isLeft(real)) return E.left(`--optimizer: ${real.left}`)
  const schedule = parseSchedule(s.schedule)
  if (E.isLeft(schedule)) return E.left(`--schedule: ${schedule.left}`)
  let kernels: ProductChoice = { name: 'reference', products: referenceProducts }
  if (s.products === 'fast') {
    const fast = fastKernelChoice()
    if (E.isRight(fast)) kernels = fast.right
    else notes.push('note: fast kernels are unavailable on this host (WebAssembly SIMD); using the reference kernels')
  }
  return E.right({
    notes,
    config: {
      estimator: est.right, weightEstimator: west.right, sites, recipe: r.right, optimizer: real.right, lr: s.lr,
      schedule: schedule.right, epochs: s.epochs, batchSize: s.batch, seed: s.seed, ensemble: s.ensemble,
      ...(s.patience === undefined ? {} : { patience: s.patience }), ...(s.select === undefined ? {} : { select: s.select }),
      logEvery: s.logEvery, products: kernels, ...(s.parts === undefined || s.parts === 1 ? {} : { parts: s.parts }),
    },
  })
}

/** Absolute paths for the file settings (a resumed run may start in another directory). */
export const absolutePaths = (s: Settings): Settings => {
  const abs = (p: string | undefined): string | undefined => (p === undefined ? undefined : resolve(p))
  const isFile = !isNamedDataset(s.dataset)
  return {
    ...s,
    ...(s.dataDir === undefined ? {} : { dataDir: resolve(s.dataDir) }),
    ...(isFile ? { dataset: resolve(s.dataset) } : {}),
    ...(s.model === undefined ? {} : { model: abs(s.model)! }),
    ...(s.validation === undefined ? {} : { validation: abs(s.validation)! }),
    ...(s.test === undefined ? {} : { test: abs(s.test)! }),
  }
}

/**
 * `config` for `net` under the settings that need the network: with `fanInLr`, the real
 * optimizer's rate of each weight matrix scaled by 1/√fan-in.
 * @example withNetworkSettings(config, net, { fanInLr: true }).optimizer.name // 'perParameterLr(adam(0.9,0.999))'
 */
export const withNetworkSettings = (config: TrainConfig, net: Checked<Network>, s: Pick<Settings, 'fanInLr'>): TrainConfig =>
  s.fanInLr === true ? { ...config, optimizer: perParameterLr(config.optimizer, fanInScales(net)) } : config
