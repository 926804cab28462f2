/** A tiny classification task, network and configuration for the training-loop tests (ms per epoch). */
import * as E from 'fp-ts/lib/Either.js'
import type { Checked, Network } from '../../src/dsl/node.js'
import { key } from '../../src/dsl/random.js'
import { st } from '../../src/estimators/estimator.js'
import type { Feed } from '../../src/interpreters/ndarray.js'
import type { TrainConfig } from '../../src/train/config.js'
import { feedDataset } from '../../src/train/evaluate.js'
import type { TrainData } from '../../src/train/loop.js'
import type { Preset } from '../../src/train/presets.js'
import { presetNetwork } from '../../src/train/presets.js'
import { adam } from '../../src/train/optimizers.js'
import type { RecipeName } from '../../src/train/recipes.js'
import { recipe } from '../../src/train/recipes.js'

export const right = <A>(e: E.Either<unknown, A>): A => {
  if (E.isLeft(e)) throw new Error(`expected right, found ${JSON.stringify(e.left)}`)
  return e.right
}

/** n examples of 6 features with 3 classes: y = argmax of a fixed linear map of x (plus a bias). */
export const task = (n: number, offset = 0): Feed => {
  const x = new Float64Array(n * 6)
  const y = new Float64Array(n)
  for (let e = 0; e < n; e++) {
    const scores = [0, 0, 0]
    for (let j = 0; j < 6; j++) {
      const v = Math.sin(1.7 * (e + offset) + 2.3 * j + 0.1 * (e + offset) * j)
      x[e * 6 + j] = v
      scores[j % 3]! += (j < 3 ? 1 : -0.5) * v
    }
    y[e] = scores.indexOf(Math.max(...scores))
  }
  return { x: { shape: [n, 6], data: x }, y: { shape: [n], data: y } }
}

export const tinyData = (): TrainData => ({
  train: feedDataset(task(48)),
  validation: feedDataset(task(24, 1000)),
  test: feedDataset(task(24, 2000)),
})

export const tinyNet = (preset: Preset = { kind: 'mlp', hidden: [5] }, batchNorm = false): Checked<Network> =>
  right(presetNetwork(preset, { inputShape: [6], classes: 3, key: key(3), batchNorm }))

export const tinyConfig = (over: Partial<TrainConfig> = {}, name: RecipeName = 'md'): TrainConfig => ({
  estimator: st(), weightEstimator: st(), recipe: right(recipe(name, name === 'bop' ? 'sgd' : 'adam')),
  optimizer: adam(), lr: 0.05, schedule: { kind: 'constant' }, epochs: 2, batchSize: 8, seed: 11, ensemble: 4,
  logEvery: 2,
  ...over,
})

/** Every value of every parameter, compared bit for bit (Object.is tells −0 from 0). */
export const sameBits = (a: Readonly<Record<string, Float64Array>>, b: Readonly<Record<string, Float64Array>>): boolean =>
  Object.keys(a).length === Object.keys(b).length &&
  Object.entries(a).every(([k, v]) => {
    const w = b[k]
    return w !== undefined && w.length === v.length && v.every((x, i) => Object.is(x, w[i]))
  })
