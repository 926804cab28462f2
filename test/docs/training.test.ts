/**
 * The examples of docs/training.md run here: the `// example: <name>` … `// end example` region
 * below is, dedented, the body of the ```ts block after `<!-- example: <name> -->` in the doc, with
 * the doc's imports checked against this file's (the convention of test/docs/compiled.test.ts).
 * The free names of the doc's blocks (`trainFeed`, `data`, `net`, `config`) are small values
 * made here, so the examples train a few steps in well under a second.
 */
import * as E from 'fp-ts/lib/Either.js'
import { drawRunError, key, st } from 'sbnkit'
import type { Feed } from 'sbnkit/interpreters'
import {
  adam, calibrationRows, drawRoutingError, drawTrainError, fanInScales, feedDataset, perParameterLr, presetNetwork, recalibrateMode, recipe,
  standardConfig, standardConfigFor, train,
} from 'sbnkit/train'
import { describe, expect, it, vi } from 'vitest'
import { docExamples, exampleAgainstTest } from './examples.js'

const examplesOfDoc = docExamples(new URL('../../docs/training.md', import.meta.url), import.meta.url)

/** `n` rows of `width` inputs in [0, 1) and labels in [0, classes), fixed by `seed`: a feed of x and y. */
const randomFeed = (seed: number, n: number, width: number, classes: number): Feed => {
  const unit = (i: number): number => { const v = Math.sin(seed * 7919 + i) * 43758.5453; return v - Math.floor(v) }
  return {
    x: { shape: [n, width], data: Float64Array.from({ length: n * width }, (_, i) => unit(i)) },
    y: { shape: [n], data: Float64Array.from({ length: n }, (_, i) => Math.floor(classes * unit(n * width + i))) },
  }
}

describe('docs/training.md examples', () => {
  it.each(['loop', 'standard', 'fan-in'])('example %s is the code tested here, with the same imports', (name) => {
    const { doc, test, missingImports } = exampleAgainstTest(examplesOfDoc, name)
    expect(doc).toBe(test)
    expect(missingImports).toEqual([])
  })

  it('loop: train() on feeds in memory, a log record per epoch', async () => {
    const trainFeed = randomFeed(10, 128, 6, 3)
    const validationFeed = randomFeed(20, 32, 6, 3)
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined)
    // example: loop
    const net = presetNetwork({ kind: 'mlp', hidden: [16] }, { inputShape: [6], classes: 3, key: key(0) })
    const md = recipe('md', 'adam')
    if (E.isLeft(net) || E.isLeft(md)) throw new Error('a valid preset and recipe')
    const data = { train: feedDataset(trainFeed), validation: feedDataset(validationFeed) } // feeds of x and y
    const r = await train(net.right, data, {
      estimator: st(), weightEstimator: st(), recipe: md.right, optimizer: adam(),
      lr: 0.01, schedule: { kind: 'constant' }, epochs: 10, batchSize: 64, seed: 0, ensemble: 16, patience: 3,
    }, { onLog: (record) => console.log(JSON.stringify(record)) })
    // E.isRight(r): r.right.net (inference mode, best parameters), r.right.test, r.right.state.history
    // end example
    const records = log.mock.calls.length
    log.mockRestore()
    if (E.isLeft(r)) throw new Error(drawTrainError(r.left, drawRunError, drawRoutingError))
    const epochs = r.right.state.history.length
    expect(epochs).toBeGreaterThanOrEqual(1)
    expect(epochs).toBeLessThanOrEqual(10)
    expect(records).toBeGreaterThanOrEqual(epochs)
  })

  it('standard: the whole standard recipe for a network, then the deployable mode network', async () => {
    // 16 epochs of one small minibatch each: the recipe's shape, not its accuracy.
    const data = { train: feedDataset(randomFeed(30, 64, 784, 10)) }
    // example: standard
    const net = presetNetwork({ kind: 'mlp', hidden: [256, 256] }, { inputShape: [784], classes: 10, batchNorm: true, key: key(0) })
    if (E.isLeft(net)) throw new Error('a valid preset')
    const config = standardConfigFor(net.right, { seed: 0 })   // Either<string, TrainConfig>
    if (E.isLeft(config)) throw new Error('a valid recipe')
    const r = await train(net.right, data, config.right)       // data: { train, validation?, test? } Datasets
    if (E.isLeft(r)) throw new Error(drawTrainError(r.left, drawRunError, drawRoutingError))
    const deployable = recalibrateMode(r.right.last, calibrationRows(data.train)) // Either<RunError, Checked<Network>>; 2000 fixed training rows
    // end example
    expect(config.right.optimizer.name).toMatch(/^perParameterLr\(adam/)
    expect(r.right.state.history).toHaveLength(16)
    expect(E.isRight(deployable)).toBe(true)
  })

  it('fan-in: the head\'s rate divided by √fan-in, as standardConfigFor does', () => {
    const made = presetNetwork({ kind: 'mlp', hidden: [64] }, { inputShape: [20], classes: 3, batchNorm: true, key: key(1) })
    const plain = standardConfig()
    if (E.isLeft(made) || E.isLeft(plain)) throw new Error('a valid preset and recipe')
    const net = made.right
    const config = plain.right
    // example: fan-in
    // net: a Checked<Network> (presetNetwork); config: standardConfig(…).right
    const scaled = { ...config, optimizer: perParameterLr(config.optimizer, fanInScales(net)) }
    // end example
    const whole = standardConfigFor(net)
    expect(E.isRight(whole) && whole.right.optimizer.name).toBe(scaled.optimizer.name)
    expect(Object.values(fanInScales(net))).toContain(1 / 8) // the head: fan-in 64
  })
})
