/**
 * CIFAR-10's binary version on small generated files in exactly its format (3073-byte records),
 * incl. truncated, mislabelled and missing files, and the VGG-small preset end to end on them:
 * loader, augmentation, training steps and evaluation.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { augmentedDataset } from '../../src/data/augment.js'
import { cifarHelp, cifarTestFile, cifarTrainFiles, encodeCifarRecords, readCifar10 } from '../../src/data/cifar.js'
import { drawDataError } from '../../src/data/dataErrors.js'
import { loadSplits } from '../../src/data/loaders.js'
import { key } from '../../src/dsl/random.js'
import { st } from '../../src/estimators/estimator.js'
import { imageDataset } from '../../src/train/evaluate.js'
import { train } from '../../src/train/loop.js'
import { adam } from '../../src/train/optimizers.js'
import { presetNetwork, vggPreset } from '../../src/train/presets.js'
import { recipe } from '../../src/train/recipes.js'
import { right } from '../train/loopFixtures.js'

let dir = ''
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sbnkit-cifar-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** Pixel j of record r of file f: a deterministic pattern. */
const pixels = (f: number, records: number): Uint8Array => Uint8Array.from({ length: records * 3072 }, (_, j) => (j * 7 + f * 31) % 256)

/** Writes the six files with `records` records each into DIR/cifar-10-batches-bin. */
const writeCifar = async (root: string, records = 2): Promise<string> => {
  const base = join(root, 'cifar-10-batches-bin')
  await mkdir(base, { recursive: true })
  const files = [...cifarTrainFiles, cifarTestFile]
  for (const [f, name] of files.entries()) {
    const labels = Array.from({ length: records }, (_, r) => (f * records + r) % 10)
    await writeFile(join(base, name), encodeCifarRecords(labels, pixels(f, records)))
  }
  return base
}

const problem = async (d: string | undefined, records: number | 'any' = 'any'): Promise<string> => {
  const r = await readCifar10(d, { records })
  return E.isLeft(r) ? drawDataError(r.left).replaceAll(dir, '<dir>') : 'read'
}

describe('readCifar10', () => {
  it('reads the five training files, then the test file; finds cifar-10-batches-bin under the given directory', async () => {
    const root = join(dir, 'ok')
    await writeCifar(root, 2)
    const r = await readCifar10(root, { records: 'any' })
    if (E.isLeft(r)) throw new Error(drawDataError(r.left))
    const { images, trainCount } = r.right
    expect([images.count, trainCount, images.channels, images.rows, images.cols]).toEqual([12, 10, 3, 32, 32])
    expect(Array.from(images.labels)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1])
    // Record 1 of data_batch_2: its 3072 bytes after the label, red plane first.
    expect(Array.from(images.pixels.subarray(3 * 3072, 3 * 3072 + 4))).toEqual(Array.from(pixels(1, 2).subarray(3072, 3076)))
    expect(E.isRight(await readCifar10(join(root, 'cifar-10-batches-bin'), { records: 'any' }))).toBe(true)
  })
  it('an absent directory or file says where CIFAR-10 comes from and what the directory must hold', async () => {
    expect(await problem(undefined)).toBe(`dataDir: cifar10 needs a data directory; ${cifarHelp}`)
    expect(await problem(join(dir, 'nowhere'))).toBe(`<dir>/nowhere/cifar-10-batches-bin/data_batch_1.bin: cannot read the file (no such file or directory; ${cifarHelp})`)
    expect(cifarHelp).toContain('https://www.cs.toronto.edu/~kriz/cifar.html')
    expect(cifarHelp).toContain('data_batch_1.bin, data_batch_2.bin, data_batch_3.bin, data_batch_4.bin, data_batch_5.bin and test_batch.bin, each 10000 records of 3073 bytes')
  })
  it('a truncated file, a bad label or the wrong record count is an error naming the file', async () => {
    const root = join(dir, 'bad')
    const base = await writeCifar(root, 2)
    const file = join(base, 'data_batch_3.bin')
    await writeFile(file, encodeCifarRecords([1, 2], pixels(0, 2)).subarray(0, 5000))
    expect(await problem(root)).toBe(`<dir>/bad/cifar-10-batches-bin/data_batch_3.bin: (root): 5000 bytes, expected a whole number (≥ 1) of 3073-byte records (truncated?); ${cifarHelp}`)
    await writeFile(file, encodeCifarRecords([1, 12], pixels(0, 2)))
    expect(await problem(root)).toBe(`<dir>/bad/cifar-10-batches-bin/data_batch_3.bin: (root): record 1 (byte 3073) has label 12, expected 0..9; ${cifarHelp}`)
    await writeFile(file, encodeCifarRecords([1, 2], pixels(0, 2)))
    expect(await problem(root, 10000)).toBe(`<dir>/bad/cifar-10-batches-bin/data_batch_1.bin: (root): 6146 bytes, expected 30730000 (10000 records of 3073 bytes) (truncated?); ${cifarHelp}`)
    expect(await problem(root)).toBe('read')
  })
})

describe('VGG-small on CIFAR-10 files, end to end', () => {
  it('loads, splits, augments, trains two steps and evaluates mode and ensemble', async () => {
    const root = join(dir, 'e2e')
    await writeCifar(root, 4)
    const sp = await loadSplits('cifar10', { dataDir: root, records: 'any', validation: 4 })
    if (E.isLeft(sp)) throw new Error(drawDataError(sp.left))
    expect([sp.right.train.count, sp.right.validation.count, sp.right.test.count]).toEqual([16, 4, 4])
    const opts = { scale: 'pm1', layout: 'nchw' } as const
    const data = {
      train: augmentedDataset(sp.right.train, opts, { pad: 4, flip: true }),
      validation: imageDataset(sp.right.validation, opts),
      test: imageDataset(sp.right.test, opts),
    }
    expect(data.train.rows([0, 1], key(1))['x']!.shape).toEqual([2, 3, 32, 32])
    const net = right(presetNetwork(vggPreset('vgg-small', 1 / 32), { inputShape: [3, 32, 32], classes: 10, key: key(0), batchNorm: true }))
    const config = {
      estimator: st(), weightEstimator: st(), recipe: right(recipe('md', 'adam')), optimizer: adam(), lr: 0.01,
      schedule: { kind: 'constant' } as const, epochs: 1, batchSize: 8, seed: 0, ensemble: 2, logEvery: 0,
    }
    const r = await train(net, data, config)
    if (E.isLeft(r)) throw new Error(JSON.stringify(r.left))
    expect(r.right.state.globalStep).toBe(2)
    expect(r.right.test?.examples).toBe(4)
    expect(Number.isFinite(r.right.test?.mode.loss)).toBe(true)
  }, 120_000)
})
