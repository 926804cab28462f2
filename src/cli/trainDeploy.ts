/**
 * The end of `sbnkit train`: the deployable mode network and the model files. Training keeps
 * batch-norm running statistics averaged over *sampled* passes; the mode network (what the
 * compiled interpreter deploys) wants statistics of its own, so after training the statistics are
 * re-estimated under the mode network (`recalibrateMode`) on a fixed slice of training rows
 * (`calibrationRows`: the first N of a fixed permutation, the same for every run on a training
 * set, so a resumed run writes the same bytes as an uninterrupted one).
 *
 * Files: `model.json` is the deployable network (statistics re-estimated); `model-sampling.json`
 * is the trained network with the statistics of training, for sampled passes and ensembles. A run
 * with `--no-recalibrate`, or a network without batch norm, writes `model.json` only, as trained.
 */
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import type { ModelError } from '../dsl/codec.js'
import type { Checked, Network } from '../dsl/node.js'
import type { RunError } from '../interpreters/runErrors.js'
import type { MatrixProducts } from '../interpreters/reference/ops.js'
import { writeModelFile } from '../io/files.js'
import { calibrationRows, recalibrateMode } from '../train/calibrate.js'
import type { Dataset, Evaluation } from '../train/evaluate.js'
import { evaluateSet } from '../train/evaluate.js'
import { batchNorms } from '../train/modes.js'
import { key } from '../dsl/random.js'

// ---------------------------------------------------------------------------------------------
// Model

/** The mode network with re-estimated batch norm, and how it scores on test. */
export interface Recalibrated {
  readonly net: Checked<Network>
  /** Training rows the statistics were estimated on. */
  readonly rows: number
  /** The test evaluation of its mode network (absent without a test split). */
  readonly test?: Evaluation['mode']
}

/** Where the model files of a finished run went. */
export interface ModelPaths {
  /** The deployable network. */
  readonly model: string
  /** The trained network with training statistics, when it differs from `model`. */
  readonly sampling?: string
}

// ---------------------------------------------------------------------------------------------
// Rules

/**
 * The deployable mode network of `trained`: batch norm re-estimated on `rows` training rows
 * (0: not re-estimated). `undefined` when there is nothing to re-estimate (no batch norm, or
 * `rows` is 0); with a test split, the mode network's test score.
 * @example recalibrated(r.net, data, 2000, products) // right({ net, rows: 2000, test: { accuracy: 0.97, … } })
 */
export const recalibrated = (
  trained: Checked<Network>, data: { readonly train: Dataset; readonly test?: Dataset }, rows: number, products: MatrixProducts,
): E.Either<RunError, Recalibrated | undefined> => {
  if (rows === 0 || batchNorms(trained).length === 0) return E.right(undefined)
  const feed = calibrationRows(data.train, rows)
  const cal = recalibrateMode(trained, feed, { products })
  if (E.isLeft(cal)) return cal
  const n = Math.min(rows, data.train.size)
  if (data.test === undefined) return E.right({ net: cal.right, rows: n })
  // One member: only the mode network is scored (its sampled passes are not calibrated).
  const ev = evaluateSet(cal.right, data.test, { members: 1, key: key(0), products })
  return E.map((e: Evaluation): Recalibrated => ({ net: cal.right, rows: n, test: e.mode }))(ev)
}

/**
 * Writes the run's model files into `dir`: `model.json` (the deployable network: `cal`'s when
 * given, else `trained`) and, with `cal`, `model-sampling.json` (`trained`, for sampling).
 */
export const writeModels = async (
  dir: string, trained: Checked<Network>, cal: Recalibrated | undefined,
): Promise<E.Either<ModelError[], ModelPaths>> => {
  const model = join(dir, 'model.json')
  if (cal === undefined) return E.map((): ModelPaths => ({ model }))(await writeModelFile(model, trained, { sideFile: 'model.bin' }))
  const sampling = join(dir, 'model-sampling.json')
  const s = await writeModelFile(sampling, trained, { sideFile: 'model-sampling.bin' })
  if (E.isLeft(s)) return s
  return E.map((): ModelPaths => ({ model, sampling }))(await writeModelFile(model, cal.net, { sideFile: 'model.bin' }))
}

/** The report line of the re-estimation: `mode network, batch norm re-estimated on 2000 training rows: test 97.21%`. */
export const recalibratedLine = (c: Recalibrated): string =>
  `mode network, batch norm re-estimated on ${c.rows} training rows${c.test === undefined ? '' : `: test ${(100 * c.test.accuracy).toFixed(2)}% (loss ${c.test.loss.toFixed(4)})`}`
