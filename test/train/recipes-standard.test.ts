/**
 * The standard recipe (src/train/standard.ts): one source for `sbnkit train`'s defaults, `npm
 * start` and the experiments' npm-start rows; its configuration trains and its mode network is
 * re-estimated.
 */
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { defaults } from '../../src/cli/trainSetup.js'
import { START_BATCH, START_EPOCHS, START_LR } from '../../src/cli/start.js'
import { recalibrateMode } from '../../src/train/calibrate.js'
import { train } from '../../src/train/loop.js'
import { STANDARD_RECIPE, standardConfig } from '../../src/train/standard.js'
import { feedDataset } from '../../src/train/evaluate.js'
import { presetNetwork, vggPreset } from '../../src/train/presets.js'
import { fillUnit, key } from '../../src/dsl/random.js'
import { right, task, tinyData, tinyNet } from './loopFixtures.js'

/** n random 28×28 images in [−1, 1] with labels 0…9. */
const images = (n: number, seed: number) => ({
  x: { shape: [n, 1, 28, 28], data: fillUnit(key(seed), 0, new Float64Array(n * 784)).map((u) => 2 * u - 1) },
  y: { shape: [n], data: Float64Array.from({ length: n }, (_, i) => i % 10) },
})

describe('the standard recipe', () => {
  it('is the default of sbnkit train (md, st, adam, lr 0.2 cosine, batch 256, 16 epochs, batch norm) and npm start\'s budget', () => {
    expect(defaults('md')).toMatchObject({
      recipe: 'md', optimizer: 'adam', estimator: 'st', weightEstimator: 'st', lr: 0.2, schedule: 'cosine', batch: 256, epochs: 16, batchNorm: true,
    })
    expect([START_BATCH, START_EPOCHS, START_LR]).toEqual([STANDARD_RECIPE.batch, STANDARD_RECIPE.epochs, STANDARD_RECIPE.lr])
  })

  it('keeps each recipe\'s own needs: bnn with deterministic hardtanh ST, bop with SGD at a constant 0.01', () => {
    expect(defaults('bnn')).toMatchObject({ estimator: 'det:hardtanh', optimizer: 'adam', lr: 0.2, batch: 256 })
    expect(defaults('bop')).toMatchObject({ optimizer: 'sgd', lr: 0.01, schedule: 'constant', batch: 256 })
  })

  it('standardConfig builds the TrainConfig of the recipe, with overrides', () => {
    const c = right(standardConfig({ seed: 3, epochs: 2 }))
    expect(c).toMatchObject({ lr: 0.2, batchSize: 256, epochs: 2, seed: 3, ensemble: 16, schedule: { kind: 'cosine' } })
    expect(c.recipe.name).toBe('md')
    expect(c.estimator.label).toBe('st')
  })

  it('trains a batch-norm network for a few steps, and its mode network is re-estimated', async () => {
    const net = tinyNet({ kind: 'mlp', hidden: [5] }, true)
    const r = await train(net, tinyData(), right(standardConfig({ batchSize: 16, epochs: 2, ensemble: 2 })))
    expect(E.isRight(r)).toBe(true)
    if (E.isLeft(r)) return
    expect(r.right.state.history.map((h) => h.epoch)).toEqual([1, 2])
    const mode = right(recalibrateMode(r.right.last, task(32)))
    expect(Object.keys(mode.params).sort()).toEqual(Object.keys(r.right.last.params).sort())
  })

  it('the conv preset for 28×28 images (vgg-mnist, the experiments\' conv row) typechecks and trains a step with it', async () => {
    const net = right(presetNetwork(vggPreset('vgg-mnist', 1 / 8), { inputShape: [1, 28, 28], classes: 10, batchNorm: true, key: key(5) }))
    const r = await train(net, { train: feedDataset(images(8, 1)), validation: feedDataset(images(4, 2)) }, right(standardConfig({ batchSize: 8, epochs: 1, ensemble: 1 })))
    expect(E.isRight(r) && r.right.state.globalStep).toBe(1)
    if (E.isLeft(r)) return
    expect(E.isRight(recalibrateMode(r.right.last, images(8, 3)))).toBe(true)
  })
})
